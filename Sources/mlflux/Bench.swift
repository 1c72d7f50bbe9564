import ArgumentParser
import Bundles
import Dispatch
import EMU
import Foundation
import MLFluxCore
import MLFluxOutput

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Performance figures (build with -c release).",
        subcommands: [BenchSimulate.self, BenchNN.self, BenchPredict.self, BenchCoverage.self, BenchAccuracy.self, BenchRoutes.self])
}

struct BenchSimulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Time the EMU simulator of a model per flux state.",
        discussion: """
            Three cases: one experiment, all experiments of the model, and all experiments with \
            the Jacobian. Single-threaded: median of repeated timings after warm-up. Throughput: \
            --states flux states (the example state with its exchange fluxes scaled by random \
            log-normal factors, which keeps mass balance) spread over --threads workers with \
            DispatchQueue.concurrentPerform. BLAS runs single-threaded inside each simulation \
            (OPENBLAS_NUM_THREADS=1).
            """)

    @Option(help: "Model bundle name.")
    var model: String

    @Option(help: "Number of perturbed flux states for the throughput runs.")
    var states: Int = 256

    @Option(help: "Worker threads for the throughput runs (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Seed of the perturbations.")
    var seed: UInt64 = 1

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    func validate() throws {
        try OptionCheck.count(states, "--states", in: 1...1_000_000, "flux states held in memory at once")
        try OptionCheck.threads(threads)
        guard format != .csv else { throw ValidationError("bench supports --format table or json") }
    }

    struct Case: Encodable {
        var name: String
        var experiments: Int
        var jacobian: Bool
        var medianSeconds: Double
        var repetitions: Int
        var statesPerSecond: Double
        var failures: Int
    }

    struct Report: Encodable {
        var model: String
        var build: String
        var experiments: Int
        var measured: Int
        var freeFluxes: Int
        var threads: Int
        var states: Int
        var cases: [Case]
    }

    mutating func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        let base = try bundle.exampleFluxState()
        let basis = bundle.basis
        let one = try EMUSimulator(network: bundle.network, measured: bundle.measured,
                                   experiments: [bundle.experiments[0]])
        let all = try bundle.simulator()
        var rng = SplitMix64(seed: seed)
        let perturbed = PerturbedStates.exchange(around: base, count: states, sigma: 1, using: &rng)

        let cases: [(String, EMUSimulator, Bool)] = [
            ("simulate, 1 experiment", one, false),
            ("simulate, \(all.experiments.count) experiments", all, false),
            ("simulate + Jacobian, \(all.experiments.count) experiments", all, true),
        ]
        var results: [Case] = []
        for (name, sim, jacobian) in cases {
            // Each throughput worker gets its own simulator (as a dataset generator would),
            // so workers share no reference counts on hot data.
            let replicas = try (0..<threads).map { _ in try sim.replica() }
            let work: @Sendable (EMUSimulator, FluxState) throws -> Void
            if jacobian {
                work = { sim, state in _ = try sim.simulate(state, basis: basis) }
            } else {
                work = { sim, state in _ = try sim.simulate(state) }
            }
            let (median, reps) = try Self.medianTime { try work(sim, base) }
            let (rate, failures) = Self.throughput(perturbed, replicas: replicas, work)
            results.append(Case(name: name, experiments: sim.experiments.count, jacobian: jacobian,
                                medianSeconds: median, repetitions: reps, statesPerSecond: rate, failures: failures))
        }
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        let report = Report(model: bundle.name, build: build, experiments: all.experiments.count,
                            measured: bundle.measured.count, freeFluxes: basis.count, threads: threads,
                            states: states, cases: results)
        if format == .json {
            print(try JSONOutput.string(report))
            return
        }
        print("model \(report.model): \(report.experiments) experiments, \(report.measured) measured, \(report.freeFluxes) free fluxes; \(build) build; \(threads) threads, \(states) states")
        if build == "debug" { print("note: debug build; use `swift run -c release mlflux bench …` for real figures") }
        var rows = [["CASE", "MEDIAN (1 thread)", "REPS", "THROUGHPUT (\(threads) threads)", "FAILED"]]
        for c in results {
            rows.append([c.name, Self.duration(c.medianSeconds), "\(c.repetitions)",
                         String(format: "%.0f states/s", c.statesPerSecond), "\(c.failures)"])
        }
        print(TextTable.render(rows, rightAligned: [1, 2, 3, 4]))
    }

    /// Median wall time of `body` after a warm-up; repeats for ≥ 0.5 s or 7 runs, at most 1000.
    static func medianTime(_ body: () throws -> Void) throws -> (Double, Int) {
        for _ in 0..<3 { try body() }
        var times: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        while times.count < 1000 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            if times.count >= 7 && elapsed >= 0.5 { break }
        }
        times.sort()
        return (times[times.count / 2], times.count)
    }

    /// States per second over `threads` workers (worker `w` takes states `w, w+threads, …`).
    static func throughput(_ states: [FluxState], replicas: [EMUSimulator],
                           _ work: @escaping @Sendable (EMUSimulator, FluxState) throws -> Void) -> (Double, Int) {
        let threads = replicas.count
        let failures = FailureCounter(threads)
        let t0 = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { w in
            var i = w
            var failed = 0
            while i < states.count {
                do { try work(replicas[w], states[i]) } catch { failed += 1 }
                i += threads
            }
            failures.set(w, failed)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        return (Double(states.count) / seconds, failures.total)
    }

    static func duration(_ s: Double) -> String {
        if s < 1e-3 { return String(format: "%.1f µs", s * 1e6) }
        if s < 1 { return String(format: "%.2f ms", s * 1e3) }
        return String(format: "%.2f s", s)
    }
}

/// Per-worker failure counts (each worker writes its own slot once).
final class FailureCounter: @unchecked Sendable {
    private var counts: [Int]
    private let lock = NSLock()
    init(_ n: Int) { counts = [Int](repeating: 0, count: n) }
    func set(_ w: Int, _ v: Int) { lock.lock(); counts[w] = v; lock.unlock() }
    var total: Int { lock.lock(); defer { lock.unlock() }; return counts.reduce(0, +) }
}

