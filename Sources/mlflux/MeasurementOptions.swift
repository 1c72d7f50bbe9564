import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import Prediction

/// Options shared by the commands that read a MID table and run predictors (`predict`,
/// `compare`): how the table is read, σ, temperature, and the least-squares settings.
struct MeasurementOptions: ParsableArguments {
    @Flag(help: "Rescale MIDs that do not sum to 1 (within --tolerance) instead of rejecting them.") var normalize = false
    @Option(help: "Allowed deviation of a MID's sum from 1.") var tolerance: Double = 0.01
    @Option(help: "Temperature for ΔG, in K.") var temperature: Double = Thermodynamics.bodyTemperature
    @Option(help: "σ of MID entries without a stddev column value (least-squares fits and the χ² test; default 0.01).") var stddev: Double?
    @Option(help: "mfa: random starts drawn from the flux polytope.") var starts: Int = 5
    @Option(help: "mfa, hybrid: iterations of one descent.") var maxIterations: Int = 200
    @Option(help: "mfa: seed of the start draws.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Measured fluxes (uptake, secretion, growth rates): CSV or TSV with columns reaction,value,stddev[,kind]; fluxes then come out in their unit.", valueName: "FILE.csv")) var measuredFluxes: String?
    @Option(help: "mfa: worker threads for the starts (and profiles) (default: all cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        try OptionCheck.number(tolerance, "--tolerance", in: 0...0.5, "the allowed deviation of a MID's sum from 1")
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
        let measured = try LabelingTable.read(contentsOf: input, layout: bundle.layout,
                                              tolerance: tolerance, normalize: normalize)
        return try checked(measured, input: input, bundle: bundle)
    }

    /// The MID table at `input` split by its `sample` column (one measurement when it has none).
    func readSamples(_ input: String, bundle: ModelBundle) throws -> [(sample: String, labeling: MeasuredLabeling)] {
        try LabelingTable.readSamples(contentsOf: input, layout: bundle.layout, tolerance: tolerance, normalize: normalize)
            .map { ($0.sample, try checked($0.labeling, input: $0.sample.isEmpty ? input : "\(input) (sample \($0.sample))", bundle: bundle)) }
    }

    /// Notes on stderr; a measurement with nothing measured is an error naming the file.
    private func checked(_ measured: MeasuredLabeling, input: String, bundle: ModelBundle) throws -> MeasuredLabeling {
        for note in measured.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        guard measured.mask.contains(true) else {
            throw CLIError("\(input): no MID was measured (the table has no row with a fraction); fill in the fraction column of `mlflux template \(bundle.name)`")
        }
        return measured
    }
}
