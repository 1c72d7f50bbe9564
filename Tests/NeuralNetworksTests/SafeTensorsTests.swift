import Foundation
import XCTest
import NeuralNetworks
import TestSupport

final class SafeTensorsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nn-safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A file written by hand, byte for byte, independent of the writer: header
    /// `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1,1],"data_offsets":[8,16]}}`
    /// then 1.0f, −2.5f and Int64 −3, all little-endian.
    func testParsesAHandWrittenFile() throws {
        let header = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1,1],"data_offsets":[8,16]}}"#
        var bytes: [UInt8] = []
        let n = header.utf8.count
        bytes += [UInt8(n & 0xff), UInt8(n >> 8), 0, 0, 0, 0, 0, 0]
        bytes += Array(header.utf8)
        bytes += [0x00, 0x00, 0x80, 0x3f]                              // 1.0f
        bytes += [0x00, 0x00, 0x20, 0xc0]                              // −2.5f
        bytes += [0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]      // −3 as Int64
        let file = try SafeTensors(bytes: bytes)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.tensors["a"]?.floats, [1, -2.5])
        XCTAssertEqual(file.tensors["a"]?.shape, [2])
        XCTAssertEqual(file.tensors["b"]?.int64s, [-3])
        XCTAssertEqual(file.tensors["b"]?.shape, [1, 1])
        XCTAssertNil(file.tensors["a"]?.doubles)
    }

    /// The writer's bytes for a known file: 8-byte length, sorted JSON padded with spaces, data.
    func testWriterProducesTheExpectedBytes() throws {
        let file = SafeTensors(tensors: ["x": SafeTensor([Float(1)], shape: [1])])
        let bytes = file.serialized()
        let header = #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#   // 54 bytes → padded to 56
        XCTAssertEqual(Array(bytes[0..<8]), [56, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(bytes[8..<64]), Array(header.utf8) + [0x20, 0x20])
        XCTAssertEqual(Array(bytes[64...]), [0x00, 0x00, 0x80, 0x3f])
    }

    func testRoundTripOfEveryDTypeAndMetadata() throws {
        let file = SafeTensors(tensors: [
            "f32": SafeTensor([1.5, -0, .infinity, 3e-38] as [Float], shape: [2, 2]),
            "f64": SafeTensor([Double.pi, -1e300, 0] as [Double], shape: [3]),
            "i64": SafeTensor([Int64.min, 0, Int64.max] as [Int64], shape: [3, 1]),
            "i32": SafeTensor([Int32(-7)], shape: []),
            "empty": SafeTensor([Float](), shape: [0, 4]),
        ], metadata: ["quote \"and\" newline\n": "ünïcode ✓", "mlflux.version": "1"])
        let url = directory.appendingPathComponent("all.safetensors")
        try file.write(to: url)
        let back = try SafeTensors(contentsOf: url)
        XCTAssertEqual(back, file)
        XCTAssertEqual(back.serialized(), file.serialized())
        XCTAssertEqual(back.tensors["f64"]?.doubles, [Double.pi, -1e300, 0])
        XCTAssertEqual(back.tensors["i64"]?.int64s, [Int64.min, 0, Int64.max])
        XCTAssertEqual(back.tensors["i32"]?.int32s, [-7])
        XCTAssertEqual(back.source, url.path)
    }

    func testModelSaveLoadReproducesOutputsExactly() throws {
        var rng = SplitMix64(seed: 31)
        let model = MLP(widths: [6, 10, 10, 3], hidden: .relu, output: .sigmoid, using: &rng)
        XCTAssertEqual(model.parameterNames, ["layers.0.weight", "layers.0.bias", "layers.1.weight",
                                              "layers.1.bias", "layers.2.weight", "layers.2.bias"])
        let url = directory.appendingPathComponent("model.safetensors")
        try model.save(to: url, metadata: ["trained_on": "toy"])
        let loaded = try MLP(contentsOf: url)
        XCTAssertEqual(loaded, model)
        let x = randomMatrix(9, 6, using: &rng)
        XCTAssertEqual(loaded(x).storage, model(x).storage)
        let file = try SafeTensors(contentsOf: url)
        XCTAssertEqual(file.metadata["trained_on"], "toy")
        XCTAssertEqual(file.metadata[MLP.widthsKey], "6,10,10,3")
        XCTAssertEqual(file.tensors["layers.1.weight"]?.shape, [10, 10])

        // Standardised predictor with a Gaussian head.
        let gaussian = MLP(widths: [6, 8, 4], using: &rng)
        let scaled = StandardizedMLP(mlp: gaussian, input: Standardizer(fitting: x),
                                     target: Standardizer(mean: [1, 2], std: [0.5, 3]))
        let url2 = directory.appendingPathComponent("scaled.safetensors")
        try scaled.save(to: url2)
        let back = try StandardizedMLP(contentsOf: url2)
        XCTAssertEqual(back, scaled)
        XCTAssertTrue(back.isGaussian)
        XCTAssertEqual(back.predict(x), scaled.predict(x))
        let (mean, std) = back.predictWithUncertainty(x)
        XCTAssertEqual(mean, back.predict(x))
        XCTAssertTrue(std.storage.allSatisfy { $0 > 0 })
    }

    // MARK: Errors name the file and the tensor

    func modelFile(_ name: String) throws -> (MLP, URL, [UInt8]) {
        var rng = SplitMix64(seed: 32)
        let model = MLP(widths: [3, 4, 2], using: &rng)
        let url = directory.appendingPathComponent(name)
        try model.save(to: url)
        return (model, url, [UInt8](try Data(contentsOf: url)))
    }

    func expectError(_ expected: SafeTensorsError, file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? SafeTensorsError, expected, file: file, line: line)
            let text = String(describing: error)
            if case .missingTensor(let f, let t) = expected { XCTAssert(text.contains(f) && text.contains(t), text, file: file, line: line) }
        }
    }

    func testTruncatedFile() throws {
        let (_, url, bytes) = try modelFile("cut.safetensors")
        try Data(bytes.dropLast(5)).write(to: url)
        // Tensors are laid out by sorted name: layers.1.weight is last.
        expectError(.truncated(file: url.path, tensor: "layers.1.weight", needed: bytes.count, available: bytes.count - 5)) {
            _ = try MLP(contentsOf: url)
        }
        try Data(bytes.prefix(5)).write(to: url)
        expectError(.truncated(file: url.path, tensor: nil, needed: 8, available: 5)) { _ = try MLP(contentsOf: url) }
        XCTAssertTrue(String(describing: SafeTensorsError.truncated(file: url.path, tensor: "layers.1.weight", needed: 9, available: 5))
            .contains("cut.safetensors: truncated safetensors file: tensor 'layers.1.weight'"))
    }

    func testBadHeaders() throws {
        let (_, url, bytes) = try modelFile("bad.safetensors")
        var long = bytes
        long[0] = 0xff; long[1] = 0xff; long[2] = 0xff
        try Data(long).write(to: url)
        expectError(.headerLengthBeyondFile(file: url.path, headerLength: 0xff_ffff, fileSize: bytes.count)) {
            _ = try MLP(contentsOf: url)
        }
        func blob(_ header: String, data: Int = 0) -> [UInt8] {
            let n = header.utf8.count
            return (0..<8).map { UInt8((n >> (8 * $0)) & 0xff) } + Array(header.utf8) + [UInt8](repeating: 0, count: data)
        }
        expectError(.invalidHeader(file: "<memory>", reason: "not valid JSON")) { _ = try SafeTensors(bytes: blob("{\"a\":")) }
        expectError(.invalidHeader(file: "<memory>", reason: "the header does not start with '{'")) { _ = try SafeTensors(bytes: blob("[1]")) }
        expectError(.unsupportedDType(file: "<memory>", tensor: "a", dtype: "Q4")) {
            _ = try SafeTensors(bytes: blob(#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: 1))
        }
        expectError(.invalidOffsets(file: "<memory>", tensor: "a", begin: 4, end: 0, dataSize: 8)) {
            _ = try SafeTensors(bytes: blob(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: 8))
        }
        expectError(.byteCountMismatch(file: "<memory>", tensor: "a", expected: 8, found: 4)) {
            _ = try SafeTensors(bytes: blob(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: 8))
        }
        expectError(.overlappingTensors(file: "<memory>", tensor: "b", other: "a")) {
            _ = try SafeTensors(bytes: blob(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8))
        }
        let short = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#
        let h = short.utf8.count
        expectError(.truncated(file: "<memory>", tensor: "a", needed: 8 + h + 12, available: 8 + h + 8)) {
            _ = try SafeTensors(bytes: blob(short, data: 8))
        }
    }

    func testShapeDTypeMissingAndUnexpectedTensors() throws {
        let (model, url, _) = try modelFile("m.safetensors")
        var file = try SafeTensors(contentsOf: url)
        let original = file
        var target = model
        target.layers[0].bias[0] = 42

        file.tensors["layers.0.weight"] = SafeTensor([Float](repeating: 0, count: 12), shape: [4, 3])
        expectError(.shapeMismatch(file: url.path, tensor: "layers.0.weight", expected: [3, 4], found: [4, 3])) { try target.load(file) }
        XCTAssertEqual(target.layers[0].bias[0], 42, "a failed load changes nothing")

        file = original
        file.tensors["layers.1.bias"] = SafeTensor([0, 0] as [Double], shape: [2])
        expectError(.dtypeMismatch(file: url.path, tensor: "layers.1.bias", expected: "F32", found: "F64")) { try target.load(file) }

        file = original
        file.tensors["layers.1.bias"] = nil
        expectError(.missingTensor(file: url.path, tensor: "layers.1.bias")) { try target.load(file) }

        file = original
        file.tensors["layers.2.weight"] = SafeTensor([Float(1)], shape: [1, 1])
        expectError(.unexpectedTensor(file: url.path, tensor: "layers.2.weight")) { try target.load(file) }
        XCTAssertNoThrow(try target.load(file, strict: false))
        XCTAssertEqual(target, model)

        file = original
        file.metadata[MLP.activationsKey] = "relu,swish"
        XCTAssertThrowsError(try MLP(file)) { XCTAssertTrue(String(describing: $0).contains("mlflux.activations")) }
    }
}
