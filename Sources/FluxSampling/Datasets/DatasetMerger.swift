import Foundation
import SafeIO

/// Joins the shards of one run into one dataset.
///
/// The shards must come from the same run (identical sidecars apart from the shard fields:
/// model, network fingerprint, layout, sampler, filters, seed, sample count, shard count)
/// and form the complete set `0 ..< n`, each once. Their rows are concatenated in shard
/// order, which is block order (shard `i` holds a contiguous block range), so the result is
/// byte-identical to an unsharded run with the same seed.
///
/// - Complexity: O(total bytes), streamed in chunks; memory independent of the row count.
public enum DatasetMerger {
    /// Merges the datasets in `inputs` into `output`, locked (`FolderLock`) for the run.
    /// - Parameter force: replace a dataset already in `output` (never one of `inputs`).
    /// - Throws: `DatasetError` naming the folder and the differing field; `OutputError`.
    @discardableResult
    public static func merge(_ inputs: [String], into output: String, force: Bool = false) throws -> DatasetDescription {
        guard !inputs.isEmpty else { throw DatasetError.shardSet("no dataset to merge") }
        let fm = FileManager.default
        for input in inputs where OutputFile.sameFile(input, output) {
            throw OutputError(file: output, reason: "is the input dataset \(input); merge into another folder")
        }
        if !force && fm.fileExists(atPath: (output as NSString).appendingPathComponent(DatasetDescription.fileName)) {
            throw DatasetError.alreadyExists(directory: output)
        }
        var parts = try inputs.map { ($0, try DatasetDescription.read(directory: $0)) }
        for (dir, d) in parts {
            if d.split != nil { throw DatasetError.shardSet("\(dir) is a split (\(d.split!.name)), not a shard; merge the shards before splitting") }
            try d.checkFiles(in: dir)
        }
        let (firstDir, first) = parts[0]
        for (dir, d) in parts.dropFirst() {
            if let field = DatasetGenerator.firstDifference(first.runIdentity, d.runIdentity) {
                throw DatasetError.incompatibleShards(first: firstDir, other: dir, field: field)
            }
        }
        let n = first.shard.count
        parts.sort { $0.1.shard.index < $1.1.shard.index }
        let indices = parts.map(\.1.shard.index)
        guard indices == Array(0..<n) else {
            let missing = Set(0..<n).subtracting(indices).sorted()
            var dup: [Int] = []
            for i in Set(indices) where indices.filter({ $0 == i }).count > 1 { dup.append(i) }
            var why: [String] = []
            if !missing.isEmpty { why.append("missing shard(s) \(missing.map { "\($0)/\(n)" }.joined(separator: ", "))") }
            if !dup.isEmpty { why.append("shard(s) \(dup.sorted().map { "\($0)/\(n)" }.joined(separator: ", ")) given twice") }
            throw DatasetError.shardSet("the shards do not form a complete set of \(n): " + why.joined(separator: "; "))
        }

        let lock = try FolderLock(output)
        defer { lock.release() }
        if !force && fm.fileExists(atPath: (output as NSString).appendingPathComponent(DatasetDescription.fileName)) {
            throw DatasetError.alreadyExists(directory: output)
        }
        let partial = (output as NSString).appendingPathComponent(".partial-merge")
        try? fm.removeItem(atPath: partial)
        do { try fm.createDirectory(atPath: partial, withIntermediateDirectories: true) }
        catch { throw DatasetError.io(path: partial, reason: "cannot create (\(Excerpt.reason(error)))") }
        for name in DatasetDescription.dataFiles {
            try concatenate(parts.map { ($0.0 as NSString).appendingPathComponent(name) },
                            into: (partial as NSString).appendingPathComponent(name))
        }
        var merged = first
        merged.shard = .init(index: 0, count: 1)
        merged.firstBlock = 0
        merged.blockCount = parts.reduce(0) { $0 + $1.1.blockCount }
        merged.requested = parts.reduce(0) { $0 + $1.1.requested }
        merged.produced = parts.reduce(0) { $0 + $1.1.produced }
        merged.rejected = parts.reduce(.zero) { $0 + $1.1.rejected }
        merged.blockRows = parts.flatMap(\.1.blockRows)
        try moveIntoPlace(from: partial, to: output, description: merged, files: DatasetDescription.dataFiles)
        return merged
    }

    /// Streams the rows of same-dtype, same-width `.npy` files into one.
    static func concatenate(_ files: [String], into target: String) throws {
        let readers = try files.map { try NPYRowReader(path: $0) }
        let first = readers[0]
        let writer = try NPYWriter(path: target, dtype: first.header.dtype, columns: first.columns)
        for r in readers {
            guard r.header.dtype == first.header.dtype, r.columns == first.columns else {
                throw DatasetError.incompatibleShards(first: first.path, other: r.path, field: "array shapes or types")
            }
            let chunk = max(1, (8 << 20) / max(r.rowBytes, 1))
            var left = r.rows
            while left > 0 {
                let d = try r.next(rows: min(chunk, left))
                guard d.count > 0 else {
                    throw NPYError.truncated(file: r.path, expectedBytes: r.header.dataBytes, foundBytes: -1)
                }
                try d.withUnsafeBytes { try writer.append(bytes: $0) }
                left -= d.count / r.rowBytes
            }
        }
        try writer.finish()
    }

    /// Renames `files` from `partial` into `output`, writes the sidecar last, removes `partial`.
    /// An old sidecar is removed first, so `output` never shows a sidecar next to files it
    /// does not describe (an interruption in between leaves an unfinished folder, no dataset).
    static func moveIntoPlace(from partial: String, to output: String, description: DatasetDescription,
                              files: [String]) throws {
        let sidecar = (output as NSString).appendingPathComponent(DatasetDescription.fileName)
        if unlink(sidecar) != 0 && errno != ENOENT {
            throw OutputError(file: sidecar, reason: "cannot be replaced (\(String(cString: strerror(errno))))")
        }
        for name in files {
            try OutputFile.move((partial as NSString).appendingPathComponent(name),
                                to: (output as NSString).appendingPathComponent(name))
        }
        try description.write(directory: output)
        try? FileManager.default.removeItem(atPath: partial)
    }
}
