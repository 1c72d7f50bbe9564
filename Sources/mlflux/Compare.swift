import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
import Prediction
import SafeIO

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Several predictors on the same MIDs: fluxes, VSSR, χ² verdict and wall time side by side.",
        discussion: """
            INPUT.csv as for `mlflux predict`. Prints every net flux and the exchange flux of every \
            bidirectional reaction per predictor as value ± 1.96·SE, then per predictor the VSSR \
            of its fluxes (one σ for all: the stddev column, else --stddev), the χ² test and the \
            wall time; with --truth FLUXES.json also each predictor's error per flux, the largest \
            net flux error and the median relative exchange flux error. The hybrid never reports \
            a worse VSSR than the ANN's own prediction: where its polish ends worse, the ANN's \
            prediction is kept and the output says so.
            """)

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Comma-separated predictors: \(StrategyRegistry.known(.predictor).joined(separator: ", ")).") var predictors: String = "ann,mfa,hybrid"
    @Argument(help: "Measured MIDs (long-form CSV).") var input: String
    @Option(help: "True flux state (JSON {\"REACTION\": {\"net\": x, \"xch\": y}}): report each predictor's errors.") var truth: String?
    @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table
    @Option(help: "Write the output to this file instead of standard output (never an input).") var out: String?
    @Flag(help: "Replace an existing --out file.") var force = false
    @Option(help: "Imputer for missing MIDs: \(StrategyRegistry.known(.imputer).joined(separator: ", ")) (default: the bundle's default imputer). It completes the input of predictors that need complete labeling and starts the hybrid's ANN; every fit is judged on the measured entries only.") var imputer: String?
    @OptionGroup var measurement: MeasurementOptions

    /// `--predictors` as a list: known names, each once.
    var predictorNames: [String] {
        predictors.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func validate() throws {
        let names = predictorNames
        if let bad = names.first(where: { !StrategyRegistry.known(.predictor).contains($0) }) {
            throw ValidationError("--predictors: " + UnknownStrategyError(kind: "predictor", name: bad, known: StrategyRegistry.known(.predictor)).description)
        }
        if let twice = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw ValidationError("--predictors names '\(twice)' twice")
        }
        if measurement.table.replicates == .predict {
            throw ValidationError("--replicates predict is `mlflux predict`'s; compare predicts from the replicates' mean MIDs (--replicates average)")
        }
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        let inputs = [input] + (truth.map { [$0] } ?? []) + (measurement.measuredFluxes.map { [$0] } ?? []) + measurement.table.files
        if let out { try OutputFile.check(out, force: force, inputs: inputs) }
        let trueState = try truth.map { try FluxStateFile.read(contentsOf: $0, network: bundle.network) }
        let samples = try measurement.readSamples(input, bundle: bundle)
        var options = try measurement.registryOptions(for: bundle)
        options.imputer = imputer
        // One comparison per sample (a table with a `sample` column naming several).
        let texts = try samples.map { sample, measured in
            try compareText(measured, input: LabelingTableOptions.name(input, sample: sample), bundle: bundle,
                            options: options, truth: trueState)
        }
        let text = samples.count == 1 ? texts[0] : Predict.combine(texts, samples: samples.map(\.sample), format: format)
        try CommandOutput.emit(text, out: out, force: force, inputs: inputs)
    }
}

extension Compare {
    /// The comparison of one measurement, formatted; errors name `input`.
    func compareText(_ measured: MeasuredLabeling, input: String, bundle: ModelBundle,
                     options: StrategyRegistry.Options, truth trueState: FluxState?) throws -> String {
        let names = predictorNames
        if names.contains(where: { $0 != "ann" }),
           let mfa = try StrategyRegistry.predictor("mfa", bundle: bundle, options: options) as? any LeastSquaresBacked {
            do { try mfa.mfa.check(measured) } catch { throw CLIError("\(input): \(error)") }
            if names.contains("mfa") {
                do { try mfa.mfa.checkDetermined(measured) } catch { throw CLIError("\(input): \(error)") }
            }
        }
        let comparison: PredictorComparison
        do {
            comparison = try PredictorComparison(bundle: bundle, measured: measured, predictors: names,
                                                 options: options, truth: trueState)
        } catch let e as FitError {
            throw CLIError("\(input): \(e)")
        } catch let e as IncompleteLabelingError {
            throw CLIError("\(input): \(e)")
        }
        switch format {
        case .table: return ComparisonOutput.table(comparison, input: input)
        case .csv: return ComparisonOutput.csv(comparison)
        case .json: return try ComparisonOutput.json(comparison, input: input)
        }
    }
}

/// Formats of `mlflux compare`.
enum ComparisonOutput {
    static let num = PredictionOutput.num

    /// Rows of the comparison: every reaction's net flux, then the exchange flux of every
    /// bidirectional reaction.
    static func rows(_ network: MetabolicNetwork) -> [(reaction: Int, kind: String)] {
        network.reactions.indices.map { ($0, "net") }
            + network.reactions.indices.filter { network.isBidirectional[$0] }.map { ($0, "xch") }
    }

    static func value(_ p: FluxPrediction, _ r: Int, _ kind: String) -> (value: Double, se: Double) {
        kind == "net" ? (p.net[r], p.netSE[r]) : (p.exchange[r], p.exchangeSE[r])
    }

    static func truthValue(_ t: FluxState, _ r: Int, _ kind: String) -> Double { kind == "net" ? t.net[r] : t.exchange[r] }

    static func error(_ e: PredictorComparison.FluxErrors, _ r: Int, _ kind: String) -> Double {
        kind == "net" ? e.net[r] : e.exchange[r]
    }

    /// "value ± 1.96·SE"; an undetermined flux (infinite SE) "± inf", one without an SE (NaN) "± ?".
    static func interval(_ v: Double, _ se: Double) -> String {
        let value = v.isNaN ? "nan" : String(format: "%.4g", v)
        let half = 1.96 * se
        if half.isNaN { return value + " ± ?" }
        if half.isInfinite { return value + " ± inf" }
        return value + String(format: " ± %.2g", half)
    }

    static func verdict(_ c: ChiSquaredTest) -> String {
        if c.passes { return "pass" }
        return c.vssr > c.upper ? "FAIL (above)" : "FAIL (below)"
    }

    static func table(_ c: PredictorComparison, input: String) -> String {
        let network = c.network
        var out = "\(c.model): \(input); fluxes as value ± 1.96·SE (95 % interval); σ \(num(c.defaultStddev)) for entries without stddev\n\n"
        var header = ["FLUX", "KIND"] + c.results.map { r in r.imputer.map { "\(r.predictor) (\($0))" } ?? r.predictor }
        if c.truth != nil { header.append("TRUTH") }
        var lines = [header]
        for (r, kind) in rows(network) {
            var row = [network.reactions[r].id, kind]
            for result in c.results {
                let (v, se) = value(result.prediction, r, kind)
                row.append(interval(v, se))
            }
            if let t = c.truth { row.append(String(format: "%.4g", truthValue(t, r, kind))) }
            lines.append(row)
        }
        out += TextTable.render(lines, rightAligned: Set(2..<header.count)) + "\n"

        if c.truth != nil {
            var errors = [["ERROR", "KIND"] + c.results.map(\.predictor)]
            for (r, kind) in rows(network) {
                errors.append([network.reactions[r].id, kind] + c.results.map { result in
                    result.errors.map { e in error(e, r, kind).isNaN ? "nan" : String(format: "%.3g", error(e, r, kind)) } ?? ""
                })
            }
            out += "\nerrors (predicted − true):\n" + TextTable.render(errors, rightAligned: Set(2..<errors[0].count)) + "\n"
        }

        var summaryHeader = ["PREDICTOR", "VSSR", "DOF", "χ² 95 % RANGE", "χ² TEST", "SECONDS"]
        if c.truth != nil { summaryHeader += ["MAX |ERR| NET", "MEDIAN REL ERR XCH"] }
        var summary = [summaryHeader]
        for result in c.results {
            var row = [result.predictor]
            if let chi = result.fit?.chiSquared {
                row += [String(format: "%.4g", chi.vssr), "\(chi.degreesOfFreedom)",
                        String(format: "[%.4g, %.4g]", chi.lower, chi.upper), verdict(chi)]
            } else {
                row += ["", "", "", ""]
            }
            row.append(String(format: "%.3f", result.seconds))
            if let e = result.errors {
                row += [String(format: "%.3g", e.maxAbsNet), e.medianRelativeExchange.map { String(format: "%.3g", $0) } ?? "–"]
            }
            summary.append(row)
        }
        out += "\n" + TextTable.render(summary, rightAligned: Set([1, 2, 5, 6, 7])) + "\n"
        for result in c.results {
            if let failure = result.fitFailure {
                out += "\n\(result.predictor): its fluxes cannot be simulated, no VSSR: \(failure)\n"
            }
        }
        for result in c.results where result.keptANNPrediction {
            out += "\n\(result.predictor): the least-squares polish ended with a worse VSSR than the ANN's own prediction; the ANN's prediction is reported\n"
        }
        if c.truth != nil, c.results.contains(where: { $0.errors?.medianRelativeExchange == nil }) {
            out += "\n(no true exchange flux above 0: no relative exchange error)\n"
        }
        return out
    }

    static func csv(_ c: PredictorComparison) -> String {
        var out = "flux,kind,predictor,value,stderr,truth,error\n"
        for (r, kind) in rows(c.network) {
            for result in c.results {
                let (v, se) = value(result.prediction, r, kind)
                let t = c.truth.map { num(truthValue($0, r, kind)) } ?? ""
                let e = result.errors.map { num(error($0, r, kind)) } ?? ""
                out += "\(c.network.reactions[r].id),\(kind),\(result.predictor),\(num(v)),\(num(se)),\(t),\(e)\n"
            }
        }
        return out
    }

    static func json(_ c: PredictorComparison, input: String) throws -> String {
        struct Flux: Encodable { var net: Double; var netSE: Double; var xch: Double?; var xchSE: Double? }
        struct Errors: Encodable {
            var net: [String: Double]; var xch: [String: Double]
            var maxAbsNet: Double; var medianRelativeExchange: Double?
        }
        struct Predictor: Encodable {
            var fluxes: [String: Flux]
            var ssr: Double?
            /// VSSR with every measured entry weighted (σ from the input, else the default).
            var vssr: Double?
            var chiSquared: ChiSquaredTest?
            /// Why the fluxes could not be re-simulated (no ssr, vssr, chiSquared then).
            var fitFailure: String?
            var seconds: Double
            var keptANNPrediction: Bool
            var starts: Int?
            var errors: Errors?
            /// The imputer that completed its input (the hybrid: its ANN start).
            var imputer: String?
        }
        struct TrueFlux: Encodable { var net: Double; var xch: Double? }
        struct Out: Encodable {
            var model: String; var input: String; var defaultStddev: Double
            var order: [String]; var predictors: [String: Predictor]; var truth: [String: TrueFlux]?
        }
        let network = c.network
        var predictors: [String: Predictor] = [:]
        for result in c.results {
            let p = result.prediction
            let errors = result.errors.map { e in
                Errors(net: Dictionary(uniqueKeysWithValues: network.reactions.enumerated().map { ($1.id, e.net[$0]) }),
                       xch: Dictionary(uniqueKeysWithValues: network.reactions.indices.filter { network.isBidirectional[$0] }
                           .map { (network.reactions[$0].id, e.exchange[$0]) }),
                       maxAbsNet: e.maxAbsNet, medianRelativeExchange: e.medianRelativeExchange)
            }
            predictors[result.predictor] = Predictor(
                fluxes: Dictionary(uniqueKeysWithValues: network.reactions.enumerated().map { r, reaction in
                    let bi = network.isBidirectional[r]
                    return (reaction.id, Flux(net: p.net[r], netSE: p.netSE[r], xch: bi ? p.exchange[r] : nil,
                                              xchSE: bi ? p.exchangeSE[r] : nil))
                }),
                ssr: result.fit?.ssr, vssr: result.fit?.chiSquared?.vssr,
                chiSquared: result.fit?.chiSquared, fitFailure: result.fitFailure, seconds: result.seconds,
                keptANNPrediction: result.keptANNPrediction, starts: result.fit?.starts?.count, errors: errors,
                imputer: result.imputer)
        }
        let truth = c.truth.map { t in
            Dictionary(uniqueKeysWithValues: network.reactions.enumerated().map { r, reaction in
                (reaction.id, TrueFlux(net: t.net[r], xch: network.isBidirectional[r] ? t.exchange[r] : nil))
            })
        }
        return try JSONOutput.string(Out(model: c.model, input: input, defaultStddev: c.defaultStddev,
                                         order: c.results.map(\.predictor), predictors: predictors, truth: truth)) + "\n"
    }
}
