import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
import Prediction
import SafeIO

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Least-squares 13C-MFA of a FluxML file with its measurement section.",
        discussion: """
            FILE.fml holds the network, the tracer configurations and, in each configuration's \
            <measurement> section, the labeling (MS groups like Pool[1-3]#M0,1,2,3) and flux \
            measurements with their standard deviations — as 13CFLUX writes it; no bundle is \
            needed. Fits from random starts drawn from the flux polytope (or --starts-from) on \
            all cores inside the network's constraints; prints every flux with its standard \
            error, the χ² test and how each start ended.
            """)

    @Argument(help: "FluxML file with measurement data.") var file: String
    @Option(help: "Random starts drawn from the flux polytope.") var starts: Int = 10
    @Option(help: "Starting flux states (JSON list, or an object with one under 'fluxes'); replaces --starts.") var startsFrom: String?
    @Option(help: "Iterations of one descent.") var maxIterations: Int = 200
    @Option(help: "Seed of the start draws.") var seed: UInt64 = 1
    @Option(help: "Worker threads for the starts (default: all cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Temperature for ΔG, in K.") var temperature: Double = Thermodynamics.bodyTemperature
    @Option(help: ProfileOption.help) var profile: String?
    @Option(help: "Flux bounds table (CSV: reaction,kind,lower,upper; kind net or xch), in place of the file's bounds on those fluxes (random starts need every free flux bounded).") var constraints: String?
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @Flag(help: CensoringOption.help) var gaussianZeros = false

    func validate() throws {
        try OptionCheck.count(starts, "--starts", in: 1...10_000)
        try OptionCheck.count(maxIterations, "--max-iterations", in: 1...1_000_000)
        try OptionCheck.threads(threads)
        try OptionCheck.number(temperature, "--temperature", in: 200...500, "in kelvin: 310.15 K is 37 °C")
        guard format != .csv else { throw ValidationError("fit supports --format table or json") }
    }

    func run() throws {
        let problem = try MeasuredNetworkFit(path: file, bounds: try constraints.map(FluxBoundsTable.read) ?? [])
        var mfa = problem.leastSquares(starts: starts, maxIterations: maxIterations, seed: seed, threads: threads)
        mfa.temperature = temperature
        mfa.censorZeros = !gaussianZeros
        let given = try startsFrom.map { try problem.startVectors(from: $0) } ?? []
        let clock = Date()
        guard let fit = mfa.fit(problem.measured, fluxes: problem.fluxes, starts: given) else {
            throw CLIError("\(file): no start reached a valid flux state")
        }
        let seconds = Date().timeIntervalSince(clock)
        var intervals: LeastSquaresMFA.ProfileResult?
        var profileSeconds = 0.0
        if let profile {
            let fluxes = try ProfileOption.parse(profile, network: problem.network)
            let clock = Date()
            intervals = mfa.profile(fit, fluxes: fluxes, threads: threads)
            profileSeconds = Date().timeIntervalSince(clock)
        }
        var report = try FitReport(prediction: fit.prediction, measured: problem.measured, simulator: problem.simulator,
                                   dilution: fit.dilution)
        report.chiSquared = ChiSquaredTest(fit: fit)
        if fit.censoredEntries > 0 {
            FileHandle.standardError.write(Data("note: \(file): \(fit.censoredEntries) MID entries at 0 fitted as left-censored (−2·log Φ(−μ/σ), a profiled scale per renormalised MID); the χ² test is of the deviance (--gaussian-zeros: Gaussian)\n".utf8))
        }
        report.starts = fit.starts
        if let chi = report.chiSquared, !chi.passes {
            FileHandle.standardError.write(Data("warning: \(file): the best fit fails the χ² test: VSSR \(String(format: "%.4g", chi.vssr)) outside [\(String(format: "%.4g", chi.lower)), \(String(format: "%.4g", chi.upper))] for \(chi.degreesOfFreedom) degrees of freedom\n".utf8))
        }
        let text: String
        switch format {
        case .json:
            text = try PredictionOutput.json(fit.prediction, fit: report, network: problem.network,
                                             model: (file as NSString).lastPathComponent, predictor: "mfa",
                                             intervals: intervals.map { ProfileOption.json($0, network: problem.network) })
        default:
            text = PredictionOutput.table(fit.prediction, fit: report, network: problem.network)
                + String(format: "%d starts in %.2f s (%@ thread%@); %d measured fluxes\n", fit.starts.count, seconds,
                         "\(threads)", threads == 1 ? "" : "s", problem.fluxes.count)
                + (intervals.map { ProfileOption.table($0, network: problem.network, seconds: profileSeconds) } ?? "")
        }
        print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
    }
}
