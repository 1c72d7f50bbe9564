import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
import SafeIO

struct Impute: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill in the MIDs a measurement lacks, with a bundle's imputer.",
        discussion: """
            INPUT.csv is long form, as for `mlflux predict`; rows absent from it (whole experiments, \
            whole metabolites) are missing. Prints every MID entry of the model's layout: measured \
            ones as given, imputed ones flagged, with the imputer's σ where it has one (knn: the \
            spread of the neighbours). Every imputed MID sums to 1.
            """)

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Imputer: \(StrategyRegistry.known(.imputer).joined(separator: ", ")) (default: the bundle's default imputer).") var imputer: String?
    @Argument(help: "Measured MIDs (long-form CSV).") var input: String
    @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table
    @Option(help: "Write the output to this file instead of standard output (never the input).") var out: String?
    @Flag(help: "Replace an existing --out file.") var force = false
    @OptionGroup var table: LabelingTableOptions

    func validate() throws {
        if table.replicates == .predict {
            throw ValidationError("--replicates predict is `mlflux predict`'s; impute completes the replicates' mean MIDs (--replicates average)")
        }
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        let inputs = [input] + table.files
        if let out { try OutputFile.check(out, force: force, inputs: inputs) }
        let samples = try table.readSamples(input, layout: bundle.layout, model: bundle.name)
        guard let name = imputer ?? StrategyRegistry.defaultImputer(of: bundle) else {
            throw CLIError("bundle '\(bundle.name)' ships no imputer; train one with `mlflux train imputer --kind knn --model \(bundle.name) --data DIR`")
        }
        let imp = try StrategyRegistry.imputer(name, bundle: bundle)
        // One completion per sample (a table with a `sample` column naming several).
        let texts = try samples.map { sample, measured in
            let done: ImputedLabeling
            do { done = try imp.impute(measured) } catch let e as ImputationError {
                throw CLIError("\(LabelingTableOptions.name(input, sample: sample)): \(e)")
            }
            return try Self.render(done, format: format, model: bundle.name, imputer: name)
        }
        let text = samples.count == 1 ? texts[0] : Predict.combine(texts, samples: samples.map(\.sample), format: format)
        try CommandOutput.emit(text, out: out, force: force, inputs: inputs)
    }

    struct Entry: Encodable {
        var experiment: String, metabolite: String, isotopologue: Int, fraction: Double
        var stddev: Double?
        var imputed: Bool
    }

    struct Document: Encodable {
        var model: String, imputer: String
        var imputedEntries: Int, entries: Int
        var mids: [Entry]
    }

    static func entries(_ done: ImputedLabeling) -> [Entry] {
        let layout = done.layout
        return (0..<layout.count).map { i in
            let x = layout.entry(at: i)
            return Entry(experiment: layout.experimentIDs[x.experiment], metabolite: layout.fragmentNames[x.fragment],
                         isotopologue: x.isotopologue, fraction: done.values[i],
                         stddev: done.stddev[i].isFinite ? done.stddev[i] : nil, imputed: done.imputed[i])
        }
    }

    static func render(_ done: ImputedLabeling, format: OutputFormat, model: String, imputer: String) throws -> String {
        let rows = entries(done)
        func num(_ x: Double?) -> String { x.map { String(format: "%.6f", $0) } ?? "" }
        switch format {
        case .csv:
            return "experiment,metabolite,isotopologue,fraction,stddev,imputed\n"
                + rows.map { "\($0.experiment),\($0.metabolite),M+\($0.isotopologue),\(num($0.fraction)),\(num($0.stddev)),\($0.imputed)" }
                    .joined(separator: "\n") + "\n"
        case .json:
            return try JSONOutput.string(Document(model: model, imputer: imputer, imputedEntries: done.imputedCount,
                                                  entries: rows.count, mids: rows))
        case .table:
            var table = [["EXPERIMENT", "METABOLITE", "ISO", "FRACTION", "SD", "SOURCE"]]
            for r in rows {
                table.append([r.experiment, r.metabolite, "M+\(r.isotopologue)", num(r.fraction), num(r.stddev),
                              r.imputed ? "imputed (\(imputer))" : "measured"])
            }
            return "model \(model), imputer \(imputer): \(done.imputedCount) of \(rows.count) MID entries imputed\n"
                + TextTable.render(table, rightAligned: [3, 4])
        }
    }
}
