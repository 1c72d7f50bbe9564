import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
import Prediction

struct Resolvability: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Can the bundle's MIDs tell each ΔG to ±1 kJ/mol at all? (per reaction, over a dataset's flux states)",
        discussion: """
            For every state and reversible reaction, moves the exchange flux so that ΔG shifts by \
            ±--delta-g, re-simulates the bundle's experiments, and counts the shift as visible when \
            some MID entry moves by more than twice its resolution (--relative·|value| + --absolute). \
            Defaults: exact MIDs stored as Float32 (relative 6e-8). For a mass spectrometer try \
            --relative 0 --absolute 1e-3. No predictor can beat the 'all' share except by luck.
            """)

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Dataset folder whose flux states are analysed.") var data: String
    @Option(help: "Analyse only the first N states.") var limit: Int?
    @Option(name: .customLong("delta-g"), help: "ΔG shift in kJ/mol.") var deltaG: Double = 1
    @Option(help: "Absolute MID resolution.") var absolute: Double = MIDResolution.float32Storage.absolute
    @Option(help: "Relative MID resolution.") var relative: Double = MIDResolution.float32Storage.relative
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func validate() throws {
        if let limit { try OptionCheck.count(limit, "--limit", in: 1...Int(Int32.max), "states analysed") }
        try OptionCheck.number(deltaG, "--delta-g", in: 0...1000, lowerOpen: true, "a ΔG shift in kJ/mol")
        try OptionCheck.number(absolute, "--absolute", in: 0...1, "a resolution of MID fractions")
        try OptionCheck.number(relative, "--relative", in: 0...1, "a fraction of the value")
        guard absolute + relative > 0 else { throw ValidationError("--absolute and --relative must not both be 0") }
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        var data = try LoadedDataset.reading(self.data, for: bundle)
        if let limit, limit < data.count { data = data.slice(0..<limit) }
        var analysis = DeltaGResolvability(simulator: try bundle.simulator(), network: bundle.network, basis: bundle.basis)
        analysis.deltaG = deltaG
        analysis.resolution = MIDResolution(relative: relative, absolute: absolute)
        let report = try analysis.analyze(data.states, progress: ProgressLine(label: "states").report)
        if format == .json {
            print(try JSONOutput.string(report))
            return
        }
        print("model \(bundle.name), \(report.states) states from \(self.data); ΔG ± \(deltaG) kJ/mol; resolution \(relative)·|x| + \(absolute)")
        var rows = [["REACTION", "ΔG SHIFT VISIBLE"]]
        for id in report.reactions { rows.append([id, String(format: "%.1f%%", 100 * report.visible[id]!)]) }
        rows.append(["all at once", String(format: "%.1f%%", 100 * report.allVisible)])
        print(TextTable.render(rows, rightAligned: [1]))
    }
}
