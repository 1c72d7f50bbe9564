import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import Prediction

/// Options shared by the commands that read a MID table and run predictors (`predict`,
/// `compare`): how the table is read, σ, temperature, and the least-squares settings.
struct MeasurementOptions: ParsableArguments {
    @OptionGroup var table: LabelingTableOptions
    @Option(help: "Temperature for ΔG, in K.") var temperature: Double = Thermodynamics.bodyTemperature
    @Option(help: "σ of MID entries without a stddev column value (least-squares fits and the χ² test; default 0.01).") var stddev: Double?
    @Option(help: "mfa: random starts drawn from the flux polytope.") var starts: Int = 5
    @Option(help: "mfa, hybrid: iterations of one descent.") var maxIterations: Int = 200
    @Option(help: "mfa: seed of the start draws.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Measured fluxes (uptake, secretion, growth rates): CSV or TSV with columns reaction,value,stddev[,kind]; fluxes then come out in their unit.", valueName: "FILE.csv")) var measuredFluxes: String?
    @Option(help: "mfa: worker threads for the starts (and profiles) (default: all cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: CensoringOption.help) var gaussianZeros = false

    func validate() throws {
        try OptionCheck.number(temperature, "--temperature", in: 200...500, "in kelvin: 310.15 K is 37 °C")
        try OptionCheck.stddev(stddev)
        try OptionCheck.count(starts, "--starts", in: 1...10_000)
        try OptionCheck.count(maxIterations, "--max-iterations", in: 1...1_000_000)
        try OptionCheck.threads(threads)
    }

    /// The predictor settings these options give.
    var registryOptions: StrategyRegistry.Options {
        var options = StrategyRegistry.Options()
        options.temperature = temperature
        options.measurementStddev = stddev
        options.starts = starts
        options.maxIterations = maxIterations
        options.seed = seed
        options.threads = threads
        options.censorZeros = !gaussianZeros
        return options
    }

    /// `registryOptions` with the measured fluxes of `--measured-fluxes` resolved against
    /// `bundle` (an error names the file, line and flux).
    func registryOptions(for bundle: ModelBundle) throws -> StrategyRegistry.Options {
        var options = registryOptions
        if let file = measuredFluxes {
            let measurements = try FluxMeasurementTable.read(contentsOf: file)
            (options.fluxRows, options.fluxScale) = try bundle.fluxMeasurementRows(measurements, file: file)
        }
        return options
    }

    /// The MID table at `input` in `bundle`'s layout (notes on stderr); a table with nothing
    /// measured is an error naming the file.
    func readTable(_ input: String, bundle: ModelBundle) throws -> MeasuredLabeling {
        try table.read(input, layout: bundle.layout, model: bundle.name)
    }

    /// The MID table at `input` split by its `sample` column (one measurement when it has none).
    func readSamples(_ input: String, bundle: ModelBundle) throws -> [(sample: String, labeling: MeasuredLabeling)] {
        try table.readSamples(input, layout: bundle.layout, model: bundle.name)
    }
}

/// How a measured-MID table is read (`predict`, `compare`, `impute`, `posterior`): the sum
/// tolerance, IsoCor's result table with its sample and metabolite maps, and replicates.
struct LabelingTableOptions: ParsableArguments {
    @Flag(help: "Rescale MIDs that do not sum to 1 (within --tolerance) instead of rejecting them.") var normalize = false
    @Option(help: "Allowed deviation of a MID's sum from 1.") var tolerance: Double = 0.01
    @Option(help: ArgumentHelp("IsoCor result table: which experiment each IsoCor sample is (CSV or TSV with columns sample,experiment[,replicate][,condition]; samples of one condition make one prediction). Default with a one-experiment model: every sample is that experiment, one prediction per sample.", valueName: "FILE.csv")) var sampleMap: String?
    @Option(help: ArgumentHelp("IsoCor result table: the model's metabolite for each IsoCor metabolite whose name differs beyond letter case (columns name,metabolite[,derivative]).", valueName: "FILE.csv")) var metaboliteMap: String?
    @Option(help: "Replicates (a replicate column, or a sample map's): average (one prediction from the mean MIDs, σ their standard error) or predict (each replicate predicted, then mean ± SD per flux, as the ML-Flux web tool does).") var replicates: ReplicateMode = .average

    /// What to do with the replicates of a sample.
    enum ReplicateMode: String, ExpressibleByArgument, CaseIterable {
        case average, predict
    }

    func validate() throws {
        try OptionCheck.number(tolerance, "--tolerance", in: 0...0.5, "the allowed deviation of a MID's sum from 1")
    }

    /// The maps of `--sample-map` and `--metabolite-map` (errors name the file, line and column).
    func maps() throws -> IsoCorMaps {
        IsoCorMaps(samples: try sampleMap.map { try SampleMap.read(contentsOf: $0) },
                   metabolites: try metaboliteMap.map { try MetaboliteMap.read(contentsOf: $0) })
    }

    /// The files these options read besides the table (never to be overwritten by --out).
    var files: [String] { [sampleMap, metaboliteMap].compactMap { $0 } }

    /// The table at `input` as one measurement (notes on stderr); nothing measured is an error.
    func read(_ input: String, layout: LabelingLayout, model: String) throws -> MeasuredLabeling {
        try checked(try LabelingTable.read(contentsOf: input, layout: layout, tolerance: tolerance, normalize: normalize, maps: try maps()),
                    input: input, model: model)
    }

    /// The table at `input` split by its `sample` column (one measurement when it has none).
    func readSamples(_ input: String, layout: LabelingLayout, model: String) throws -> [(sample: String, labeling: MeasuredLabeling)] {
        try LabelingTable.readSamples(contentsOf: input, layout: layout, tolerance: tolerance, normalize: normalize, maps: try maps())
            .map { ($0.sample, try checked($0.labeling, input: Self.name(input, sample: $0.sample), model: model)) }
    }

    /// The table at `input` split by sample and replicate.
    func readReplicates(_ input: String, layout: LabelingLayout, model: String) throws
        -> [(sample: String, replicates: [(replicate: String, labeling: MeasuredLabeling)])] {
        try LabelingTable.readReplicates(contentsOf: input, layout: layout, tolerance: tolerance, normalize: normalize, maps: try maps())
            .map { s in (s.sample, try s.replicates.map { r in
                (r.replicate, try checked(r.labeling, input: Self.name(input, sample: s.sample, replicate: r.replicate), model: model))
            }) }
    }

    /// `input` with its sample (and replicate) named, for messages.
    static func name(_ input: String, sample: String, replicate: String = "") -> String {
        let parts = (sample.isEmpty ? [] : ["sample \(sample)"]) + (replicate.isEmpty ? [] : ["replicate \(replicate)"])
        return parts.isEmpty ? input : "\(input) (\(parts.joined(separator: ", ")))"
    }

    /// Notes on stderr; a measurement with nothing measured is an error naming the file.
    private func checked(_ measured: MeasuredLabeling, input: String, model: String) throws -> MeasuredLabeling {
        for note in measured.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        guard measured.mask.contains(true) else {
            throw CLIError("\(input): no MID was measured (the table has no row with a fraction); fill in the fraction column of `mlflux template \(model)`")
        }
        return measured
    }
}
