import Foundation
import SafeIO

/// Splits a dataset into train / validation / test sub-datasets.
///
/// Row counts follow `fractions` by largest remainder (100 rows at 0.8/0.1/0.1 give
/// 80/10/10). Rows are assigned by a seeded Fisher–Yates shuffle of `0 ..< rows`
/// (SplitMix64); within each part they keep their source order, and each part's
/// `rows.npy` (int64) lists its source rows. The parts are disjoint and cover every row.
/// Each part is a dataset folder (`OUT/train`, `OUT/validation`, `OUT/test`) whose
/// sidecar records the split.
///
/// - Complexity: O(total bytes) streamed once; memory O(rows) for the assignment.
public enum DatasetSplitter {
    public static let defaultFractions = [0.8, 0.1, 0.1]
    public static let partNames = ["train", "validation", "test"]

    /// Row counts per part for `rows` rows (largest remainder; ties to the earlier part).
    public static func sizes(rows: Int, fractions: [Double]) -> [Int] {
        let total = fractions.reduce(0, +)
        let raw = fractions.map { $0 / total * Double(rows) }
        var sizes = raw.map { Int($0.rounded(.down)) }
        let order = raw.indices.sorted { (raw[$0] - raw[$0].rounded(.down)) > (raw[$1] - raw[$1].rounded(.down)) }
        var left = rows - sizes.reduce(0, +)
        for i in order where left > 0 { sizes[i] += 1; left -= 1 }
        return sizes
    }

    /// The part (0, 1, 2) of each row.
    public static func assignment(rows: Int, fractions: [Double], seed: UInt64) -> [UInt8] {
        var perm = Array(0..<rows)
        var rng = BlockRandom(seed: seed, block: -1, stream: 7)
        if rows > 1 {
            for i in stride(from: rows - 1, to: 0, by: -1) {
                let j = Int(rng.next(upperBound: UInt64(i + 1)))
                perm.swapAt(i, j)
            }
        }
        var part = [UInt8](repeating: 0, count: rows)
        var start = 0
        for (p, n) in sizes(rows: rows, fractions: fractions).enumerated() {
            for k in start ..< start + n { part[perm[k]] = UInt8(p) }
            start += n
        }
        return part
    }

    /// Splits `input` into `output/train`, `output/validation`, `output/test`; `output` is
    /// locked (`FolderLock`) for the run.
    /// - Parameter force: replace parts already in `output` (never `input` itself).
    /// - Throws: `DatasetError` for bad fractions or an existing output; `OutputError`.
    @discardableResult
    public static func split(_ input: String, into output: String, fractions: [Double] = defaultFractions,
                             seed: UInt64 = 0, force: Bool = false) throws -> [DatasetDescription] {
        guard fractions.count == 3, fractions.allSatisfy({ $0 >= 0 && $0.isFinite }),
              abs(fractions.reduce(0, +) - 1) < 1e-9 else {
            throw DatasetError.invalidRequest("the fractions must be three non-negative numbers summing to 1 (train, validation, test), e.g. 0.8,0.1,0.1")
        }
        let source = try DatasetDescription.read(directory: input)
        try source.checkFiles(in: input)
        let fm = FileManager.default
        let dirs = partNames.map { (output as NSString).appendingPathComponent($0) }
        for d in dirs + [output] where OutputFile.sameFile(d, input) {
            throw OutputError(file: d, reason: "is the input dataset \(input); split into another folder")
        }
        let lock = try FolderLock(output)
        defer { lock.release() }
        for d in dirs where !force && fm.fileExists(atPath: (d as NSString).appendingPathComponent(DatasetDescription.fileName)) {
            throw DatasetError.alreadyExists(directory: d)
        }
        let rows = source.produced
        let part = assignment(rows: rows, fractions: fractions, seed: seed)
        let partials = dirs.map { ($0 as NSString).appendingPathComponent(".partial-split") }
        for p in partials {
            try? fm.removeItem(atPath: p)
            do { try fm.createDirectory(atPath: p, withIntermediateDirectories: true) }
            catch { throw DatasetError.io(path: p, reason: "cannot create (\(Excerpt.reason(error)))") }
        }
        // Source rows of each part, in source order.
        let indexWriters = try partials.map {
            try NPYWriter(path: ($0 as NSString).appendingPathComponent(DatasetDescription.rowsFile), dtype: .int64, columns: 1)
        }
        for p in 0..<3 { try indexWriters[p].append((0..<rows).filter { part[$0] == p }.map { Int64($0) }) }
        for w in indexWriters { try w.finish() }

        for name in DatasetDescription.dataFiles {
            let reader = try NPYRowReader(path: (input as NSString).appendingPathComponent(name))
            let writers = try partials.map {
                try NPYWriter(path: ($0 as NSString).appendingPathComponent(name), dtype: reader.header.dtype,
                              columns: reader.columns)
            }
            let rb = reader.rowBytes
            let chunk = max(1, (8 << 20) / max(rb, 1))
            var row = 0
            while row < rows {
                let d = try reader.next(rows: min(chunk, rows - row))
                guard d.count > 0 else { throw NPYError.truncated(file: reader.path, expectedBytes: reader.header.dataBytes, foundBytes: -1) }
                let n = d.count / rb
                try d.withUnsafeBytes { raw in
                    // Runs of consecutive rows going to the same part are written at once.
                    var k = 0
                    while k < n {
                        var e = k + 1
                        while e < n && part[row + e] == part[row + k] { e += 1 }
                        try writers[Int(part[row + k])].append(bytes: UnsafeRawBufferPointer(rebasing: raw[k * rb ..< e * rb]))
                        k = e
                    }
                }
                row += n
            }
            for w in writers { try w.finish() }
        }

        var out: [DatasetDescription] = []
        let counts = sizes(rows: rows, fractions: fractions)
        for p in 0..<3 {
            var d = source
            d.produced = counts[p]
            d.blockRows = []
            d.split = .init(name: partNames[p], fractions: fractions, seed: seed, sourceRows: rows)
            try DatasetMerger.moveIntoPlace(from: partials[p], to: dirs[p], description: d,
                                            files: DatasetDescription.dataFiles + [DatasetDescription.rowsFile])
            out.append(d)
        }
        return out
    }
}
