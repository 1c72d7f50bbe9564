import ArgumentParser
import Bundles
import Foundation
import Imputation
import MLFluxCore
import MLFluxOutput
import NeuralNetworks
import SafeIO

/// `evaluate` on partial measurements: hide MIDs of every held-out pattern (optionally add
/// noise to the rest), complete them with an imputer, and report the imputation error before
/// the predictor's flux accuracy.
struct MaskingOptions: ParsableArguments {
    @Option(help: "Imputer completing the masked patterns: \(StrategyRegistry.known(.imputer).joined(separator: ", ")).") var imputer: String?
    @Option(help: "Tracer experiments kept per pattern, N or LOW-HIGH (masking; default 1 with --imputer).") var keepExperiments: String?
    @Option(help: "Share of metabolites measured in each kept experiment, F or LOW-HIGH (masking; default 0.1-1).") var keepMetabolites: String?
    @Option(help: "σ of Gaussian noise on the measured entries of the masked patterns (0: exact).") var noise: Double = 0
    @Option(help: "Seed of the masks and the noise.") var maskSeed: UInt64 = 1

    /// Whether any pattern is masked.
    var isActive: Bool { imputer != nil || keepExperiments != nil || keepMetabolites != nil }

    func validate() throws {
        try OptionCheck.number(noise, "--noise", in: 0...0.2, "σ of a MID fraction")
        _ = try sampler()
    }

    func sampler() throws -> MaskSampler {
        func range(_ text: String, _ option: String) throws -> (Double, Double) {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil && $0!.isFinite }) else {
                throw ValidationError("\(option) must be a number or LOW-HIGH, not '\(text)'")
            }
            let lo = parts[0]!, hi = parts.last!!
            guard lo <= hi else { throw ValidationError("\(option) \(text): LOW must not exceed HIGH") }
            return (lo, hi)
        }
        let (e0, e1) = try range(keepExperiments ?? "1", "--keep-experiments")
        guard e0 >= 1, e0 == e0.rounded(), e1 == e1.rounded(), e1 <= 4096 else {
            throw ValidationError("--keep-experiments must be whole numbers from 1, not '\(keepExperiments ?? "")'")
        }
        let (m0, m1) = try range(keepMetabolites ?? "0.1-1", "--keep-metabolites")
        guard m0 >= 0, m1 <= 1 else { throw ValidationError("--keep-metabolites must lie in 0…1, not '\(keepMetabolites ?? "")'") }
        return MaskSampler(experiments: Int(e0)...Int(e1), metabolites: m0...m1)
    }

    struct Masked {
        /// What the predictor gets per pattern (completed when an imputer ran).
        var rows: [MeasuredLabeling]
        /// Per pattern, `true` at imputed entries (all `false` without an imputer).
        var imputed: [[Bool]]
        /// What was measured per pattern (masked entries NaN), before imputation.
        var measured: [MeasuredLabeling]
    }

    /// The masked, possibly noisy and imputed patterns; `nil` when nothing is masked. Prints the
    /// imputation summary and writes `imputation-<label>.json` into the bundle's reports/
    /// (`inPlace`) or into `outFolder`, else nowhere (a shipped bundle is left alone).
    func inputs(_ patterns: Matrix, bundle: ModelBundle, label: String, dataPath: String,
                inPlace: Bool, outFolder: String?, force: Bool,
                say: (String) -> Void = { print($0) }) throws -> Masked? {
        guard isActive else { return nil }
        let s = try sampler()
        guard let imputer else {
            let rows = ImputationEvaluation.maskedInputs(patterns: patterns, layout: bundle.layout, sampler: s, noise: noise, seed: maskSeed).inputs
            return Masked(rows: rows, imputed: rows.map { _ in [Bool](repeating: false, count: bundle.layout.count) }, measured: rows)
        }
        let name = "imputation-\(label).json"
        let reportPath: String? = inPlace ? try bundle.outputPath("reports/" + name, create: false)
            : outFolder.map { ($0 as NSString).appendingPathComponent(name) }
        if let reportPath, !inPlace { try OutputFile.check(reportPath, force: force, inputs: []) }
        let imp = try StrategyRegistry.imputer(imputer, bundle: bundle)
        let ev = try ImputationEvaluation.run(imp, patterns: patterns, sampler: s, noise: noise, seed: maskSeed)
        let summary: [String: Double] = [
            "mae": ev.meanAbsoluteError, "medianPatternMAE": ev.medianPatternMAE, "p95PatternMAE": ev.p95PatternMAE,
            "measuredNoiseMAE": ev.measuredNoiseMAE, "hiddenShare": ev.hiddenShare,
            "hiddenShareMin": ev.hiddenShareRange.lowerBound, "hiddenShareMax": ev.hiddenShareRange.upperBound,
            "maxSumDeviation": ev.maxSumDeviation, "secondsPerSingle": ev.secondsPerSingle,
            "secondsPerBatched": ev.secondsPerBatched, "patterns": Double(ev.patterns), "noise": noise,
            "keepExperimentsLow": Double(s.experiments.lowerBound), "keepExperimentsHigh": Double(s.experiments.upperBound),
            "keepMetabolitesLow": s.metabolites.lowerBound, "keepMetabolitesHigh": s.metabolites.upperBound,
        ]
        struct Report: Encodable { var imputer: String; var data: String; var metrics: [String: Double] }
        if let reportPath {
            if inPlace { _ = try bundle.outputPath("reports/" + name) }
            else if let outFolder {
                do { try FileManager.default.createDirectory(atPath: outFolder, withIntermediateDirectories: true) }
                catch { throw OutputError(file: outFolder, reason: "cannot create the folder: \(Excerpt.reason(error))") }
            }
            try OutputFile.write(try JSONOutput.data(Report(imputer: imputer, data: dataPath, metrics: summary)), to: reportPath)
        }
        say(String(format: "imputer %@: %d patterns, %.1f%% of entries hidden (%.0f–%.0f%%), noise σ %.4g; imputation MAE %.5f (median pattern %.5f, p95 %.5f; noise on measured entries %.5f); %.1f µs per pattern alone, %.1f µs batched",
                     imputer, ev.patterns, 100 * ev.hiddenShare, 100 * ev.hiddenShareRange.lowerBound, 100 * ev.hiddenShareRange.upperBound,
                     noise, ev.meanAbsoluteError, ev.medianPatternMAE, ev.p95PatternMAE, ev.measuredNoiseMAE,
                     ev.secondsPerSingle * 1e6, ev.secondsPerBatched * 1e6))
        if let reportPath { say("wrote \(reportPath)") }
        return Masked(rows: ev.outputs.map(\.complete), imputed: ev.outputs.map(\.imputed), measured: ev.inputs)
    }
}
