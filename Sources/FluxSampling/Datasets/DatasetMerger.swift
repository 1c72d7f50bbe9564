import Foundation

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
    /// Merges the datasets in `inputs` into `output` (which must not hold a dataset).
    /// - Throws: `DatasetError` naming the folder and the differing field.
    @discardableResult
    public static func merge(_ inputs: [String], into output: String) throws -> DatasetDescription {
        guard !inputs.isEmpty else { throw DatasetError.shardSet("no dataset to merge") }
        let fm = FileManager.default
        if fm.fileExists(atPath: (output as NSString).appendingPathComponent(DatasetDescription.fileName)) {
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

        try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
        let partial = (output as NSString).appendingPathComponent(".partial-merge")
        try? fm.removeItem(atPath: partial)
        try fm.createDirectory(atPath: partial, withIntermediateDirectories: true)
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
    static func moveIntoPlace(from partial: String, to output: String, description: DatasetDescription,
                              files: [String]) throws {
        let fm = FileManager.default
        for name in files {
            let target = (output as NSString).appendingPathComponent(name)
            try? fm.removeItem(atPath: target)
            do { try fm.moveItem(atPath: (partial as NSString).appendingPathComponent(name), toPath: target) }
            catch { throw DatasetError.io(path: target, reason: "cannot move into place (\(error.localizedDescription))") }
        }
        try description.write(directory: output)
        try? fm.removeItem(atPath: partial)
    }
}
