import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import Prediction
import SafeIO

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fluxes, ΔG and standard errors from measured MIDs.",
        discussion: """
            INPUT.csv is long form: experiment,metabolite,isotopologue,fraction[,stddev] with the \
            experiment and metabolite ids of `mlflux describe <model>` (`mlflux template <model>` \
            writes an empty one). Prints every net and exchange flux with its standard error, ΔG \
            with its error, and the fit: MIDs re-simulated from the predicted fluxes against the input.
            """)

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Predictor: \(StrategyRegistry.known(.predictor).joined(separator: ", ")). Incomplete input: ann gets the imputer's completion (the most accurate route on noisy masked held-out data, Guides/Imputation.md); hybrid starts its ANN from it and fits the measured entries only; mfa fits the measured entries only.") var predictor: String = "ann"
    @Option(help: "Imputer for missing MIDs: \(StrategyRegistry.known(.imputer).joined(separator: ", ")) (default: the bundle's default imputer when entries are missing and the predictor needs complete labeling).") var imputer: String?
    @Argument(help: "Measured MIDs (long-form CSV).") var input: String
    @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table
    @Option(help: "Write the output to this file instead of standard output (never the input).") var out: String?
    @Flag(help: "Replace an existing --out file.") var force = false
    @Option(help: ProfileOption.help) var profile: String?
    @OptionGroup var measurement: MeasurementOptions
    @OptionGroup var maps: FluxMapOptions

    func validate() throws {
        if profile != nil && format == .csv { throw ValidationError("--profile needs --format table or json") }
        if profile != nil && !["mfa", "hybrid"].contains(predictor) {
            throw ValidationError("--profile needs a least-squares fit: --predictor mfa or hybrid")
        }
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        if measurement.table.replicates == .predict { return try predictReplicates(bundle: bundle) }
        let inputs = [input] + (measurement.measuredFluxes.map { [$0] } ?? []) + measurement.table.files
        if let out { try OutputFile.check(out, force: force, inputs: inputs) }
        let samples = try measurement.readSamples(input, bundle: bundle)
        try maps.check(samples: samples.map(\.sample), force: force, inputs: inputs, otherOutputs: out.map { [$0] } ?? [], bundle: bundle)
        var options = try measurement.registryOptions(for: bundle)
        options.imputer = imputer
        if profile != nil && options.fluxScale && !options.fluxRows.isEmpty {
            throw ValidationError("--profile with --measured-fluxes on a relative network is not supported yet (the fitted scale is not profiled); the linearised errors are reported")
        }
        let p = try StrategyRegistry.predictor(predictor, bundle: bundle, options: options)
        // One prediction per sample (a table with a `sample` column naming several).
        var texts: [String] = []
        for (sample, table) in samples {
            let input = sample.isEmpty ? input : "\(input) (sample \(sample))"
            texts.append(try predictText(table, input: input, predictor: p, bundle: bundle, options: options) {
                try maps.write($0, sample: sample, samples: samples.map(\.sample), network: bundle.network,
                               layout: try bundle.fluxMapLayout(), title: "\(bundle.name): \(predictor) fluxes of \(input)")
            })
        }
        let text2 = samples.count == 1 ? texts[0] : Self.combine(texts, samples: samples.map(\.sample), format: format)
        if let out {
            try OutputFile.check(out, force: force, inputs: inputs)
            try OutputFile.write(text2, to: out)
        } else {
            print(text2, terminator: text2.hasSuffix("\n") ? "" : "\n")
        }
    }

    /// Several samples' outputs as one: tables under a heading each, CSV with a leading
    /// `sample` column, JSON as `{"samples": [{"sample": …, "prediction": …}, …]}`.
    static func combine(_ texts: [String], samples: [String], format: OutputFormat) -> String {
        switch format {
        case .table:
            return zip(samples, texts).map { "sample \($0)\n\($1)" }.joined(separator: "\n")
        case .csv:
            var out = ""
            for (i, (sample, text)) in zip(samples, texts).enumerated() {
                let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
                guard let header = lines.first else { continue }
                if i == 0 { out += "sample,\(header)\n" }
                let quoted = sample.contains(",") || sample.contains("\"") ? "\"" + sample.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : sample
                for l in lines.dropFirst() { out += "\(quoted),\(l)\n" }
            }
            return out
        case .json:
            let items = zip(samples, texts).map { sample, text -> String in
                let name = (try? JSONOutput.string(sample)) ?? "\"\""
                return "{\"sample\": \(name), \"prediction\": \(text.trimmingCharacters(in: .whitespacesAndNewlines))}"
            }
            return "{\"samples\": [\n" + items.joined(separator: ",\n") + "\n]}\n"
        }
    }

    /// The prediction of one measurement, formatted; notes and warnings on stderr name `input`.
    func predictText(_ table: MeasuredLabeling, input: String, predictor p: any FluxPredictor, bundle: ModelBundle,
                     options: StrategyRegistry.Options, then: (FluxPrediction) throws -> Void = { _ in }) throws -> String {
        let route: ImputationRoute
        do { route = try ImputationRoute(measured: table, predictor: p, imputer: imputer, bundle: bundle, options: options) }
        catch let e as IncompleteLabelingError { throw CLIError("\(input): \(e)") }
        if let name = route.imputer, let done = route.imputed {
            FileHandle.standardError.write(Data("note: \(input): imputed \(done.imputedCount) of \(done.layout.count) MID entries with the '\(name)' imputer\n".utf8))
        } else if let name = route.imputer {
            FileHandle.standardError.write(Data("note: \(input): \(table.layout.count - table.mask.filter { $0 }.count) MID entries missing; the hybrid starts from the ANN on the '\(name)' imputer's completion and fits the measured entries only\n".utf8))
        }
        let measured = route.input
        if let ls = p as? any LeastSquaresBacked {
            do { try ls.mfa.check(measured) } catch { throw CLIError("\(input): \(error)") }
            if p is MFAPredictor {
                do { try ls.mfa.checkDetermined(measured) } catch { throw CLIError("\(input): \(error)") }
            }
        }
        var prediction: FluxPrediction
        var scale: FitReport.Scale?
        var starts: [LeastSquaresMFA.StartResult]? = nil
        let profiled = try profile.map { try ProfileOption.parse($0, network: bundle.network) }
        var intervals: LeastSquaresMFA.ProfileResult?
        var profileSeconds = 0.0
        if let ls = p as? any LeastSquaresBacked {
            let f = try ls.leastSquaresFit(measured: measured)
            prediction = f.prediction
            scale = f.scale.map { FitReport.Scale(value: $0.value, se: $0.se) }
            starts = f.starts
            if let profiled {
                let clock = Date()
                intervals = ls.mfa.profile(f, fluxes: profiled, threads: measurement.threads)
                profileSeconds = Date().timeIntervalSince(clock)
            }
        } else {
            if let ann = p as? ANNPredictor, ann.isNoiseAware, !measured.stddev.contains(where: { $0.isFinite }) {
                FileHandle.standardError.write(Data("note: \(input) has no stddev column; the noise-aware ANN assumes σ = \(ann.defaultStddev) per MID entry (--stddev)\n".utf8))
            }
            (prediction, scale) = measurement.withMeasuredFluxes(try p.predict(measured: measured), options: options, bundle: bundle)
        }
        try then(prediction)
        // The fit is judged on what was measured, never on imputed entries.
        var fit = try FitReport(prediction: prediction, measured: table, simulator: bundle.simulator(),
                                basis: bundle.basis, defaultStddev: measurement.stddev ?? 0.01,
                                fluxes: options.fluxRows, scaled: options.fluxScale)
        fit.starts = starts
        fit.scale = scale
        if let chi = fit.chiSquared, !chi.passes {
            let verdict = chi.vssr > chi.upper ? "above" : "below"
            FileHandle.standardError.write(Data("warning: \(input): the fit fails the χ² test: VSSR \(String(format: "%.4g", chi.vssr)) is \(verdict) the 95 % range [\(String(format: "%.4g", chi.lower)), \(String(format: "%.4g", chi.upper))] for \(chi.degreesOfFreedom) degrees of freedom\(verdict == "above" ? " (a local minimum, a model error, or σ too small)" : " (σ too large?)")\n".utf8))
        }
        let text2: String
        switch format {
        case .table: text2 = PredictionOutput.table(prediction, fit: fit, network: bundle.network)
            + (intervals.map { ProfileOption.table($0, network: bundle.network, seconds: profileSeconds) } ?? "")
        case .csv: text2 = PredictionOutput.csv(prediction, network: bundle.network)
        case .json: text2 = try PredictionOutput.json(prediction, fit: fit, network: bundle.network, model: bundle.name, predictor: predictor,
                                                     freeNames: bundle.basis.names,
                                                     provenance: .init(version: MLFluxVersion.current, bundle: bundle.directory,
                                                                       bundleSHA256: try bundle.fingerprint()),
                                                     intervals: intervals.map { ProfileOption.json($0, network: bundle.network) })
        }
        return text2
    }
}

struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an empty measured-MID table (long-form CSV) for a model.")
    @Argument(help: "Model bundle name.") var model: String
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Flag(help: "Replace an existing --out file.") var force = false

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        let t = LabelingTable.template(bundle.layout)
        if let out {
            try OutputFile.check(out, force: force)
            try OutputFile.write(t, to: out)
        } else {
            print(t, terminator: "")
        }
    }
}
