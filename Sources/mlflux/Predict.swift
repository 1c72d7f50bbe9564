import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
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
        let profiled = try profile.map { try ProfileOption.parse($0, network: bundle.network) }
        let job = PredictionJob(bundle: bundle, predictors: [p], imputer: imputer, options: options, profile: profiled)
        let o: PredictionJob.Outcome
        do { o = try job.run(table, input: input, predictor: p) } catch let e as PredictionJobError { throw CLIError(e.description) }
        for note in o.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        for warning in o.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        try then(o.prediction)
        let text2: String
        switch format {
        case .table: text2 = PredictionOutput.table(o.prediction, fit: o.fit, network: bundle.network)
            + (o.intervals.map { ProfileOption.table($0, network: bundle.network, seconds: o.profileSeconds) } ?? "")
        case .csv: text2 = PredictionOutput.csv(o.prediction, network: bundle.network)
        case .json: text2 = try PredictionOutput.json(o.prediction, fit: o.fit, network: bundle.network, model: bundle.name, predictor: predictor,
                                                     freeNames: bundle.basis.names,
                                                     provenance: .init(version: MLFluxVersion.current, bundle: bundle.directory,
                                                                       bundleSHA256: try bundle.fingerprint()),
                                                     intervals: o.intervals.map { ProfileOption.json($0, network: bundle.network) },
                                                     basis: bundle.basis)
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
