import ArgumentParser
import Bundles
import Dispatch
import Foundation
import FluxSampling
import MLFluxCore
import MLFluxOutput
import Prediction

/// `mlflux bench accuracy` (hidden): the ML-Flux paper's comparison (Fig. 6a, Extended Data
/// Fig. 8b): on noisy simulated test cases, how often is the ANN more accurate than least
/// squares, and how long does each take (issue 13, item 6).
struct BenchAccuracy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accuracy",
        abstract: "ANN against least squares (and the hybrid) on noisy simulated test cases: share more accurate, wall time.",
        discussion: """
            Draws --cases flux states with the bundle's flux-space sampler (--exchange sampling, \
            --seed), simulates their MIDs, adds Gaussian noise of σ --noise to every entry, clips \
            at 0 and renormalises each MID (a lab's MIDs sum to 1), then predicts with each \
            predictor (least squares with --starts polytope starts and σ = --noise). Accuracy per \
            case, as in the paper: the sum of squared errors of the net fluxes against the truth \
            (SSR), each error divided by the range the constraints allow that flux (so fluxes \
            of 1000 do not drown those of 1); also of every free flux with exchange fluxes in \
            log10. Cases run on --threads workers, one thread each; wall times are per case.
            """,
        shouldDisplay: false)

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Test cases.") var cases: Int = 100
    @Option(help: "σ of the noise added to every MID entry (also the σ least squares weights with).") var noise: Double = 0.01
    @Option(help: "Exchange-flux sampling of the test states: uniform or log-uniform.") var exchange: String = "uniform"
    @Option(help: "Predictors to compare with the ANN (comma-separated).") var predictors: String = "mfa"
    @Option(help: "Least squares: polytope starts per case.") var starts: Int = 5
    @Option(help: "Seed of states and noise (use one the training data did not).") var seed: UInt64 = 7001
    @Option(help: "Worker threads (one case each).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func validate() throws {
        try OptionCheck.count(cases, "--cases", in: 1...100_000)
        try OptionCheck.number(noise, "--noise", in: 0...0.5)
        try OptionCheck.count(starts, "--starts", in: 1...1000)
        try OptionCheck.threads(threads)
        guard SamplerSettings.ExchangeMethod(rawValue: exchange) != nil else {
            throw ValidationError("unknown --exchange '\(exchange)' (known: \(SamplerSettings.ExchangeMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard format != .csv else { throw ValidationError("bench accuracy supports --format table or json") }
    }

    struct PredictorSummary: Encodable {
        var predictor: String
        var failures: Int
        var medianNetSSR: Double
        var medianFreeSSR: Double
        var medianSeconds: Double
        var annMoreAccurateNet: Double
        var annMoreAccurateFree: Double
    }

    struct Report: Encodable {
        var model: String
        var build: String
        var cases: Int
        var noise: Double
        var exchange: String
        var seed: UInt64
        var starts: Int
        var ann: PredictorSummary
        var others: [PredictorSummary]
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        var settings = SamplerSettings.automatic(for: bundle.basis)
        settings.exchange = SamplerSettings.ExchangeMethod(rawValue: exchange)!
        let sampler = try FluxSpaceSampler(network: bundle.network, basis: bundle.basis, settings: settings)
        var rng = SplitMix64(seed: seed)
        let states = sampler.sample(count: cases, using: &rng)
        var options = StrategyRegistry.Options()
        options.starts = starts
        options.threads = 1
        options.measurementStddev = noise > 0 ? noise : nil
        let names = ["ann"] + predictors.split(separator: ",").map(String.init).filter { $0 != "ann" }
        let built = try names.map { try StrategyRegistry.predictor($0, bundle: bundle, options: options) }
        let simulator = try bundle.simulator()
        let layout = bundle.layout, basis = bundle.basis
        let noise = self.noise, seed = self.seed
        let netFree = (0..<basis.freeNet.count).filter { basis.fixed[$0] == nil }
        let xchFree = (basis.freeNet.count..<basis.count).filter { basis.fixed[$0] == nil }
        // Each net flux's span over the flux polytope (1 where it is fixed).
        let span = bundle.network.reactions.indices.map { r -> Double in
            let (lo, hi) = sampler.range(of: [IndexedFluxTerm(reaction: r, coefficient: 1)], kind: .net)
            return hi - lo > 1e-12 && (hi - lo).isFinite ? hi - lo : 1
        }
        // Per case and predictor: (net SSR, free SSR, seconds), nil when it failed.
        let results = ParallelRows.map(count: cases, threads: threads) { i -> [(Double, Double, Double)?] in
            let truth = basis.fluxState(free: states[i])
            guard let clean = try? simulator.simulate(truth).values else { return names.map { _ in nil } }
            var r = SplitMix64(seed: seed &+ 0x5EED &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            let v = NoisyMIDs.perturb(clean, layout: layout, sd: noise, using: &r)
            let measured = MeasuredLabeling(layout: layout, values: v,
                                            stddev: [Double](repeating: noise > 0 ? noise : .nan, count: v.count),
                                            mask: [Bool](repeating: true, count: v.count))
            return built.map { p in
                let clock = DispatchTime.now().uptimeNanoseconds
                guard let pred = try? p.predict(measured: measured) else { return nil }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9
                var net = 0.0
                for r in span.indices { net += pow((pred.net[r] - truth.net[r]) / span[r], 2) }
                var free = netFree.reduce(0.0) { $0 + pow(pred.free[$1] - states[i][$1], 2) }
                free += xchFree.reduce(0.0) {
                    $0 + pow(log10(max(pred.free[$1], 1e-7)) - log10(max(states[i][$1], 1e-7)), 2)
                }
                return (net, free, seconds)
            }
        }
        let rows: [[(Double, Double, Double)?]] = results.map { (try? $0.get()) ?? names.map { _ in nil } }
        func median(_ x: [Double]) -> Double {
            let s = x.sorted()
            return s.isEmpty ? .nan : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        func summary(_ j: Int) -> PredictorSummary {
            let mine = rows.map { $0[j] }
            // The ANN is more accurate where its error is smaller, or where the other failed and it did not.
            func share(_ key: ((Double, Double, Double)) -> Double) -> Double {
                let wins = rows.filter { row in
                    guard let a = row[0] else { return false }
                    guard let o = row[j] else { return true }
                    return key(a) < key(o)
                }.count
                return Double(wins) / Double(max(rows.count, 1))
            }
            return PredictorSummary(predictor: names[j], failures: mine.filter { $0 == nil }.count,
                                    medianNetSSR: median(mine.compactMap { $0?.0 }), medianFreeSSR: median(mine.compactMap { $0?.1 }),
                                    medianSeconds: median(mine.compactMap { $0?.2 }),
                                    annMoreAccurateNet: j == 0 ? .nan : share { $0.0 }, annMoreAccurateFree: j == 0 ? .nan : share { $0.1 })
        }
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        let report = Report(model: bundle.name, build: build, cases: cases, noise: noise, exchange: exchange, seed: seed,
                            starts: starts, ann: summary(0), others: (1..<names.count).map(summary))
        if format == .json { print(try JSONOutput.string(report)); return }
        print("model \(report.model): \(cases) noisy cases (σ \(noise), exchange \(exchange), seed \(seed)), \(build) build; least squares \(starts) starts, one thread per case")
        var table = [["PREDICTOR", "FAILED", "MEDIAN NET SSR (/span)", "MEDIAN FREE SSR (xch log10)", "MEDIAN s/CASE", "ANN MORE ACCURATE (NET)", "(FREE)"]]
        for s in [report.ann] + report.others {
            table.append([s.predictor, "\(s.failures)", PredictionOutput.num(s.medianNetSSR), PredictionOutput.num(s.medianFreeSSR),
                          String(format: "%.4f", s.medianSeconds),
                          s.annMoreAccurateNet.isNaN ? "" : String(format: "%.1f %%", 100 * s.annMoreAccurateNet),
                          s.annMoreAccurateFree.isNaN ? "" : String(format: "%.1f %%", 100 * s.annMoreAccurateFree)])
        }
        print(TextTable.render(table, rightAligned: Set(1..<7)))
    }
}

/// A lab's measurement error on simulated MIDs: Gaussian σ per entry, clipped at 0, each MID
/// renormalised to sum 1.
enum NoisyMIDs {
    static func perturb(_ clean: [Double], layout: LabelingLayout, sd: Double, using rng: inout SplitMix64) -> [Double] {
        var v = clean.map { max($0 + sd * rng.nextGaussian(), 0) }
        for e in layout.experimentIDs.indices {
            for (f, n) in layout.isotopologues.enumerated() {
                let s = e * layout.blockSize + layout.offsets[f]
                let total = v[s..<(s + n)].reduce(0, +)
                for k in s..<(s + n) { v[k] = total > 0 ? v[k] / total : 1 / Double(n) }
            }
        }
        return v
    }
}
