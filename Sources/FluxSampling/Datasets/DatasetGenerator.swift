import Dispatch
import EMU
import Foundation
import MLFluxCore
import SafeIO

/// What a dataset is generated from: a model's network, free fluxes, tracer experiments
/// and measured fragments (a bundle provides all of them).
public struct DatasetSource: Sendable {
    public var modelName: String
    public var network: MetabolicNetwork
    /// The FluxML file the network was read from (its bytes are fingerprinted).
    public var networkFile: String
    public var basis: FreeFluxBasis
    public var experiments: [TracerExperiment]
    public var measured: [MeasuredFragment]
    /// Files applied on top of the network (a bundle's flux bounds and tracer tables); they
    /// enter the recorded network hash.
    public var sideFiles: [String] = []
    /// The instrument's maps of fragments with a formula (natural abundance, by fragment name):
    /// the MIDs are simulated as measured, so a predictor trained on them takes uncorrected data.
    public var measurementMaps: [String: MeasurementMap] = [:]
    /// The elemental formulas behind `measurementMaps` (by fragment name), part of the recorded
    /// network hash.
    public var formulas: [String: String] = [:]

    public init(modelName: String, network: MetabolicNetwork, networkFile: String, basis: FreeFluxBasis,
                experiments: [TracerExperiment], measured: [MeasuredFragment]) {
        self.modelName = modelName; self.network = network; self.networkFile = networkFile
        self.basis = basis; self.experiments = experiments; self.measured = measured
    }

    /// Layout of the `mids.npy` rows.
    public var layout: LabelingLayout { LabelingLayout(experimentIDs: experiments.map(\.id), measured: measured) }
}

/// How many samples, which seed, which shard, which sampler and filters.
public struct DatasetRequest: Sendable {
    /// States per block. Fixed: changing it changes every dataset.
    public static let blockSize = 1024

    /// Samples requested for the whole run (all shards).
    public var samples: Int
    public var seed: UInt64
    /// Shard `index` of `count` (0-based).
    public var shardIndex: Int = 0
    public var shardCount: Int = 1
    public var sampler: SamplerSettings
    public var distanceWeighted: Bool = false
    /// Reaction ids whose net fluxes are flattened (empty: no flattening).
    public var flatten: [String] = []
    public var flattenBins: Int = 20
    /// Simulation workers (each with its own simulator replica).
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Continue an unfinished run in the same folder instead of starting over.
    public var resume: Bool = false
    /// Stop (resumably) after this many blocks in this call; `nil`: run to the end. For
    /// time-limited jobs and tests of `resume`.
    public var blockLimit: Int? = nil

    public init(samples: Int, seed: UInt64, sampler: SamplerSettings) {
        self.samples = samples; self.seed = seed; self.sampler = sampler
    }

    /// Blocks of the whole run: ⌈samples / blockSize⌉.
    public var totalBlocks: Int { (samples + Self.blockSize - 1) / Self.blockSize }

    /// Shard `i` of `n` holds the contiguous block range ⌊i·B/n⌋ ..< ⌊(i+1)·B/n⌋ of the
    /// `B` blocks, so shards concatenated in index order are the blocks in order.
    public static func blocks(shard i: Int, of n: Int, totalBlocks b: Int) -> Range<Int> {
        (i * b / n) ..< ((i + 1) * b / n)
    }

    /// Requested states in block `b`: `blockSize`, fewer in the last block.
    public func samples(inBlock b: Int) -> Int { min(Self.blockSize, samples - b * Self.blockSize) }
}

/// Progress of a run, reported after each block.
public struct DatasetProgress: Sendable {
    public var blocksDone: Int
    public var blocksTotal: Int
    /// Blocks already complete when this call started (resumed).
    public var blocksResumed: Int
    public var rowsDone: Int
    /// States simulated in this call.
    public var statesThisCall: Int
    public var elapsedSeconds: Double
}

/// The outcome of `DatasetGenerator.run`.
public enum DatasetRunResult: Sendable {
    /// All blocks done; the folder holds the dataset.
    case complete(DatasetDescription)
    /// `blockLimit` reached; `--resume` continues.
    case stopped(blocksDone: Int, blocksTotal: Int)
}

/// Generates a training dataset: flux states drawn from the feasible flux space, their MIDs
/// simulated for every tracer experiment, streamed into `.npy` files.
///
/// **Determinism by construction.** The run is cut into blocks of 1024 requested states.
/// Block `b` draws its free fluxes θ sequentially from `BlockRandom(seed:block:)` — its own
/// generator, seeded from (S, b) — then simulates them in parallel into preallocated slots
/// (one simulator replica per worker). A state whose EMU system is singular is counted and
/// replaced by a fresh draw from the same block generator, in slot order. So a block's rows
/// depend only on (S, b): any thread count gives the same bytes, and shard `i` of `n` (the
/// contiguous block range `⌊i·B/n⌋ ..< ⌊(i+1)·B/n⌋`) merged in shard order equals the
/// unsharded run byte for byte.
///
/// **Filters, per block** (so they compose with sharding): `flatten` keeps a subset of the
/// block's θ chosen by `MarginalFlattening` over the listed reactions' net fluxes, *before*
/// simulation (only kept states are simulated); `distanceWeighted` offers each simulated
/// MID pattern, in slot order, to a fresh `DistanceWeightedAcceptance`. Both draw from the
/// block's second stream (`stream: 1`).
///
/// **Streaming and crash safety.** Rows go straight to `DIR/.partial-<i>-of-<n>/*.npy`
/// (headers patched at the end) on a writer queue — block b is written while b + 1 is
/// computed — and each block is then appended to `progress.tsv`; the files are fsynced every
/// ~10 s. At the end the files are renamed into `DIR` and `dataset.json` is written last.
/// `resume` continues after the last recorded block whose rows every file holds (cutting
/// any half-written tail); without it an unfinished partial run is discarded.
/// Memory: a few blocks (`1024 × layout.count` floats each), independent of the sample count.
///
/// - Complexity: O(samples × simulation cost / threads).
public struct DatasetGenerator: Sendable {
    public let source: DatasetSource
    public let request: DatasetRequest
    public let layout: LabelingLayout
    let sampler: FluxSpaceSampler
    let flattenReactions: [Int]

    /// - Throws: `DatasetError.invalidRequest` for a bad count, shard or reaction id; the
    ///   sampler's error when the flux space cannot be sampled.
    public init(source: DatasetSource, request: DatasetRequest) throws {
        guard request.samples >= 1 else { throw DatasetError.invalidRequest("the sample count must be at least 1") }
        guard request.shardCount >= 1, request.shardIndex >= 0, request.shardIndex < request.shardCount else {
            throw DatasetError.invalidRequest("shard \(request.shardIndex)/\(request.shardCount) is not a shard: use i/n with 0 ≤ i < n")
        }
        guard request.threads >= 1 else { throw DatasetError.invalidRequest("the thread count must be at least 1") }
        guard request.flattenBins >= 1 else { throw DatasetError.invalidRequest("flattening needs at least 1 bin") }
        var idx: [Int] = []
        for r in request.flatten {
            guard let j = source.network.reactionIndex[r] else {
                throw DatasetError.invalidRequest("--flatten names unknown reaction '\(r)' (network '\(source.network.name)')")
            }
            idx.append(j)
        }
        self.source = source
        self.request = request
        self.layout = source.layout
        self.flattenReactions = idx
        self.sampler = try FluxSpaceSampler(network: source.network, basis: source.basis, settings: request.sampler)
    }

    /// The blocks this shard makes.
    public var blocks: Range<Int> {
        DatasetRequest.blocks(shard: request.shardIndex, of: request.shardCount, totalBlocks: request.totalBlocks)
    }

    /// The sidecar of this run before any block is done.
    public func description() throws -> DatasetDescription {
        let hash = try DatasetDescription.networkHash(networkFile: source.networkFile, sideFiles: source.sideFiles,
                                                         formulas: source.formulas)
        let b = blocks
        return DatasetDescription(
            formatVersion: DatasetDescription.currentFormatVersion, model: source.modelName,
            network: .init(name: source.network.name, file: (source.networkFile as NSString).lastPathComponent,
                           sha256: hash),
            experiments: source.experiments.map(\.id), layout: layout, freeFluxes: source.basis.names,
            reactions: source.network.reactions.map(\.id), sampler: request.sampler,
            filters: .init(distanceWeighted: request.distanceWeighted, flatten: request.flatten,
                           flattenBins: request.flatten.isEmpty ? 0 : request.flattenBins),
            seed: request.seed, blockSize: DatasetRequest.blockSize, totalSamples: request.samples,
            shard: .init(index: request.shardIndex, count: request.shardCount),
            firstBlock: b.lowerBound, blockCount: b.count,
            requested: b.reduce(0) { $0 + request.samples(inBlock: $1) }, produced: 0, rejected: .zero,
            blockRows: [], split: nil, mlfluxVersion: MLFluxVersion.string)
    }

    /// Name of the folder inside `DIR` where this shard's unfinished files live.
    public var partialFolderName: String { ".partial-\(request.shardIndex)-of-\(request.shardCount)" }

    // MARK: - One block

    /// The rows of block `b`: free fluxes, net and exchange fluxes (row-major), MIDs as float32.
    public struct Block: Sendable {
        public var index: Int
        public var rows: Int
        public var free: [Double]
        public var net: [Double]
        public var exchange: [Double]
        public var mids: [Float]
        public var rejected: DatasetDescription.Rejected
    }

    /// Computes block `b` with one simulator per worker (`simulators.count` workers).
    /// - Throws: `DatasetError.simulationFailed` when states keep failing after many redraws.
    public func makeBlock(_ b: Int, simulators: [EMUSimulator]) throws -> Block {
        let basis = source.basis
        let n = request.samples(inBlock: b)
        var rng = BlockRandom(seed: request.seed, block: b, stream: 0)
        var filterRNG = BlockRandom(seed: request.seed, block: b, stream: 1)
        var thetas = sampler.sample(count: n, using: &rng)
        var rejected = DatasetDescription.Rejected.zero

        if !flattenReactions.isEmpty {
            let values = thetas.map { θ -> [Double] in
                let s = basis.fluxState(free: θ)
                return flattenReactions.map { s.net[$0] }
            }
            let keep = MarginalFlattening.select(values, bins: request.flattenBins, using: &filterRNG).sorted()
            rejected.flattening = n - keep.count
            thetas = keep.map { thetas[$0] }
        }

        let L = layout.count, m = thetas.count
        let out = SlotBuffer(count: m, width: L)
        var pending = Array(0..<m)
        var rounds = 0
        while !pending.isEmpty {
            let slots = pending
            let states = slots.map { basis.fluxState(free: thetas[$0]) }
            let workers = min(simulators.count, slots.count)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var i = w
                while i < slots.count {
                    if let l = try? simulators[w].simulate(states[i]) { out.store(slot: slots[i], l.values) }
                    else { out.fail(slot: slots[i]) }
                    i += workers
                }
            }
            pending = slots.filter { out.failed($0) }
            guard !pending.isEmpty else { break }
            rounds += 1
            rejected.singular += pending.count
            guard rounds <= 100 else {
                throw DatasetError.simulationFailed(block: b, reason: "\(pending.count) flux states still singular after 100 redraws")
            }
            let fresh = sampler.sample(count: pending.count, using: &rng)
            for (k, s) in pending.enumerated() { thetas[s] = fresh[k]; out.reset(slot: s) }
        }

        var keep = Array(0..<m)
        if request.distanceWeighted {
            var acceptance = DistanceWeightedAcceptance()
            keep = (0..<m).filter { s in acceptance.offer(out.row(s).map(Double.init), using: &filterRNG) }
            rejected.distanceWeighted = m - keep.count
        }

        let R = basis.reactionCount, F = basis.count
        var block = Block(index: b, rows: keep.count, free: [], net: [], exchange: [], mids: [], rejected: rejected)
        block.free.reserveCapacity(keep.count * F)
        block.net.reserveCapacity(keep.count * R)
        block.exchange.reserveCapacity(keep.count * R)
        block.mids.reserveCapacity(keep.count * L)
        for s in keep {
            let state = basis.fluxState(free: thetas[s])
            block.free += thetas[s]
            block.net += state.net
            block.exchange += state.exchange
            block.mids += out.row(s)
        }
        return block
    }

    // MARK: - The run

    /// Generates this shard into `directory` (created if missing), which stays locked
    /// (`FolderLock`) for the whole run: a second run into it is refused.
    /// - Parameter force: replace a finished dataset already in `directory` (its sidecar
    ///   is removed only when the new files are moved into place).
    /// - Parameter progress: called after each block (on the calling thread).
    /// - Throws: `DatasetError`, `NPYError`, `OutputError` (locked folder, failed write).
    @discardableResult
    public func run(into directory: String, force: Bool = false,
                    progress: ((DatasetProgress) -> Void)? = nil) throws -> DatasetRunResult {
        let fm = FileManager.default
        let lock = try FolderLock(directory)
        defer { lock.release() }
        let final = (directory as NSString).appendingPathComponent(DatasetDescription.fileName)
        if fm.fileExists(atPath: final) && (request.resume || !force) { throw DatasetError.alreadyExists(directory: directory) }

        let partial = (directory as NSString).appendingPathComponent(partialFolderName)
        let requestFile = (partial as NSString).appendingPathComponent("request.json")
        let progressFile = (partial as NSString).appendingPathComponent("progress.tsv")
        var sidecar = try description()

        // Resume or start over.
        var done: [ProgressRecord] = []
        if request.resume, fm.fileExists(atPath: requestFile) {
            let old = try? JSONDecoder().decode(DatasetDescription.self,
                                               from: fm.contents(atPath: requestFile) ?? Data())
            guard let old else { throw DatasetError.resumeMismatch(directory: partial, field: "request file (unreadable)") }
            if let field = Self.firstDifference(old, sidecar) {
                throw DatasetError.resumeMismatch(directory: partial, field: field)
            }
            done = ProgressRecord.read(progressFile)
            // Only a prefix of this shard's blocks in order counts.
            var prefix: [ProgressRecord] = []
            for (k, r) in done.enumerated() {
                guard r.block == blocks.lowerBound + k else { break }
                prefix.append(r)
            }
            done = prefix
        } else {
            try? fm.removeItem(atPath: partial)
            do { try fm.createDirectory(atPath: partial, withIntermediateDirectories: true) }
            catch { throw DatasetError.io(path: partial, reason: "cannot create (\(Excerpt.reason(error)))") }
            try OutputFile.write(try sidecar.encoded(), to: requestFile)
            try OutputFile.write(Data(), to: progressFile)
        }
        let F = source.basis.count, R = source.basis.reactionCount, L = layout.count
        func path(_ name: String) -> String { (partial as NSString).appendingPathComponent(name) }
        let specs: [(String, NPYDType, Int)] = [
            (DatasetDescription.freeFluxesFile, .float64, F), (DatasetDescription.netFluxesFile, .float64, R),
            (DatasetDescription.exchangeFluxesFile, .float64, R), (DatasetDescription.midsFile, .float32, L),
        ]
        if !done.isEmpty {
            // Keep only the blocks whose rows every file holds in full (a machine crash can
            // lose unsynced rows that the progress file already lists).
            let available = specs.map { name, dtype, columns -> Int in
                let size = (try? fm.attributesOfItem(atPath: path(name))[.size] as? Int) ?? nil
                return max(0, ((size ?? 0) - NPYHeader.fixedLength)) / max(1, columns * dtype.size)
            }.min() ?? 0
            var cumulative = 0
            done = Array(done.prefix { r in cumulative += r.rows; return cumulative <= available })
        }
        let rowsSoFar = done.reduce(0) { $0 + $1.rows }
        let resuming = request.resume && !done.isEmpty
        let writers = try specs.map { name, dtype, columns in
            try NPYWriter(path: path(name), dtype: dtype, columns: columns, resumingRows: resuming ? rowsSoFar : nil)
        }
        // Rewrite the progress file to the records kept (drops a half-written line).
        try ProgressRecord.write(done, to: progressFile)
        guard let log = FileHandle(forWritingAtPath: progressFile) else {
            throw DatasetError.io(path: progressFile, reason: "cannot open")
        }
        try log.seekToEnd()
        let sink = BlockSink(writers: writers, log: log, logPath: progressFile)

        let primary = try makeSimulator()
        let simulators = try [primary] + (1..<max(1, request.threads)).map { _ in try primary.replica() }
        let start = DispatchTime.now().uptimeNanoseconds
        var records = done
        var statesThisCall = 0, newBlocks = 0
        for b in blocks.dropFirst(done.count) {
            if let limit = request.blockLimit, newBlocks >= limit {
                try sink.drain()
                try sink.close()
                return .stopped(blocksDone: records.count, blocksTotal: blocks.count)
            }
            let block = try makeBlock(b, simulators: simulators)
            // Block b is written while block b + 1 is computed.
            try sink.drain()
            sink.submit(block)
            records.append(ProgressRecord(block: b, rows: block.rows, rejected: block.rejected))
            newBlocks += 1
            statesThisCall += request.samples(inBlock: b)
            progress?(DatasetProgress(
                blocksDone: records.count, blocksTotal: blocks.count, blocksResumed: done.count,
                rowsDone: records.reduce(0) { $0 + $1.rows }, statesThisCall: statesThisCall,
                elapsedSeconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9))
        }
        try sink.drain()
        try log.close()
        for w in writers { try w.finish() }

        sidecar.produced = records.reduce(0) { $0 + $1.rows }
        sidecar.rejected = records.reduce(.zero) { $0 + $1.rejected }
        sidecar.blockRows = records.map(\.rows)
        try DatasetMerger.moveIntoPlace(from: partial, to: directory, description: sidecar,
                                        files: DatasetDescription.dataFiles)
        if records.isEmpty {
            progress?(DatasetProgress(blocksDone: 0, blocksTotal: 0, blocksResumed: 0, rowsDone: 0,
                                      statesThisCall: 0, elapsedSeconds: 0))
        }
        return .complete(sidecar)
    }

    /// The simulator for the source's measured fragments and experiments.
    public func makeSimulator() throws -> EMUSimulator {
        try EMUSimulator(network: source.network, measured: source.measured, experiments: source.experiments,
                         measurementMaps: source.measurementMaps)
    }

    /// The first top-level sidecar field in which `a` and `b` differ, or `nil`.
    static func firstDifference(_ a: DatasetDescription, _ b: DatasetDescription) -> String? {
        guard let da = try? a.encoded(), let db = try? b.encoded(),
              let oa = try? JSONSerialization.jsonObject(with: da) as? [String: Any],
              let ob = try? JSONSerialization.jsonObject(with: db) as? [String: Any] else { return a == b ? nil : "settings" }
        func bytes(_ v: Any?) -> Data? {
            v.flatMap { try? JSONSerialization.data(withJSONObject: ["v": $0], options: [.sortedKeys]) }
        }
        for k in Set(oa.keys).union(ob.keys).sorted() where bytes(oa[k]) != bytes(ob[k]) { return k }
        return nil
    }
}

/// One completed block in `progress.tsv`: `block rows singular distanceWeighted flattening`.
struct ProgressRecord: Equatable {
    var block: Int
    var rows: Int
    var rejected: DatasetDescription.Rejected

    var line: String { "\(block)\t\(rows)\t\(rejected.singular)\t\(rejected.distanceWeighted)\t\(rejected.flattening)" }

    /// The complete lines of `path` (a cut-off last line is ignored).
    static func read(_ path: String) -> [ProgressRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if !text.hasSuffix("\n") { lines.removeLast() }  // half-written
        return lines.compactMap { line in
            let f = line.split(separator: "\t").compactMap { Int($0) }
            guard f.count == 5 else { return nil }
            return ProgressRecord(block: f[0], rows: f[1],
                                  rejected: .init(singular: f[2], distanceWeighted: f[3], flattening: f[4]))
        }
    }

    static func write(_ records: [ProgressRecord], to path: String) throws {
        let text = records.map { $0.line + "\n" }.joined()
        try OutputFile.write(text, to: path)
    }
}

/// Preallocated MID rows of one block, written by the workers (each slot by one worker).
final class SlotBuffer: @unchecked Sendable {
    private let width: Int
    private let values: UnsafeMutableBufferPointer<Float>
    private let failedFlags: UnsafeMutableBufferPointer<Bool>

    init(count: Int, width: Int) {
        self.width = width
        values = .allocate(capacity: max(1, count * width))
        values.initialize(repeating: 0)
        failedFlags = .allocate(capacity: max(1, count))
        failedFlags.initialize(repeating: false)
    }

    deinit { values.deallocate(); failedFlags.deallocate() }

    func store(slot: Int, _ v: [Double]) {
        precondition(v.count == width, "simulator returned \(v.count) values, the layout has \(width)")
        let base = slot * width
        for k in 0..<width { values[base + k] = Float(v[k]) }
    }

    func fail(slot: Int) { failedFlags[slot] = true }
    func failed(_ slot: Int) -> Bool { failedFlags[slot] }
    func reset(slot: Int) { failedFlags[slot] = false }
    func row(_ slot: Int) -> [Float] { Array(values[slot * width ..< (slot + 1) * width]) }
}

/// Writes finished blocks on a background queue: rows to the `.npy` streams, then the
/// block's line to `progress.tsv`. At most one block is in flight (`drain` waits for it).
/// Files are fsynced every ~10 s; a resume trusts only rows every file holds.
final class BlockSink: @unchecked Sendable {
    private let writers: [NPYWriter]
    private let log: FileHandle
    private let queue = DispatchQueue(label: "mlflux.dataset.writer")
    private let group = DispatchGroup()
    private var error: (any Error)?
    private var lastSync = DispatchTime.now().uptimeNanoseconds

    private let logPath: String

    init(writers: [NPYWriter], log: FileHandle, logPath: String) {
        self.writers = writers
        self.log = log
        self.logPath = logPath
    }

    func submit(_ block: DatasetGenerator.Block) {
        queue.async(group: group) { [self] in
            guard error == nil else { return }
            do {
                try writers[0].append(block.free)
                try writers[1].append(block.net)
                try writers[2].append(block.exchange)
                try writers[3].append(block.mids)
                let now = DispatchTime.now().uptimeNanoseconds
                if now - lastSync > 10_000_000_000 {
                    for w in writers { try w.sync() }
                    lastSync = now
                }
                let record = ProgressRecord(block: block.index, rows: block.rows, rejected: block.rejected)
                try NPYWriter.writing(logPath) { try log.write(contentsOf: Data((record.line + "\n").utf8)) }
            } catch {
                self.error = error
            }
        }
    }

    /// Waits for the block in flight; rethrows its write error.
    func drain() throws {
        group.wait()
        if let e = error { throw e }
    }

    /// Syncs and closes without finishing the streams (a resumable stop).
    func close() throws {
        for w in writers { try w.sync(); try w.close() }
        try NPYWriter.writing(logPath) { try log.synchronize(); try log.close() }
    }
}
