import ArgumentParser
import Bundles
import Dispatch
import FluxSampling
import Foundation
import MLFluxCore
import MLFluxOutput
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Dataset: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate, merge, split and inspect training datasets (.npy + dataset.json).",
        discussion: "See Guides/Datasets.md.",
        subcommands: [DatasetGenerate.self, DatasetMerge.self, DatasetSplit.self, DatasetInfo.self])
}

struct DatasetGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Sample flux states of a model and simulate their labeling into a dataset folder.",
        discussion: """
            Writes free_fluxes.npy (float64), net_fluxes.npy and exchange_fluxes.npy (float64), \
            mids.npy (float32, the bundle's labeling layout) and dataset.json into --out. The \
            samples are cut into blocks of 1024, each drawn from its own generator seeded from \
            (--seed, block): the same seed gives the same bytes for any --threads, and the shards \
            i/n of a run, merged with `mlflux dataset merge`, equal the unsharded run. An \
            interrupted run continues with --resume.
            """)

    @Option(help: "Model bundle name.")
    var model: String

    @Option(help: "Number of flux states to sample (for the whole run, over all shards).")
    var samples: Int

    @Option(help: "Net flux sampler: hit-and-run or uniform (default: the model's automatic choice).")
    var sampler: String?

    @Option(help: "Exchange flux distribution: log-uniform, uniform, log-normal or mixed (each flux uniform or log-uniform, half each; default: log-uniform).")
    var exchange: String?

    @Option(help: "Hit-and-run steps between kept states (default: 2 × the net polytope's dimension). Consecutive states of one chain are correlated; a test set for simulation-based calibration, whose χ² test assumes independent truths, needs far more (glycolysis: 2000).")
    var thinning: Int?

    @Option(help: "Seed of the run.")
    var seed: UInt64 = 1

    @Option(help: "This process's shard, i/n (0-based): blocks ⌊i·B/n⌋ ..< ⌊(i+1)·B/n⌋ of the B blocks.")
    var shard: String = "0/1"

    @Option(help: "Simulation worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Keep states by distance-weighted acceptance over their MID patterns (per block).")
    var distanceWeighted = false

    @Option(help: "Flatten the net-flux marginals of these reactions (comma-separated ids; per block, before simulation).")
    var flatten: String?

    @Option(help: "Bins per reaction for --flatten.")
    var flattenBins: Int = 20

    @Flag(help: "Continue an unfinished run in --out from its last complete block.")
    var resume = false

    @Flag(help: "Replace a finished dataset already in --out (it stays until the new one is complete).")
    var force = false

    @Option(name: .customLong("stop-after-blocks"), help: ArgumentHelp("Stop resumably after this many blocks (for time-limited jobs; continue with --resume).", visibility: .hidden))
    var stopAfterBlocks: Int?

    @Option(help: "Output folder.")
    var out: String

    func validate() throws {
        try OptionCheck.count(samples, "--samples", in: 1...Self.maxSamples, "a billion states already fill 4 GB of mids.npy per MID entry")
        try OptionCheck.threads(threads)
        if let stopAfterBlocks { try OptionCheck.count(stopAfterBlocks, "--stop-after-blocks", in: 1...Int(Int32.max)) }
        _ = try parsedShard()
        if let s = sampler, SamplerSettings.NetMethod(rawValue: s) == nil {
            throw ValidationError("unknown --sampler '\(s)' (known: \(SamplerSettings.NetMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let e = exchange, SamplerSettings.ExchangeMethod(rawValue: e) == nil {
            throw ValidationError("unknown --exchange '\(e)' (known: \(SamplerSettings.ExchangeMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let thinning { try OptionCheck.count(thinning, "--thinning", in: 1...1_000_000, "hit-and-run steps between kept states") }
        try OptionCheck.count(flattenBins, "--flatten-bins", in: 1...DatasetRequest.blockSize,
                              "bins per reaction over one block of \(DatasetRequest.blockSize) states")
    }

    /// Largest --samples: 10⁹ states (≈ 977,000 blocks of 1024).
    static let maxSamples = 1_000_000_000
    /// Largest shard count of --shard: at least the blocks of the largest run, so any run
    /// can be cut into one block per shard; block arithmetic ⌊i·B/n⌋ stays far from overflow.
    static let maxShards = 1_000_000

    func parsedShard() throws -> (Int, Int) {
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else {
            throw ValidationError("--shard must read i/n with 0 ≤ i < n (e.g. 3/16), not '\(shard)'")
        }
        guard n <= Self.maxShards else {
            throw ValidationError("--shard: at most \(OptionCheck.grouped(Self.maxShards)) shards, not \(n)")
        }
        return (i, n)
    }

    mutating func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        try bundle.refuseDilution("dataset")
        var settings = SamplerSettings.automatic(for: bundle.basis)
        if let s = sampler { settings.net = SamplerSettings.NetMethod(rawValue: s)! }
        if let e = exchange { settings.exchange = SamplerSettings.ExchangeMethod(rawValue: e)! }
        if let thinning { settings.thinning = thinning }
        var request = DatasetRequest(samples: samples, seed: seed, sampler: settings)
        (request.shardIndex, request.shardCount) = try parsedShard()
        request.threads = threads
        request.distanceWeighted = distanceWeighted
        request.flatten = flatten.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? []
        request.flattenBins = flattenBins
        request.resume = resume
        request.blockLimit = stopAfterBlocks
        var source = DatasetSource(modelName: bundle.name, network: bundle.network, networkFile: bundle.networkPath,
                                   basis: bundle.basis, experiments: bundle.experiments, measured: bundle.measured)
        source.sideFiles = bundle.sideFilePaths.map(\.path)
        source.measurementMaps = bundle.measurementMaps
        source.formulas = bundle.naturalAbundance.mapValues { "\($0.formula)" }
        let generator = try DatasetGenerator(source: source, request: request)
        let bar = ProgressBar()
        let result = try generator.run(into: out, force: force) { bar.update($0) }
        bar.finish()
        switch result {
        case .complete(let d):
            print("\(out): \(d.produced) states × \(d.layout.count) MID entries (\(d.layout.experimentIDs.count) experiments × \(d.layout.fragmentNames.count) fragments), \(d.freeFluxes.count) free fluxes; shard \(d.shard.index)/\(d.shard.count), blocks \(d.firstBlock)..<\(d.firstBlock + d.blockCount); rejected: \(d.rejected.singular) singular (redrawn), \(d.rejected.flattening) by flattening, \(d.rejected.distanceWeighted) by distance weighting")
        case .stopped(let done, let total):
            print("\(out): stopped after \(done) of \(total) blocks; continue with --resume")
        }
    }
}

/// Progress on stderr: a redrawn bar on a terminal, a line every ~10% or 30 s otherwise.
final class ProgressBar {
    let tty = isatty(2) != 0
    var lastLine = 0.0
    var lastFraction = -1.0
    var drew = false

    func update(_ p: DatasetProgress) {
        guard p.blocksTotal > 0 else { return }
        let fraction = Double(p.blocksDone) / Double(p.blocksTotal)
        let rate = p.elapsedSeconds > 0 ? Double(p.statesThisCall) / p.elapsedSeconds : 0
        let newBlocks = p.blocksDone - p.blocksResumed
        let eta = newBlocks > 0 ? p.elapsedSeconds / Double(newBlocks) * Double(p.blocksTotal - p.blocksDone) : 0
        let text = String(format: "%d/%d blocks  %d rows  %.0f states/s  ETA %@", p.blocksDone, p.blocksTotal,
                          p.rowsDone, rate, Self.clock(eta))
        if tty {
            let width = 30, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\(bar) \(text)\u{1B}[K".utf8))
            drew = true
        } else if fraction - lastFraction >= 0.1 || p.elapsedSeconds - lastLine >= 30 || p.blocksDone == p.blocksTotal {
            FileHandle.standardError.write(Data("dataset: \(text)\n".utf8))
            lastFraction = fraction
            lastLine = p.elapsedSeconds
        }
    }

    func finish() { if drew { FileHandle.standardError.write(Data("\n".utf8)) } }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}

struct DatasetMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the shards of one run (in block order) into one dataset.")

    @Argument(help: "Shard folders (all n shards of one run, any order).")
    var shards: [String]

    @Option(help: "Output folder.")
    var out: String

    @Flag(help: "Replace a dataset already in --out (never one of the shards).")
    var force = false

    func validate() throws {
        guard !shards.isEmpty else { throw ValidationError("give the shard folders to merge") }
    }

    mutating func run() throws {
        let d = try DatasetMerger.merge(shards, into: out, force: force)
        print("\(out): merged \(shards.count) shard(s): \(d.produced) states, \(d.blockCount) blocks")
    }
}

struct DatasetSplit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Split a dataset into OUT/train, OUT/validation and OUT/test.")

    @Argument(help: "Dataset folder.")
    var dataset: String

    @Option(help: "Train, validation and test fractions, comma-separated (sum 1).")
    var fractions: String = "0.8,0.1,0.1"

    @Option(help: "Seed of the shuffle.")
    var seed: UInt64 = 0

    @Option(help: "Output folder.")
    var out: String

    @Flag(help: "Replace parts already in --out (never the input dataset).")
    var force = false

    func parsedFractions() throws -> [Double] {
        let f = fractions.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard f.count == 3, f.allSatisfy({ $0 >= 0 }), abs(f.reduce(0, +) - 1) < 1e-9 else {
            throw ValidationError("--fractions must be three non-negative numbers summing to 1, e.g. 0.8,0.1,0.1 (got '\(fractions)')")
        }
        return f
    }

    func validate() throws { _ = try parsedFractions() }

    mutating func run() throws {
        let parts = try DatasetSplitter.split(dataset, into: out, fractions: try parsedFractions(), seed: seed, force: force)
        for d in parts { print("\(out)/\(d.split!.name): \(d.produced) states") }
    }
}

struct DatasetInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a dataset folder and check its files.")

    @Argument(help: "Dataset folder.")
    var dataset: String

    @Option(help: "Output format: table or json (the sidecar).")
    var format: OutputFormat = .table

    func validate() throws {
        guard format != .csv else { throw ValidationError("dataset info supports --format table or json") }
    }

    mutating func run() throws {
        let d = try DatasetDescription.read(directory: dataset)
        try d.checkFiles(in: dataset)
        if format == .json {
            print(String(decoding: try d.encoded(), as: UTF8.self), terminator: "")
            return
        }
        var lines = [
            "dataset \(dataset): \(d.produced) states (format \(d.formatVersion), mlflux \(d.mlfluxVersion))",
            "model \(d.model); network \(d.network.name) (\(d.network.file), sha256 \(d.network.sha256.map { $0.prefix(16) + "…" } ?? "not recorded"))",
            "labeling: \(d.layout.count) entries = \(d.layout.experimentIDs.count) experiments × \(d.layout.fragmentNames.count) fragments (\(d.layout.blockSize) per experiment)",
            "fluxes: \(d.freeFluxes.count) free, \(d.reactions.count) reactions",
            "sampler: net \(d.sampler.net.rawValue), exchange \(d.sampler.exchange.rawValue); seed \(d.seed)"
                + (d.filters.flatten.isEmpty ? "" : "; flattened: \(d.filters.flatten.joined(separator: ","))")
                + (d.filters.distanceWeighted ? "; distance-weighted" : ""),
            "blocks \(d.firstBlock)..<\(d.firstBlock + d.blockCount) of \(d.blockSize) (shard \(d.shard.index)/\(d.shard.count)); requested \(d.requested) of \(d.totalSamples)",
            "rejected: \(d.rejected.singular) singular (redrawn), \(d.rejected.flattening) by flattening, \(d.rejected.distanceWeighted) by distance weighting",
        ]
        if let s = d.split {
            lines.append("split \(s.name) of \(s.sourceRows) rows (fractions \(s.fractions.map { String($0) }.joined(separator: ",")), seed \(s.seed))")
        }
        lines.append("files: " + (DatasetDescription.dataFiles + (d.split != nil ? [DatasetDescription.rowsFile] : [])).joined(separator: ", ") + " — ok")
        print(lines.joined(separator: "\n"))
    }
}
