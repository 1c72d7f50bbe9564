import FluxSampling
import Foundation
import MLFluxCore
import NeuralNetworks
import Prediction

/// `mlflux-fuzz --write-seeds DIR`: the binary seeds of `Fuzz/corpus` and the hand-made
/// inputs of known crashes in `Fuzz/regressions`, written by the library's own writers.
/// (Text seeds are copies of shipped files; see `Fuzz/make-seeds.sh`.)
enum Seeds {
    static func write(into dir: String) throws {
        let fm = FileManager.default
        func put(_ bytes: [UInt8], _ relative: String) throws {
            let p = (dir as NSString).appendingPathComponent(relative)
            try fm.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            print("wrote \(p) (\(bytes.count) bytes)")
        }

        // .npy: one small array of each dtype, 1-D and 2-D.
        try put(NPYArray([1.5, -2, 0, 3.25, 1e-300, 7], shape: [2, 3]).fileBytes, "corpus/npy/f8-2x3.npy")
        try put(NPYArray([Float](arrayLiteral: 0.25, 0.75, 1), shape: [3]).fileBytes, "corpus/npy/f4-3.npy")
        try put(NPYArray([Int64](arrayLiteral: 4, 0, 2, 1), shape: [4, 1]).fileBytes, "corpus/npy/i8-4x1.npy")
        try put(NPYArray([Double](), shape: [0, 102]).fileBytes, "corpus/npy/f8-0x102.npy")
        // Known crashes: element count / byte count overflow in NPYHeader.
        try put(npyHeader("(9223372036854775807, 102)"), "regressions/npy/known-shape-intmax-x-102.npy")
        try put(npyHeader("(4294967296, 4294967296)"), "regressions/npy/known-shape-2pow32-squared.npy")

        // safetensors: a one-layer ANN for the toy bundle, and a plain tensor file.
        let toy = Fixtures.toy, layout = Fixtures.toyLayout
        let transform = FluxTransform(basis: toy.basis, training: [[1, 0.2, 0.5], [1, 0.8, 20]])
        let tiny = try tinyANN(inputs: layout.count, transform: transform)
        let annFile = Fixtures.path("seed.safetensors")
        try ANNWeightsFile.write(tiny, to: URL(fileURLWithPath: annFile))
        try put([UInt8](try Data(contentsOf: URL(fileURLWithPath: annFile))), "corpus/safetensors/toy-ann-1layer.safetensors")
        let plain = SafeTensors(tensors: ["a": SafeTensor([Float](arrayLiteral: 1, 2, 3, 4), shape: [2, 2]),
                                          "b": SafeTensor([Int64](arrayLiteral: 7), shape: [1]),
                                          "c": SafeTensor([Double](arrayLiteral: 0.5), shape: []),
                                          "d": SafeTensor([Int32](arrayLiteral: -1, 1), shape: [2])],
                                metadata: ["note": "seed"])
        try put(plain.serialized(), "corpus/safetensors/plain.safetensors")
        // Known crash: a transform output naming a free flux past θ (toy has 3).
        var bad = transform
        bad.outputs[0].free = 7
        let broken = try tinyANN(inputs: layout.count, transform: bad)
        try ANNWeightsFile.write(broken, to: URL(fileURLWithPath: annFile))
        try put([UInt8](try Data(contentsOf: URL(fileURLWithPath: annFile))),
                "regressions/safetensors/known-transform-free-index-out-of-range.safetensors")
    }

    /// A format 1.0 header with `shape` and no data.
    static func npyHeader(_ shape: String) -> [UInt8] {
        var dict = "{'descr': '<f8', 'fortran_order': False, 'shape': \(shape), }"
        dict += String(repeating: " ", count: 128 - 10 - dict.utf8.count - 1) + "\n"
        let len = UInt16(dict.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(len & 0xff), UInt8(len >> 8)] + Array(dict.utf8)
    }

    /// One member, one identity layer `inputs → 2 · targets`, small deterministic weights.
    static func tinyANN(inputs: Int, transform: FluxTransform) throws -> ANNPredictor {
        let outputs = 2 * transform.targetCount
        let weights = (0..<(inputs * outputs)).map { Float(($0 * 37) % 11 - 5) / 100 }
        let layer = Dense(weight: Matrix(rows: inputs, columns: outputs, storage: weights),
                          bias: [Float](repeating: 0.1, count: outputs), activation: .identity)
        let member = ANNMember(features: .raw,
                               inputScaler: Standardizer(mean: [Float](repeating: 0.2, count: inputs),
                                                         std: [Float](repeating: 0.3, count: inputs)),
                               mlp: MLP(layers: [layer]), transform: transform)
        let toy = Fixtures.toy
        return ANNPredictor(network: toy.network, basis: toy.basis, layout: Fixtures.toyLayout, members: [member])
    }
}
