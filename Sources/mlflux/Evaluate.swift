import ArgumentParser
import Bundles
import Foundation
import Imputation
import MLFluxCore
import MLFluxOutput
import NeuralNetworks
import Prediction
import SafeIO

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accuracy of a bundle's predictor on a held-out dataset.",
        discussion: """
            Prints per-flux error quantiles, R², slope, the share within 5 % (or 0.005 absolute), \
            the coverage of the stated 1σ uncertainties, exchange fluxes and ΔG by decade, and the \
            share of predictions passing the reduced χ² test (α = 0.05). With --out DIR writes \
            evaluation-<label>.json and parity-<label>-{net,xch,dg}.svg (with masking also \
            masked-share-<label>.svg: accuracy by hidden share) into the folder DIR; with \
            --in-place into the bundle's reports/; otherwise only prints. --noise σ adds Gaussian \
            noise of absolute σ to every MID entry (clipped at 0, each MID renormalised; --mask-seed) \
            and tells the predictors that σ.
            """)

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Dataset folder (not used in training).") var data: String
    @Option(help: "Predictor: \(StrategyRegistry.known(.predictor).joined(separator: ", ")).") var predictor: String = "ann"
    @Option(help: "Name of this evaluation in the report files.") var label: String = "test"
    @Option(help: "ΔG tolerance in kJ/mol for the 'within' column.") var dgTolerance: Double = 1
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @Option(help: "Evaluate only the first N states (least-squares strategies are slower).") var limit: Int?
    @Option(help: "σ of every MID entry for the least-squares strategies (mfa, hybrid). Default: each entry's Float32 storage resolution (6e-8 × value, at least 1e-12) — simulated datasets are exact up to it, so the fit may use all of it.") var stddev: Double?
    @Option(help: "hybrid: extra starts drawn from the ANN prediction when a fit misses the data (χ² 95 %).") var restarts: Int = 4
    @Option(help: "Worker threads for the least-squares strategies (default: all cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Reactions left out of the 'all net fluxes' share, comma-separated (e.g. tiny effluxes).") var exclude: String = ""
    @OptionGroup var masking: MaskingOptions
    @Option(help: "ann: propagate the free fluxes' full covariance (full) or only their variances, as if independent (diagonal; an ablation).") var covariance: String = "full"
    @Option(help: "Folder for the report and parity plots (created; existing report files are refused unless --force).") var out: String?
    @Flag(help: "Write the report and plots into the bundle's reports/ folder instead.") var inPlace = false
    @Flag(help: "Replace existing report files in --out.") var force = false
    @Flag(help: CensoringOption.help) var gaussianZeros = false

    func validate() throws {
        try OptionCheck.number(dgTolerance, "--dg-tolerance", in: 0...1000, lowerOpen: true, "in kJ/mol")
        if let limit { try OptionCheck.count(limit, "--limit", in: 1...Int(Int32.max), "states evaluated") }
        try OptionCheck.stddev(stddev)
        try OptionCheck.count(restarts, "--restarts", in: 0...1000, "each restart is one more least-squares fit per state")
        try OptionCheck.threads(threads)
        guard ["full", "diagonal"].contains(covariance) else { throw ValidationError("--covariance must be full or diagonal, not '\(covariance)'") }
        if out != nil && inPlace { throw ValidationError("--out and --in-place exclude each other") }
        guard label.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !label.isEmpty, !label.hasPrefix(".") else {
            throw ValidationError("--label must be letters, digits, '-', '_' or '.', not '\(label)'")
        }
    }

    /// Unit of the flux axes of the parity plots.
    static let fluxUnit = "rel. to reference flux"

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        var options = StrategyRegistry.Options()
        options.restarts = restarts
        options.censorZeros = !gaussianZeros
        options.imputer = masking.imputer
        let p = try StrategyRegistry.predictor(predictor, bundle: bundle, options: options)
        if masking.isActive && masking.imputer == nil && p.requiresCompleteLabeling {
            throw ValidationError("--keep-experiments/--keep-metabolites hide MIDs; the '\(predictor)' predictor needs complete labeling: add --imputer \(StrategyRegistry.known(.imputer).joined(separator: "|")) or use --predictor mfa")
        }
        // The reports stay inside the bundle (no symlink out of it) or go to --out, checked before the work.
        let names = ["evaluation-\(label).json", "parity-\(label)-net.svg", "parity-\(label)-xch.svg", "parity-\(label)-dg.svg"]
            + (masking.isActive ? ["masked-share-\(label).svg"] : [])
        var outputs: [String] = []
        if inPlace {
            outputs = try names.map { try bundle.outputPath("reports/" + $0, create: false) }
        } else if let out {
            outputs = names.map { (out as NSString).appendingPathComponent($0) }
            for o in outputs { try OutputFile.check(o, force: force, inputs: []) }
        }
        var data = try LoadedDataset.reading(self.data, for: bundle)
        if let limit, limit < data.count { data = data.slice(0..<limit) }
        // Masked (and imputed) inputs, when asked for; nil: the complete simulated MIDs —
        // with --noise, every entry perturbed (clipped at 0, each MID renormalised).
        let masked = try masking.inputs(data.mids, bundle: bundle, label: label, dataPath: self.data,
                                        inPlace: inPlace, outFolder: out, force: force)
        let noise = masking.noise
        var noisy = data.mids
        if masked == nil && noise > 0 {
            var rng = SplitMix64(seed: masking.maskSeed)
            MeasurementNoise.perturb(&noisy, layout: bundle.layout, sigma: [Double](repeating: noise, count: data.count), using: &rng)
        }
        let complete = noisy
        let start = Date()
        let predictions: [FluxPrediction]
        if var ann = p as? ANNPredictor {
            let mids = masked.map { m in
                Matrix(rows: m.rows.count, columns: bundle.layout.count, storage: m.rows.flatMap { $0.values.map(Float.init) })
            } ?? complete
            ann.independentErrors = covariance == "diagonal"
            // A noise-aware network is told the σ of its input (0: exact, clamped to its floor); a
            // completed pattern the median σ of its measured entries, at least `imputedInputFloor`
            // (imputed input is not exact).
            let sigma = masked.map { $0.rows.map { MeasurementNoise.completedSigma($0.stddev, fallback: noise) } }
                ?? [Double](repeating: noise, count: mids.rows)
            predictions = ann.predict(matrix: mids, sigma: sigma)
        } else {
            let mids = complete, layout = bundle.layout, fixed = stddev
            // The hybrid imputes for its ANN start itself and fits the measured entries only.
            let rows = p is HybridPredictor ? masked?.measured : masked?.rows
            predictions = try ParallelPredict.run(p, rows: data.count, threads: threads) { r in
                let values = rows?[r].values ?? mids.row(r).map(Double.init)
                let mask = rows?[r].mask ?? [Bool](repeating: true, count: values.count)
                // Every measured entry's σ: --stddev, the noise put on it, or the Float32 storage
                // resolution of its value; imputed entries get NaN (the predictor's default σ).
                let sd = values.indices.map { j -> Double in
                    if masked?.imputed[r][j] == true { return .nan }
                    return fixed ?? (noise > 0 ? noise : MIDResolution.float32Storage.sigma(values[j].isFinite ? values[j] : 0))
                }
                return MeasuredLabeling(layout: layout, values: values, stddev: sd, mask: mask)
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let report = Evaluation.evaluate(predictions: predictions, truth: data.states, truthFree: data.free,
                                         basis: bundle.basis, network: bundle.network, dGTolerance: dgTolerance,
                                         excludeFromAllNet: Set(exclude.split(separator: ",").map(String.init)))
        var written: [String] = []
        if !outputs.isEmpty {
            if inPlace { for n in names { _ = try bundle.outputPath("reports/" + n) } }
            else if let out {
                do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
                catch { throw OutputError(file: out, reason: "cannot create the folder: \(Excerpt.reason(error))") }
            }
            written = outputs
        }
        if let jsonPath = written.first { try OutputFile.write(try JSONOutput.data(report), to: jsonPath) }
        var panels: [ParityPlot.Panel] = []
        for r in bundle.network.reactions.indices {
            let id = bundle.network.reactions[r].id
            let truth = data.states.map { $0.net[r] }
            if Set(truth).count > 1 {
                panels.append(.init(title: "\(id) net", truth: truth, predicted: predictions.map { $0.net[r] }, unit: Self.fluxUnit))
            }
        }
        for r in bundle.network.reactions.indices where bundle.network.isBidirectional[r] {
            let truth = data.states.map { $0.exchange[r] }
            if Set(truth).count > 1 {
                panels.append(.init(title: "\(bundle.network.reactions[r].id) xch (log10)", truth: truth,
                                    predicted: predictions.map { $0.exchange[r] }, unit: Self.fluxUnit))
            }
        }
        var dgPanels: [ParityPlot.Panel] = []
        for r in bundle.network.reactions.indices where bundle.network.isBidirectional[r] {
            let truth = data.states.map { Thermodynamics.deltaG(net: $0.net[r], xch: $0.exchange[r]) }
            if Set(truth.filter(\.isFinite)).count > 1 {
                dgPanels.append(.init(title: "\(bundle.network.reactions[r].id) ΔG", truth: truth,
                                      predicted: predictions.map { $0.deltaG[r] }, unit: "kJ/mol"))
            }
        }
        let dataset = ((self.data as NSString).standardizingPath as NSString).lastPathComponent
        let heading = "\(bundle.name), \(predictor)\(masking.imputer.map { " after \($0)" } ?? "") on dataset \(dataset)"
        let units = "fluxes relative to the network's reference flux; R² = 1 − SS_res/SS_tot of the plotted values"
        if written.count >= 4 {
            try OutputFile.write(ParityPlot.svg(panels.filter { !$0.title.hasSuffix("(log10)") }, title: "\(heading): net fluxes", subtitle: units), to: written[1])
            try OutputFile.write(ParityPlot.svg(panels.filter { $0.title.hasSuffix("(log10)") }, logScale: true,
                                                title: "\(heading): exchange fluxes", subtitle: units), to: written[2])
            try OutputFile.write(ParityPlot.svg(dgPanels, title: "\(heading): ΔG", subtitle: "ΔG = RT·ln(reverse/forward) in kJ/mol (finite values only); R² of the plotted values"), to: written[3])
        }
        // Partial measurements: accuracy by the hidden share of MID entries.
        let excluded = Set(exclude.split(separator: ",").map(String.init))
        let bands = masked.map { m in
            MaskedShareAccuracy.bands(predictions: predictions.map { $0 }, truth: data.states,
                                      hidden: m.measured.map { Double($0.mask.filter { !$0 }.count) / Double($0.mask.count) },
                                      network: bundle.network, excluded: excluded)
        } ?? []
        if written.count == 5 {
            let title = "\(bundle.name), \(predictor)\(masking.imputer.map { " after \($0)" } ?? ""): all net fluxes within 5 % by masked share"
            try OutputFile.write(LinePlot.svg(title: title, xLabel: "MID entries hidden (%)", yLabel: "states with all net fluxes within 5 % (%)",
                                              series: [.init(name: predictor, points: bands.map { (50 * ($0.hiddenLow + $0.hiddenHigh), 100 * $0.allNetWithin5) })],
                                              yRange: 0...100), to: written[4])
        }
        if format == .json {
            print(try JSONOutput.string(report))
            return
        }
        print("model \(bundle.name), predictor \(predictor)\(masking.imputer.map { ", imputer \($0)" } ?? ""), \(data.count) states from \(self.data)\(noise > 0 ? String(format: ", noise σ %g (seed %llu)", noise, masking.maskSeed) : ""); \(String(format: "%.1f", seconds * 1e6 / Double(max(data.count, 1)))) µs per state")
        if !report.excludedFromAllNet.isEmpty { print("all net fluxes: except \(report.excludedFromAllNet.joined(separator: ", "))") }
        print(String(format: "all net fluxes within 5%% (or 0.005): %.1f%%   all ΔG within %.2g kJ/mol: %.1f%%   χ² pass (dof %d, crit %.2f): %.1f%%   1σ coverage: %.1f%%",
                     100 * report.allNetWithin5, dgTolerance, 100 * report.allDeltaGWithinTolerance, report.chiSquaredDOF,
                     report.chiSquaredCritical, 100 * report.chiSquaredPass, 100 * report.coverage68))
        var rows = [["KIND", "FLUX", "N", "ERR Q05", "Q25", "MEDIAN", "Q75", "Q95", "REL IQR", "MED |REL|", "WITHIN", "R²", "SLOPE", "COVER 1σ", "TEST SE"]]
        for q in report.quantities where q.kind != "free" && q.count > 0 {
            let constant = q.errorQuantiles.allSatisfy { $0 == 0 } && q.r2.isNaN
            if constant { continue }
            let e = q.errorQuantiles.map { g($0) }
            let iqr = q.relativeErrorQuantiles.map { "\(pct($0[1]))…\(pct($0[3]))" } ?? ""
            rows.append([q.kind, q.name, "\(q.count)"] + e + [iqr, q.medianAbsoluteRelativeError.map(pct) ?? "", pct(q.withinTolerance),
                                                             g(q.r2), g(q.slope), pct(q.coverage68), g(q.testSetSE)])
        }
        print(TextTable.render(rows, rightAligned: Set(2..<15)))
        var dec = [["EXCHANGE", "DECADE", "N", "XCH WITHIN 5%", "ΔG WITHIN", "COVER 1σ"]]
        for d in report.exchangeByDecade {
            dec.append([d.reaction, "\(g(d.lower))–\(g(d.upper))", "\(d.count)", pct(d.exchangeWithin5), pct(d.deltaGWithinTolerance), pct(d.coverage68)])
        }
        print(TextTable.render(dec, rightAligned: [2, 3, 4, 5]))
        if !report.rankHistograms.isEmpty {
            var sbc = [["FREE FLUX", "RANK HISTOGRAM (10 BINS, SBC)", "χ²", "P (UNIFORM)"]]
            for h in report.rankHistograms {
                sbc.append([h.name, h.counts.map(String.init).joined(separator: " "), g(h.chiSquared), h.pValue.isNaN ? "-" : String(format: "%.3g", h.pValue)])
            }
            print(TextTable.render(sbc, rightAligned: [2, 3]))
        }
        if !bands.isEmpty {
            var byShare = [["HIDDEN", "N", "ALL NET WITHIN 5%", "MEDIAN NET |REL|"]]
            for b in bands {
                byShare.append([String(format: "%.0f–%.0f%%", 100 * b.hiddenLow, 100 * b.hiddenHigh), "\(b.states)", pct(b.allNetWithin5), pct(b.medianNetRelativeError)])
            }
            print(TextTable.render(byShare, rightAligned: [1, 2, 3]))
        }
        for w in written { print("wrote \(w)") }
    }

    private func g(_ x: Double) -> String { x.isNaN ? "-" : String(format: "%.3g", x) }
    private func pct(_ x: Double) -> String { x.isNaN ? "-" : String(format: "%.1f%%", 100 * x) }
}
