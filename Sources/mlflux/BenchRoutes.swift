import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
import NeuralNetworks
import Prediction
import SafeIO

/// `mlflux bench routes` (hidden): the three ways from partial measurements to fluxes, on the
/// same masked (and possibly noisy) held-out patterns (issue 15, item 7): imputer → ANN,
/// least squares on the measured entries only (`mfa`), and the hybrid started from
/// imputer → ANN but fitted to the measured entries only. Accuracy by masked share.
struct BenchRoutes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "Imputer → ANN against least squares and the hybrid on the measured entries only, by masked share.",
        discussion: """
            Masks every held-out pattern of --data (--keep-experiments, --keep-metabolites, \
            --mask-seed; noise σ --noise on the measured entries), imputes once, and predicts \
            with each route. Per route and per band of the hidden share: the share of states \
            whose net fluxes are all within 5 % (or 0.005 absolute; --exclude leaves some out), \
            the median relative error of the net fluxes, and the median relative error of the \
            exchange fluxes named by --focus. Least squares weights the measured entries with \
            σ = --noise (or their Float32 storage resolution when exact). --svg writes the \
            all-net-within-5 % share against the hidden share, one line per route. \
            With --focus, also the Cramér–Rao bound of each focus exchange flux at the true state \
            from the measured entries only (σ = --crlb-noise per entry): per band the share of \
            states where the flux is not identifiable and the median relative bound; with the \
            flux space's bounds as a prior, the median bound and the share of states within \
            --target at that σ; the share within --target for exact data from the entries alone; \
            and each route's median error on those states.
            """,
        shouldDisplay: false)

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Dataset folder of held-out states.") var data: String
    @OptionGroup var masking: MaskingOptions
    @Option(help: "Routes, comma-separated: ann (imputer → ANN), mfa (measured entries only), hybrid (imputer → ANN start, measured entries only).") var routes: String = "ann,mfa,hybrid"
    @Option(help: "Use only the first N states.") var limit: Int?
    @Option(help: "Reactions left out of the 'all net fluxes' share, comma-separated.") var exclude: String = ""
    @Option(help: "Exchange fluxes whose median relative error is reported, comma-separated.") var focus: String = ""
    @Option(help: "Target relative errors of the --focus exchange fluxes, comma-separated: one per reaction, or one for all.") var target: String = "0.05"
    @Option(help: "σ per measured entry of the Cramér–Rao bound.") var crlbNoise: Double = 0.005
    @Option(help: "Width of the hidden-share bands.") var band: Double = 0.1
    @Option(help: "Least squares: polytope starts per state (mfa).") var starts: Int = 5
    @Option(help: "Worker threads for the least-squares routes.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Write the accuracy-by-masked-share plot to this SVG file.") var svg: String?
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @Flag(help: "Replace an existing --svg file.") var force = false

    func validate() throws {
        if let limit { try OptionCheck.count(limit, "--limit", in: 1...Int(Int32.max), "states") }
        try OptionCheck.number(band, "--band", in: 0.01...1, "a share of entries")
        try OptionCheck.count(starts, "--starts", in: 1...1000)
        try OptionCheck.threads(threads)
        for r in routeList where !["ann", "mfa", "hybrid"].contains(r) {
            throw ValidationError("unknown route '\(r)' in --routes (known: ann, mfa, hybrid)")
        }
        guard masking.imputer != nil else { throw ValidationError("bench routes needs --imputer (the ANN routes start from its completion)") }
        guard format != .csv else { throw ValidationError("bench routes supports --format table or json") }
        try OptionCheck.number(crlbNoise, "--crlb-noise", in: MeasuredLabeling.minimumStddev...0.2, "σ of a MID fraction")
        _ = try targets()
    }

    /// One target per --focus reaction.
    func targets() throws -> [Double] {
        let focusCount = focus.split(separator: ",").count
        let values = target.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.allSatisfy({ $0 != nil && $0! > 0 && $0!.isFinite }), values.count == 1 || values.count == focusCount else {
            throw ValidationError("--target must be one positive relative error, or one per --focus reaction (\(focusCount)), not '\(target)'")
        }
        return values.count == 1 ? [Double](repeating: values[0]!, count: focusCount) : values.map { $0! }
    }

    var routeList: [String] { routes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    struct Band: Encodable {
        var route: String
        var band: MaskedShareAccuracy.Band
    }

    struct Report: Encodable {
        var model: String
        var data: String
        var imputer: String
        var noise: Double
        var states: Int
        var secondsPerState: [String: Double]
        var bands: [Band]
        /// σ per measured entry of the Cramér–Rao bounds in the bands (with --focus).
        var crlbNoise: Double?
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        if let svg { try OutputFile.check(svg, force: force, inputs: [data]) }
        var set = try LoadedDataset.reading(data, for: bundle)
        if let limit, limit < set.count { set = set.slice(0..<limit) }
        guard let masked = try masking.inputs(set.mids, bundle: bundle, label: "routes", dataPath: data,
                                              inPlace: false, outFolder: nil, force: false,
                                              say: { format == .json ? FileHandle.standardError.write(Data(($0 + "\n").utf8)) : print($0) })
        else { return }
        let network = bundle.network, noise = masking.noise
        let excluded = Set(exclude.split(separator: ",").map(String.init))
        let focusIDs = focus.split(separator: ",").map(String.init)
        for id in focusIDs + Array(excluded) where network.reactions.firstIndex(where: { $0.id == id }) == nil {
            throw ValidationError("unknown reaction '\(id)' in --focus/--exclude")
        }
        let hidden = masked.measured.map { m in Double(m.mask.filter { !$0 }.count) / Double(m.mask.count) }
        var options = StrategyRegistry.Options()
        options.imputer = masking.imputer
        options.starts = starts
        options.measurementStddev = noise > 0 ? noise : nil
        // Each route's predictions (nil: the route failed on that state), interleaved route by route.
        var results: [String: [FluxPrediction?]] = [:], seconds: [String: Double] = [:]
        for route in routeList {
            let clock = Date()
            let p = try StrategyRegistry.predictor(route, bundle: bundle, options: options)
            if let ann = p as? ANNPredictor {
                let m = Matrix(rows: masked.rows.count, columns: bundle.layout.count,
                               storage: masked.rows.flatMap { $0.values.map(Float.init) })
                // Told the median σ of the measured entries, at least `imputedInputFloor` (imputed input is not exact).
                let sigma = masked.rows.map { MeasurementNoise.completedSigma($0.stddev, fallback: noise) }
                results[route] = ann.predict(matrix: m, sigma: sigma).map { $0 }
            } else {
                let rows = masked.measured
                let progress = ProgressLine(label: "\(route) states")
                results[route] = ParallelRows.map(count: rows.count, threads: threads, progress: progress.report) { r in
                    let m = rows[r]
                    let sd = m.values.map { v in noise > 0 ? noise : MIDResolution.float32Storage.sigma(v.isFinite ? v : 0) }
                    return try p.predict(measured: MeasuredLabeling(layout: m.layout, values: m.values, stddev: sd, mask: m.mask))
                }.map { try? $0.get() }
            }
            seconds[route] = Date().timeIntervalSince(clock) / Double(max(set.count, 1))
        }
        let bounds = focusIDs.isEmpty ? nil : try exchangeBounds(masked.measured, truth: set.states, patterns: set.mids, focus: focusIDs,
                                                                  bundle: bundle, options: options)
        let targetList = try targets()
        let bands = routeList.flatMap { route in
            MaskedShareAccuracy.bands(predictions: results[route]!, truth: set.states, hidden: hidden, network: network,
                                      width: band, excluded: excluded, focus: focusIDs, bounds: bounds, targets: targetList)
                .map { Band(route: route, band: $0) }
        }.sorted { ($0.band.hiddenLow, routeList.firstIndex(of: $0.route)!) < ($1.band.hiddenLow, routeList.firstIndex(of: $1.route)!) }
        let report = Report(model: bundle.name, data: data, imputer: masking.imputer ?? "", noise: noise,
                            states: set.count, secondsPerState: seconds, bands: bands, crlbNoise: bounds == nil ? nil : crlbNoise)
        if let svg {
            let series = routeList.map { route in
                LinePlot.Series(name: route == "ann" ? "\(masking.imputer!) → ann" : route == "hybrid" ? "hybrid (\(masking.imputer!) start)" : "mfa (measured only)",
                                points: bands.filter { $0.route == route }.map { ((($0.band.hiddenLow + $0.band.hiddenHigh) / 2) * 100, $0.band.allNetWithin5 * 100) })
            }
            let title = "\(bundle.name): all net fluxes within 5 % by masked share (\(set.count) states, noise σ \(noise))"
            try OutputFile.write(LinePlot.svg(title: title, xLabel: "MID entries hidden (%)", yLabel: "states with all net fluxes within 5 % (%)",
                                              series: series, yRange: 0...100), to: svg)
        }
        if format == .json {
            print(try JSONOutput.string(report))
            return
        }
        print("model \(bundle.name), imputer \(report.imputer), \(set.count) states from \(data), noise σ \(noise); seconds per state: "
              + routeList.map { String(format: "%@ %.3g", $0, seconds[$0] ?? .nan) }.joined(separator: ", "))
        func pct(_ x: Double) -> String { x.isNaN ? "-" : x == .infinity ? "∞" : String(format: "%.1f%%", 100 * x) }
        func range(_ b: MaskedShareAccuracy.Band) -> String { String(format: "%.0f–%.0f%%", 100 * b.hiddenLow, 100 * b.hiddenHigh) }
        let within = bounds == nil ? [] : zip(focusIDs, targetList).flatMap { id, t in
            ["\(id) ERR (≤\(pct(t)))", "\(id) ERR (≤\(pct(t)) EXACT)"]
        }
        var rows = [["HIDDEN", "ROUTE", "N", "FAILED", "ALL NET ≤5%", "MED NET |REL|"] + focusIDs.map { "\($0) XCH |REL|" } + within]
        for rb in bands {
            let b = rb.band
            rows.append([range(b), rb.route, "\(b.states)", "\(b.failures)", pct(b.allNetWithin5), pct(b.medianNetRelativeError)]
                        + focusIDs.map { pct(b.medianExchangeRelativeError[$0] ?? .nan) }
                        + (bounds == nil ? [] : focusIDs.flatMap { id -> [String] in
                            guard let e = b.exchangeBound?[id] else { return ["-", "-"] }
                            return [pct(e.medianErrorWithinTarget), pct(e.medianErrorWithinTargetExact)]
                        }))
        }
        print(TextTable.render(rows, rightAligned: Set(2..<rows[0].count)))
        if bounds != nil {
            // The bound does not depend on the route: one row per band.
            print("""

                Cramér–Rao bounds of the exchange fluxes at the true state, measured entries only, σ \(crlbNoise) per entry: \
                share not identifiable (infinite bound) and median relative bound (CRLB); with the flux-space bounds as a prior: \
                median (BAYES) and share of states within the target at σ \(crlbNoise); measured entries only, exact data \
                (Float32 resolution): share within the target (EXACT). ERR columns above: each route's median error on the \
                states within the target (at σ with the prior, exact).
                """)
            var crlb = [["HIDDEN", "N"] + zip(focusIDs, targetList).flatMap { id, t in
                ["\(id) NOT IDENT.", "\(id) MED CRLB", "\(id) MED BAYES", "\(id) ≤\(pct(t))", "\(id) ≤\(pct(t)) EXACT"]
            }]
            for rb in bands where rb.route == routeList[0] {
                let b = rb.band
                crlb.append([range(b), "\(b.states)"] + focusIDs.flatMap { id -> [String] in
                    guard let e = b.exchangeBound?[id] else { return ["-", "-", "-", "-", "-"] }
                    return [pct(e.notIdentifiable), pct(e.medianBound), pct(e.medianBoundWithPrior), pct(e.withinTarget), pct(e.withinTargetExact)]
                })
            }
            print(TextTable.render(crlb, rightAligned: Set(1..<crlb[0].count)))
        }
        if let svg { print("wrote \(svg)") }
    }

    /// Per state, per focus reaction: the relative Cramér–Rao bounds of its exchange flux
    /// (SE / true value; ∞ where not identifiable) from the measured entries of `measured[i]`
    /// at the true state, from the entries alone with σ = --crlb-noise and with exact data's σ
    /// (the Float32 storage resolution of the true value, as least squares weighs exact
    /// input), and at --crlb-noise with the flux space's bounds as a prior (`boundsPrior`; not
    /// for exact data: its weights 10¹⁰ times the prior's would drown the prior in round-off).
    func exchangeBounds(_ measured: [MeasuredLabeling], truth: [FluxState], patterns: Matrix, focus: [String], bundle: ModelBundle,
                        options: StrategyRegistry.Options) throws -> [[MaskedShareAccuracy.StateBound]] {
        guard let mfa = (try StrategyRegistry.predictor("mfa", bundle: bundle, options: options) as? LeastSquaresBacked)?.mfa else {
            throw ValidationError("the least-squares strategy of bundle '\(bundle.name)' cannot compute bounds")
        }
        let reactions = focus.map { id in bundle.network.reactions.firstIndex { $0.id == id }! }
        let sigma = crlbNoise
        let progress = ProgressLine(label: "bound states")
        return try ParallelRows.map(count: measured.count, threads: threads, progress: progress.report) { i in
            let m = measured[i]
            let prior = mfa.boundsPrior(around: mfa.basis.freeFluxes(of: truth[i]))
            func relative(_ stddev: [Double], _ prior: LeastSquaresMFA.Prior?) -> [Double] {
                let bound = mfa.informationBound(at: truth[i], for: MeasuredLabeling(layout: m.layout, values: m.values, stddev: stddev, mask: m.mask),
                                                 prior: prior)
                return reactions.map { r in
                    guard let bound else { return .nan }
                    let se = bound.exchangeSE[r]
                    return se == .infinity ? .infinity : se / max(abs(truth[i].exchange[r]), 1e-12)
                }
            }
            let noisy = [Double](repeating: sigma, count: m.values.count)
            let exact = patterns.row(i).map { MIDResolution.float32Storage.sigma(Double($0)) }
            let (a, b, c) = (relative(noisy, nil), relative(exact, nil), relative(noisy, prior))
            return reactions.indices.map { MaskedShareAccuracy.StateBound(noisy: a[$0], exact: b[$0], noisyWithPrior: c[$0]) }
        }.map { try $0.get() }
    }
}
