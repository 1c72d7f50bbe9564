import Foundation
import SafeIO
import MLFluxCore

/// The version of MLFlux recorded in the datasets it writes.
public enum MLFluxVersion {
    public static let string = "0.1.0"
}

/// `dataset.json`, the sidecar of a dataset folder: what the `.npy` files hold and how
/// they were made, enough to check that shards belong together and to reproduce a run.
///
/// A folder holds `free_fluxes.npy` (float64, rows × `freeFluxes.count`), `net_fluxes.npy`
/// and `exchange_fluxes.npy` (float64, rows × `reactions.count`), `mids.npy` (float32,
/// rows × `layout.count`) and, for a split, `rows.npy` (int64, rows × 1: the source row of each row).
/// Row `r` of every file is the same flux state. `dataset.json` is written last, so a
/// folder with it is complete.
public struct DatasetDescription: Codable, Sendable, Equatable {
    public static let currentFormatVersion = 1
    public static let fileName = "dataset.json"
    public static let freeFluxesFile = "free_fluxes.npy"
    public static let netFluxesFile = "net_fluxes.npy"
    public static let exchangeFluxesFile = "exchange_fluxes.npy"
    public static let midsFile = "mids.npy"
    public static let rowsFile = "rows.npy"
    /// The four files every dataset has.
    public static let dataFiles = [freeFluxesFile, netFluxesFile, exchangeFluxesFile, midsFile]

    public struct Network: Codable, Sendable, Equatable {
        public var name: String
        /// File name (no folder) of the FluxML file.
        public var file: String
        /// SHA-256 (64 hex digits) of the FluxML file's bytes, or of the FluxML file and the
        /// bundle's side files (flux bounds, tracers) when it has some (`networkHash`); `nil`
        /// only in datasets written before the hash was recorded.
        public var sha256: String?
    }

    /// The network hash a dataset records: SHA-256 of the FluxML file's bytes when there are
    /// no `sideFiles` and no `formulas`; else SHA-256 over the FluxML bytes, then for each side
    /// file in order a 0 byte, its length in decimal, a 0 byte and its bytes, then for each
    /// fragment formula (natural abundance; sorted by fragment name) a 1 byte, the name, a 0
    /// byte and the formula — so a dataset simulated before formulas changed is refused.
    /// - Throws: `DatasetError.io` naming a file that cannot be read.
    public static func networkHash(networkFile: String, sideFiles: [String] = [],
                                   formulas: [String: String] = [:]) throws -> String {
        func bytes(_ path: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DatasetError.io(path: path, reason: "cannot read the file")
            }
            return [UInt8](data)
        }
        let network = try bytes(networkFile)
        if sideFiles.isEmpty && formulas.isEmpty { return SHA256.hex(network) }
        var h = SHA256()
        h.update(network)
        for path in sideFiles {
            let b = try bytes(path)
            h.update([0] + Array(String(b.count).utf8) + [0])
            h.update(b)
        }
        for (name, formula) in formulas.sorted(by: { $0.key < $1.key }) {
            h.update([1] + Array(name.utf8) + [0] + Array(formula.utf8))
        }
        return h.hexDigest()
    }

    public struct Filters: Codable, Sendable, Equatable {
        /// Distance-weighted acceptance over MID patterns, per block.
        public var distanceWeighted: Bool
        /// Reactions whose net-flux marginals are flattened, per block (empty: none).
        public var flatten: [String]
        public var flattenBins: Int
    }

    public struct Shard: Codable, Sendable, Equatable {
        public var index: Int
        public var count: Int
    }

    public struct Rejected: Codable, Sendable, Equatable {
        /// Flux states the simulator rejected (singular EMU system); each was redrawn.
        public var singular: Int
        /// States dropped by distance-weighted acceptance.
        public var distanceWeighted: Int
        /// States dropped by marginal flattening (before simulation).
        public var flattening: Int

        public static let zero = Rejected(singular: 0, distanceWeighted: 0, flattening: 0)
        public static func + (a: Rejected, b: Rejected) -> Rejected {
            Rejected(singular: a.singular + b.singular, distanceWeighted: a.distanceWeighted + b.distanceWeighted,
                     flattening: a.flattening + b.flattening)
        }
    }

    /// A split (train/validation/test) of a dataset: its rows are `rows.npy` of the source.
    public struct Split: Codable, Sendable, Equatable {
        public var name: String
        public var fractions: [Double]
        public var seed: UInt64
        public var sourceRows: Int
    }

    public var formatVersion: Int
    public var model: String
    public var network: Network
    public var experiments: [String]
    public var layout: LabelingLayout
    public var freeFluxes: [String]
    public var reactions: [String]
    public var sampler: SamplerSettings
    public var filters: Filters
    public var seed: UInt64
    /// States per block (1024): block `b` holds requested states `b·blockSize ..< (b+1)·blockSize`.
    public var blockSize: Int
    /// Samples requested for the whole run (all shards).
    public var totalSamples: Int
    public var shard: Shard
    /// The blocks this dataset holds: `firstBlock ..< firstBlock + blockCount`.
    public var firstBlock: Int
    public var blockCount: Int
    /// Samples requested in these blocks.
    public var requested: Int
    /// Rows in the files.
    public var produced: Int
    public var rejected: Rejected
    /// Rows each block contributed, in block order (empty for a split).
    public var blockRows: [Int]
    public var split: Split?
    public var mlfluxVersion: String

    /// Reads `directory/dataset.json`.
    /// - Throws: `DatasetError` naming the file.
    public static func read(directory: String) throws -> DatasetDescription {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError.notADataset(directory: directory,
                                           reason: FileManager.default.fileExists(atPath: directory)
                                           ? "no \(fileName) (an unfinished run leaves none; use --resume)" : "no such folder")
        }
        let data: Data
        do { data = try InputFile.read(path, limit: maxSidecarBytes, what: "dataset sidecar") }
        catch let e as InputFileError { throw DatasetError.invalidSidecar(file: path, reason: e.reason) }
        let d: DatasetDescription
        do {
            d = try JSONDecoder().decode(DatasetDescription.self, from: data)
        } catch let e as DecodingError {
            throw DatasetError.invalidSidecar(file: path, reason: DecodingErrorText.describe(e))
        } catch {
            throw DatasetError.invalidSidecar(file: path, reason: Excerpt.reason(error))
        }
        guard d.formatVersion <= currentFormatVersion else {
            throw DatasetError.invalidSidecar(file: path, reason: "format version \(d.formatVersion) is newer than this mlflux reads (\(currentFormatVersion))")
        }
        if let problem = d.inconsistency {
            throw DatasetError.invalidSidecar(file: path, reason: problem)
        }
        return d
    }

    /// Largest `dataset.json` read (its `blockRows` list grows by one entry per 1024 states).
    public static let maxSidecarBytes = 64 << 20

    /// Most states one dataset may request (all shards): 10^12, far above any training set,
    /// small enough that block and row arithmetic cannot overflow.
    public static let maxSamples = 1_000_000_000_000

    /// The first field whose value cannot be right (a count out of range, block numbers past
    /// the run, rows that do not add up), or `nil`. Checked on every read, so that a hand-edited
    /// or hostile sidecar is refused with the field named instead of trapping on arithmetic.
    public var inconsistency: String? {
        func field(_ name: String, _ value: Int, _ why: String) -> String { "field '\(name)' = \(value): \(why)" }
        guard (1...(1 << 20)).contains(blockSize) else { return field("blockSize", blockSize, "must be 1 … 1048576") }
        guard (0...Self.maxSamples).contains(totalSamples) else {
            return field("totalSamples", totalSamples, "must be 0 … \(Self.maxSamples)")
        }
        let blocks = (totalSamples + blockSize - 1) / blockSize
        guard (1...Self.maxSamples).contains(shard.count) else {
            return field("shard.count", shard.count, "must be 1 … \(Self.maxSamples)")
        }
        guard (0..<shard.count).contains(shard.index) else { return field("shard.index", shard.index, "must be 0 … \(shard.count - 1)") }
        guard (0...blocks).contains(firstBlock) else { return field("firstBlock", firstBlock, "must be 0 … \(blocks) (the run's blocks)") }
        guard (0...(blocks - firstBlock)).contains(blockCount) else {
            return field("blockCount", blockCount, "must be 0 … \(blocks - firstBlock) (blocks after firstBlock)")
        }
        guard (0...totalSamples).contains(requested) || split != nil else {
            return field("requested", requested, "must be 0 … totalSamples (\(totalSamples))")
        }
        guard produced >= 0, produced <= Self.maxSamples else { return field("produced", produced, "must be 0 … \(Self.maxSamples)") }
        if split == nil {
            guard blockRows.count == blockCount else {
                return "field 'blockRows' has \(blockRows.count) entries, blockCount is \(blockCount)"
            }
            var sum = 0
            for (i, n) in blockRows.enumerated() {
                guard (0...blockSize).contains(n) else { return field("blockRows[\(i)]", n, "must be 0 … \(blockSize)") }
                sum += n
            }
            guard sum == produced else { return field("produced", produced, "blockRows add up to \(sum)") }
        }
        guard !freeFluxes.isEmpty, !reactions.isEmpty, layout.count > 0 else {
            return "fields 'freeFluxes', 'reactions' and 'layout' must not be empty"
        }
        guard layout.count <= 1 << 24, freeFluxes.count <= 1 << 16, reactions.count <= 1 << 16 else {
            return "field 'layout' / 'freeFluxes' / 'reactions' is larger than any network MLFlux simulates"
        }
        guard (0...(1 << 16)).contains(filters.flattenBins) else {
            return field("filters.flattenBins", filters.flattenBins, "must be 0 … 65536")
        }
        if let s = split {
            guard s.sourceRows >= 0, s.sourceRows <= Self.maxSamples else { return field("split.sourceRows", s.sourceRows, "out of range") }
            guard produced <= s.sourceRows else { return field("produced", produced, "more than the source's \(s.sourceRows) rows") }
        }
        return nil
    }

    /// The sidecar JSON: pretty-printed with sorted keys (stable bytes for equal values).
    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var d = try e.encode(self)
        d.append(0x0a)
        return d
    }

    /// Writes `directory/dataset.json` (atomically, through `OutputFile`).
    /// - Throws: `OutputError` naming the file.
    public func write(directory: String) throws {
        try OutputFile.write(try encoded(), to: (directory as NSString).appendingPathComponent(Self.fileName))
    }

    /// This description with the per-shard fields blanked: two shards of one run agree on it.
    var runIdentity: DatasetDescription {
        var d = self
        d.shard = Shard(index: 0, count: shard.count)
        d.firstBlock = 0; d.blockCount = 0; d.requested = 0; d.produced = 0
        d.rejected = .zero; d.blockRows = []
        return d
    }

    /// Checks the `.npy` files of `directory` against this description (headers only):
    /// dtypes, shapes, and that no file is truncated.
    /// - Throws: `NPYError` or `DatasetError` naming the file.
    public func checkFiles(in directory: String) throws {
        let expected: [(String, NPYDType, Int)] = [
            (Self.freeFluxesFile, .float64, freeFluxes.count), (Self.netFluxesFile, .float64, reactions.count),
            (Self.exchangeFluxesFile, .float64, reactions.count), (Self.midsFile, .float32, layout.count),
        ] + (split != nil ? [(Self.rowsFile, NPYDType.int64, 1)] : [])
        for (name, dtype, columns) in expected {
            let path = (directory as NSString).appendingPathComponent(name)
            let h = try NPYHeader.read(contentsOf: path)
            guard h.dtype == dtype else { throw NPYError.wrongDType(file: path, expected: dtype, found: h.dtype.rawValue) }
            let want = [produced, columns]
            guard h.shape == want else {
                throw NPYError.wrongShape(file: path, expected: "(\(want.map(String.init).joined(separator: ", "))) from \(Self.fileName)", found: h.shape)
            }
        }
    }
}

/// A dataset operation that cannot go ahead; each case names the folder or file.
public enum DatasetError: Error, Equatable, Sendable, CustomStringConvertible {
    case notADataset(directory: String, reason: String)
    case invalidSidecar(file: String, reason: String)
    case alreadyExists(directory: String)
    case invalidRequest(String)
    case resumeMismatch(directory: String, field: String)
    case incompatibleShards(first: String, other: String, field: String)
    case shardSet(String)
    case io(path: String, reason: String)
    case simulationFailed(block: Int, reason: String)

    public var description: String {
        switch self {
        case .notADataset(let d, let why): return "\(d): not a dataset (\(why))"
        case .invalidSidecar(let f, let why): return "\(f): \(why)"
        case .alreadyExists(let d):
            return "\(d) already holds a dataset (\(DatasetDescription.fileName)); choose another --out or add --force to replace it"
        case .invalidRequest(let why): return why
        case .resumeMismatch(let d, let f):
            return "\(d): the unfinished run there was started with a different \(f); rerun without --resume to start over"
        case .incompatibleShards(let a, let b, let f):
            return "\(b) does not belong with \(a): their \(f) differ"
        case .shardSet(let why): return why
        case .io(let p, let why): return "\(p): \(why)"
        case .simulationFailed(let b, let why): return "block \(b): \(why)"
        }
    }
}
