import Bundles
import FluxML
import FluxSampling
import Foundation
import MLFluxCore
import NeuralNetworks
import Prediction

/// One fuzz target: a reader (and what consumes its result) fed arbitrary bytes.
/// Thrown errors are the expected outcome for bad input; a trap, an ASan report, a
/// leak, a hang (`-timeout`) or an allocation beyond `-rss_limit_mb` is a finding.
struct FuzzTarget: Sendable {
    var name: String
    /// `-max_len` for libFuzzer (`scripts/fuzz.sh` reads it from `--list-max-len`).
    var maxLength: Int
    var run: @Sendable ([UInt8]) -> Void
}

enum FuzzTargets {
    nonisolated(unsafe) static var current: FuzzTarget?

    static let all: [FuzzTarget] = [
        FuzzTarget(name: "fluxml", maxLength: 16384, run: fluxml),
        FuzzTarget(name: "mids", maxLength: 8192, run: mids),
        FuzzTarget(name: "manifest", maxLength: 4096, run: manifest),
        FuzzTarget(name: "safetensors", maxLength: 8192, run: safetensors),
        FuzzTarget(name: "npy", maxLength: 4096, run: npy),
        FuzzTarget(name: "dataset", maxLength: 8192, run: dataset),
    ]

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    // MARK: - FluxML

    /// `FluxMLReader.parse`, then the free-flux basis of the network (default choice and a
    /// preferred one). No EMU: its size limits are a separate issue.
    static func fluxml(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let network = try? FluxMLReader.parse(text, fileName: "fuzz.fml") else { return }
        _ = try? FreeFluxBasis(network: network)
        let prefer = network.reactions.suffix(3).map { "\($0.id).net" }
            + network.reactions.prefix(2).map { "\($0.id).xch" }
        _ = try? FreeFluxBasis(network: network, preferFree: prefer)
    }

    // MARK: - MID table

    /// `LabelingTable.parse` against the toy bundle's layout, strict and normalizing.
    static func mids(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let layout = Fixtures.toyLayout
        _ = try? LabelingTable.parse(text, file: "fuzz.csv", layout: layout)
        _ = try? LabelingTable.parse(text, file: "fuzz.csv", layout: layout, tolerance: 0.5, normalize: true)
    }

    // MARK: - Manifest

    /// `BundleManifest.decode`, `MeasuredSpec.parse` of each measured entry on the toy
    /// network, then `ModelBundle.load` of a bundle folder holding the manifest (the
    /// network found by name in `scratch/Networks` or as `network.fml` in the bundle).
    static func manifest(_ bytes: [UInt8]) {
        guard let m = try? BundleManifest.decode(Data(bytes), path: "fuzz/manifest.json") else { return }
        for spec in m.measured { _ = try? MeasuredSpec.parse(spec, in: Fixtures.toy.network) }
        Fixtures.write(bytes, to: "plugins/bundle/manifest.json")
        guard let bundle = try? ModelBundle.load(directory: Fixtures.path("plugins/bundle"),
                                                 pluginFolder: Fixtures.path("plugins")) else { return }
        _ = bundle.layout.count
        _ = try? bundle.exampleFluxState()
        for key in (bundle.manifest.files ?? [:]).keys { _ = try? bundle.file(key) }
    }

    // MARK: - safetensors

    /// `SafeTensors(bytes:)`, typed views and a serialize/parse round trip; then, for files
    /// with a `format`, `ANNWeightsFile.read` against the toy bundle and one prediction.
    static func safetensors(_ bytes: [UInt8]) {
        guard let st = try? SafeTensors(bytes: bytes, source: "fuzz.safetensors") else { return }
        for (_, t) in st.tensors {
            _ = t.count; _ = t.floats; _ = t.doubles; _ = t.int64s; _ = t.int32s
        }
        let again = try? SafeTensors(bytes: st.serialized())
        precondition(again == st, "safetensors: serialized() of a parsed file does not parse back to the same tensors")
        guard st.metadata["format"] != nil else { return }
        let file = Fixtures.write(bytes, to: "file")
        let toy = Fixtures.toy
        guard let predictor = try? ANNWeightsFile.read(URL(fileURLWithPath: file), network: toy.network,
                                                       basis: toy.basis, layout: Fixtures.toyLayout) else { return }
        // Unlabeled-like input: every MID uniform.
        let layout = Fixtures.toyLayout
        var row: [Double] = []
        for _ in layout.experimentIDs {
            for n in layout.isotopologues { row += Array(repeating: 1 / Double(n), count: n) }
        }
        _ = try? predictor.predict([row])
    }

    // MARK: - .npy

    /// `NPYHeader.decode` (and its sizes), an encode/decode round trip of the header, then
    /// the file through `NPYArray(contentsOf:)` and `NPYRowReader`.
    static func npy(_ bytes: [UInt8]) {
        guard let header = try? NPYHeader.decode(bytes, file: "fuzz.npy") else { return }
        _ = header.elementCount
        _ = header.dataBytes
        let encoded = NPYHeader.encode(dtype: header.dtype, shape: header.shape)
        let back = try? NPYHeader.decode(encoded, file: "encoded.npy")
        precondition(back?.dtype == header.dtype && back?.shape == header.shape,
                     "npy: encode(decode(header)) does not decode to the same dtype and shape")
        let file = Fixtures.write(bytes, to: "file")
        if let a = try? NPYArray(contentsOf: file) {
            _ = a.doubles; _ = a.floats; _ = a.integers
            precondition((try? NPYHeader.decode(a.fileBytes, file: "fileBytes"))?.shape == a.shape)
        }
        if let reader = try? NPYRowReader(path: file) {
            var left = reader.rows, steps = 0
            while left > 0, steps < 64, let d = try? reader.next(rows: min(left, 7)), d.count > 0 {
                left -= min(left, 7); steps += 1
            }
        }
    }

    // MARK: - dataset.json

    /// `DatasetDescription.read`, what `mlflux dataset describe` derives from it, and — for
    /// small datasets — zero-filled `.npy` files of the described shapes, checked with
    /// `checkFiles` and loaded for the toy bundle (`LoadedDataset.load`).
    static func dataset(_ bytes: [UInt8]) {
        let dir = Fixtures.path("dataset")
        let fm = FileManager.default
        for f in DatasetDescription.dataFiles + [DatasetDescription.rowsFile] {
            try? fm.removeItem(atPath: (dir as NSString).appendingPathComponent(f))
        }
        Fixtures.write(bytes, to: "dataset/dataset.json")
        guard let d = try? DatasetDescription.read(directory: dir) else { return }
        // As `mlflux dataset describe` and `generate` print it.
        _ = "blocks \(d.firstBlock)..<\(d.firstBlock + d.blockCount) of \(d.blockSize)"
        _ = (d.layout.count, d.layout.offsets, d.layout.rows, d.layout.columns)
        _ = try? d.encoded()
        let n = d.produced, limit = 4096
        guard (0...16).contains(n), d.freeFluxes.count <= limit, d.reactions.count <= limit,
              d.layout.experimentIDs.count <= limit, d.layout.isotopologues.allSatisfy({ $0 <= limit }),
              d.layout.isotopologues.count <= limit, d.layout.count <= limit else { return }
        func zeros(_ name: String, _ dtype: NPYDType, _ columns: Int) {
            let shape = [n, columns], count = n * columns
            let a: NPYArray
            switch dtype {
            case .float64: a = NPYArray([Double](repeating: 0, count: count), shape: shape)
            case .float32: a = NPYArray([Float](repeating: 0, count: count), shape: shape)
            case .int64: a = NPYArray([Int64](repeating: 0, count: count), shape: shape)
            }
            try? a.write(to: (dir as NSString).appendingPathComponent(name))
        }
        zeros(DatasetDescription.freeFluxesFile, .float64, d.freeFluxes.count)
        zeros(DatasetDescription.netFluxesFile, .float64, d.reactions.count)
        zeros(DatasetDescription.exchangeFluxesFile, .float64, d.reactions.count)
        zeros(DatasetDescription.midsFile, .float32, d.layout.count)
        if d.split != nil { zeros(DatasetDescription.rowsFile, .int64, 1) }
        guard (try? d.checkFiles(in: dir)) != nil else { return }
        if let loaded = try? LoadedDataset.load(dir, for: Fixtures.toy), loaded.count > 1 {
            _ = loaded.slice(0..<1)
        }
    }
}
