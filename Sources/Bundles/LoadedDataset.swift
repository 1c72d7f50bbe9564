import Foundation
import FluxSampling
import MLFluxCore
import NeuralNetworks

/// A dataset folder (`mlflux dataset generate`) read into memory for training or
/// evaluation, checked against a bundle: same labeling layout, same free fluxes,
/// same reactions.
public struct LoadedDataset: Sendable {
    public let directory: String
    public let description: DatasetDescription
    /// Free fluxes θ per sample.
    public let free: [[Double]]
    /// Full flux states per sample.
    public let states: [FluxState]
    /// MIDs `[samples, layout.count]` (Float32).
    public let mids: Matrix
    /// Things the caller should tell the user (e.g. a dataset that predates network hashes).
    public var warnings: [String] = []

    public var count: Int { free.count }

    public static func load(_ directory: String, for bundle: ModelBundle) throws -> LoadedDataset {
        let d = try DatasetDescription.read(directory: directory)
        let sidecar = (directory as NSString).appendingPathComponent(DatasetDescription.fileName)
        func mismatch(_ what: String) -> DatasetError {
            DatasetError.invalidSidecar(file: sidecar, reason: "\(what) differ(s) from bundle '\(bundle.name)'")
        }
        var warnings: [String] = []
        let bundleHash = try bundle.networkHash()
        if let hash = d.network.sha256 {
            guard hash == bundleHash else {
                throw DatasetError.invalidSidecar(file: sidecar, reason: "made for another network: its network hash is \(hash), bundle '\(bundle.name)' has \(bundleHash) (\(bundle.networkPath)\(bundle.sideFilePaths.isEmpty ? "" : " with " + bundle.sideFilePaths.map(\.path).joined(separator: ", "))\(bundle.naturalAbundance.isEmpty ? "" : " and its fragment formulas")); generate a dataset for this bundle")
            }
        } else {
            warnings.append("\(sidecar) records no network hash (an older dataset); it is used because its layout, free fluxes and reactions match bundle '\(bundle.name)'")
        }
        guard d.layout == bundle.layout else { throw mismatch("labeling layout") }
        guard d.freeFluxes == bundle.basis.names else { throw mismatch("free fluxes") }
        guard d.reactions == bundle.network.reactions.map(\.id) else { throw mismatch("reactions") }
        func path(_ f: String) -> String { (directory as NSString).appendingPathComponent(f) }
        let n = d.produced, R = d.reactions.count, P = d.freeFluxes.count
        func rows(_ a: NPYArray, _ columns: Int, _ file: String) throws -> [[Double]] {
            guard a.shape == [n, columns] else {
                throw DatasetError.invalidSidecar(file: path(file), reason: "shape \(a.shape), expected [\(n), \(columns)]")
            }
            let v = a.doubles
            return (0..<n).map { Array(v[($0 * columns)..<(($0 + 1) * columns)]) }
        }
        let free = try rows(NPYArray(contentsOf: path(DatasetDescription.freeFluxesFile), expecting: .float64), P,
                            DatasetDescription.freeFluxesFile)
        let net = try rows(NPYArray(contentsOf: path(DatasetDescription.netFluxesFile), expecting: .float64), R,
                           DatasetDescription.netFluxesFile)
        let xch = try rows(NPYArray(contentsOf: path(DatasetDescription.exchangeFluxesFile), expecting: .float64), R,
                           DatasetDescription.exchangeFluxesFile)
        let midArray = try NPYArray(contentsOf: path(DatasetDescription.midsFile), expecting: .float32)
        guard midArray.shape == [n, d.layout.count] else {
            throw DatasetError.invalidSidecar(file: path(DatasetDescription.midsFile),
                                              reason: "shape \(midArray.shape), expected [\(n), \(d.layout.count)]")
        }
        guard n > 0 else {
            throw DatasetError.invalidSidecar(file: sidecar, reason: "the dataset has 0 rows; there is nothing to train or evaluate on")
        }
        let mids = midArray.floats
        try checkFinite(free, file: path(DatasetDescription.freeFluxesFile), names: d.freeFluxes)
        try checkFinite(net, file: path(DatasetDescription.netFluxesFile), names: d.reactions)
        try checkFinite(xch, file: path(DatasetDescription.exchangeFluxesFile), names: d.reactions, nonNegative: true)
        try checkMIDs(mids, layout: d.layout, file: path(DatasetDescription.midsFile))
        var loaded = LoadedDataset(directory: directory, description: d, free: free,
                                   states: zip(net, xch).map { FluxState(net: $0, exchange: $1) },
                                   mids: Matrix(rows: n, columns: d.layout.count, storage: mids))
        loaded.warnings = warnings
        return loaded
    }

    /// Every value finite (and ≥ 0 where `nonNegative`); the first bad one is named by row and column.
    static func checkFinite(_ rows: [[Double]], file: String, names: [String], nonNegative: Bool = false) throws {
        for (r, row) in rows.enumerated() {
            for (j, x) in row.enumerated() where !x.isFinite || (nonNegative && x < 0) {
                throw DatasetError.invalidSidecar(file: file, reason: "row \(r), column \(j) ('\(names[j])'): \(x) is not \(nonNegative ? "a non-negative" : "a finite") number")
            }
        }
    }

    /// Every MID entry finite and non-negative, every MID summing to 1 within Float32 round-off.
    static func checkMIDs(_ mids: [Float], layout: LabelingLayout, file: String) throws {
        let width = layout.count, offsets = layout.offsets
        for r in 0 ..< mids.count / max(width, 1) {
            for e in layout.experimentIDs.indices {
                for m in layout.fragmentNames.indices {
                    let start = r * width + e * layout.blockSize + offsets[m]
                    var sum: Float = 0
                    for k in 0 ..< layout.isotopologues[m] {
                        let x = mids[start + k]
                        guard x.isFinite, x >= 0 else {
                            throw DatasetError.invalidSidecar(file: file, reason: "row \(r): \(layout.experimentIDs[e]) \(layout.fragmentNames[m]) M+\(k) = \(x) is not a fraction (finite, ≥ 0)")
                        }
                        sum += x
                    }
                    guard abs(sum - 1) <= 1e-3 else {
                        throw DatasetError.invalidSidecar(file: file, reason: "row \(r): the MID of \(layout.experimentIDs[e]) \(layout.fragmentNames[m]) sums to \(sum), not 1")
                    }
                }
            }
        }
    }

    /// Rows `range` as a new dataset value (same description).
    public func slice(_ range: Range<Int>) -> LoadedDataset {
        LoadedDataset(directory: directory, description: description, free: Array(free[range]),
                      states: Array(states[range]), mids: mids.rows(range))
    }

    /// The rows of several datasets of one bundle, in order (the first description is kept).
    public static func concatenate(_ parts: [LoadedDataset]) -> LoadedDataset {
        precondition(!parts.isEmpty)
        if parts.count == 1 { return parts[0] }
        let columns = parts[0].mids.columns
        return LoadedDataset(directory: parts.map(\.directory).joined(separator: ","), description: parts[0].description,
                             free: parts.flatMap(\.free), states: parts.flatMap(\.states),
                             mids: Matrix(rows: parts.reduce(0) { $0 + $1.count }, columns: columns,
                                          storage: parts.flatMap(\.mids.storage)))
    }
}
