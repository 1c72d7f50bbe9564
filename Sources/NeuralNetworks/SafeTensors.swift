import Foundation
import SafeIO

/// Element types of the safetensors format. `F32`, `F64`, `I64` and `I32` convert to Swift
/// arrays; the others are kept as raw bytes so such files still parse.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .I8, .U8, .BOOL: return 1
        }
    }
}

/// One tensor: dtype, shape and its raw **little-endian** bytes (`shape.product × dtype.size`).
public struct SafeTensor: Equatable, Sendable {
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    public var bytes: [UInt8]

    /// Number of elements (`1` for a scalar, shape `[]`).
    public var count: Int { shape.reduce(1, *) }

    public init(dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 } && bytes.count == shape.reduce(1, *) * dtype.size,
                     "\(bytes.count) bytes do not hold a \(dtype.rawValue) tensor of shape \(shape)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public init(_ values: [Float], shape: [Int]) {
        self.init(dtype: .F32, shape: shape, bytes: Self.encode(values.map { $0.bitPattern }))
    }
    public init(_ values: [Double], shape: [Int]) {
        self.init(dtype: .F64, shape: shape, bytes: Self.encode(values.map { $0.bitPattern }))
    }
    public init(_ values: [Int64], shape: [Int]) {
        self.init(dtype: .I64, shape: shape, bytes: Self.encode(values.map { UInt64(bitPattern: $0) }))
    }
    public init(_ values: [Int32], shape: [Int]) {
        self.init(dtype: .I32, shape: shape, bytes: Self.encode(values.map { UInt32(bitPattern: $0) }))
    }

    /// Values of an `F32` tensor (`nil` for another dtype).
    public var floats: [Float]? { dtype == .F32 ? Self.decode(bytes, as: UInt32.self).map(Float.init(bitPattern:)) : nil }
    /// Values of an `F64` tensor.
    public var doubles: [Double]? { dtype == .F64 ? Self.decode(bytes, as: UInt64.self).map(Double.init(bitPattern:)) : nil }
    /// Values of an `I64` tensor.
    public var int64s: [Int64]? { dtype == .I64 ? Self.decode(bytes, as: UInt64.self).map { Int64(bitPattern: $0) } : nil }
    /// Values of an `I32` tensor.
    public var int32s: [Int32]? { dtype == .I32 ? Self.decode(bytes, as: UInt32.self).map { Int32(bitPattern: $0) } : nil }

    static func encode<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * MemoryLayout<T>.size)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: v.littleEndian, toByteOffset: i * MemoryLayout<T>.size, as: T.self)
            }
        }
        return out
    }

    static func decode<T: FixedWidthInteger>(_ bytes: [UInt8], as: T.Type) -> [T] {
        let n = bytes.count / MemoryLayout<T>.size
        return bytes.withUnsafeBytes { raw in
            (0..<n).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
    }
}

/// A failure to read a safetensors file or to load it into a model; every case names the
/// file (its path, or `<memory>`) and, where there is one, the tensor.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    /// The file ends before the 8-byte header length, or before the bytes a tensor needs.
    case truncated(file: String, tensor: String?, needed: Int, available: Int)
    /// The header length exceeds the file (or the 100 MB header limit).
    case headerLengthBeyondFile(file: String, headerLength: UInt64, fileSize: Int)
    case invalidHeader(file: String, reason: String)
    case unsupportedDType(file: String, tensor: String, dtype: String)
    case invalidOffsets(file: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    case overlappingTensors(file: String, tensor: String, other: String)
    /// `data_offsets` span a different number of bytes than `shape` and `dtype` require.
    case byteCountMismatch(file: String, tensor: String, expected: Int, found: Int)
    case missingTensor(file: String, tensor: String)
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    case dtypeMismatch(file: String, tensor: String, expected: String, found: String)
    case unexpectedTensor(file: String, tensor: String)
    case invalidMetadata(file: String, key: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(f, r): return "\(f): cannot read safetensors file: \(r)"
        case let .truncated(f, t, need, have):
            return "\(f): truncated safetensors file" + (t.map { ": tensor '\($0)'" } ?? "")
                + " needs \(need) bytes, only \(have) present"
        case let .headerLengthBeyondFile(f, len, size):
            return "\(f): safetensors header length \(len) exceeds the file (\(size) bytes)"
        case let .invalidHeader(f, r): return "\(f): invalid safetensors header: \(r)"
        case let .unsupportedDType(f, t, d): return "\(f): tensor '\(t)' has unsupported dtype '\(d)'"
        case let .invalidOffsets(f, t, b, e, n):
            return "\(f): tensor '\(t)' has data_offsets [\(b), \(e)] outside the data section (\(n) bytes)"
        case let .overlappingTensors(f, t, o): return "\(f): tensors '\(o)' and '\(t)' overlap"
        case let .byteCountMismatch(f, t, e, n):
            return "\(f): tensor '\(t)' spans \(n) bytes, its shape and dtype need \(e)"
        case let .missingTensor(f, t): return "\(f): tensor '\(t)' is missing"
        case let .shapeMismatch(f, t, e, n): return "\(f): tensor '\(t)' has shape \(n), expected \(e)"
        case let .dtypeMismatch(f, t, e, n): return "\(f): tensor '\(t)' has dtype \(n), expected \(e)"
        case let .unexpectedTensor(f, t): return "\(f): unexpected tensor '\(t)'"
        case let .invalidMetadata(f, k, r): return "\(f): metadata '\(k)': \(r)"
        }
    }
}

/// A safetensors file (https://github.com/huggingface/safetensors) in memory.
///
/// Layout: an 8-byte little-endian `UInt64` header length `N`; `N` bytes of UTF-8 JSON
/// `{"__metadata__": {String: String}, name: {"dtype": "F32", "shape": [..],
/// "data_offsets": [begin, end]}, …}`; then the data section, offsets relative to its start.
/// The writer sorts tensors by name, lays them out contiguously in that order and pads the
/// header with spaces to a multiple of 8 bytes, so the same content always gives the same bytes.
/// The reader checks every offset against the data section and rejects overlaps.
public struct SafeTensors: Equatable, Sendable {
    public var tensors: [String: SafeTensor]
    public var metadata: [String: String]
    /// Where this came from (a path, or `<memory>`), used in error messages.
    public var source: String

    public init(tensors: [String: SafeTensor] = [:], metadata: [String: String] = [:], source: String = "<memory>") {
        self.tensors = tensors
        self.metadata = metadata
        self.source = source
    }

    public static func == (a: SafeTensors, b: SafeTensors) -> Bool { a.tensors == b.tensors && a.metadata == b.metadata }

    /// Reads and validates a file.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try InputFile.read(url.path, what: "safetensors file") } catch let e as InputFileError {
            throw SafeTensorsError.unreadable(file: url.path, reason: e.reason)
        }
        try self.init(bytes: [UInt8](data), source: url.path)
    }

    /// Parses and validates the bytes of a file.
    public init(bytes: [UInt8], source: String = "<memory>") throws {
        let file = source
        guard bytes.count >= 8 else { throw SafeTensorsError.truncated(file: file, tensor: nil, needed: 8, available: bytes.count) }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= 100_000_000, n <= UInt64(bytes.count - 8) else {
            throw SafeTensorsError.headerLengthBeyondFile(file: file, headerLength: n, fileSize: bytes.count)
        }
        let headerEnd = 8 + Int(n)
        let header = Data(bytes[8..<headerEnd])
        guard header.first == UInt8(ascii: "{") else {
            throw SafeTensorsError.invalidHeader(file: file, reason: "the header does not start with '{'")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: header) } catch {
            throw SafeTensorsError.invalidHeader(file: file, reason: "not valid JSON")
        }
        guard let object = json as? [String: Any] else {
            throw SafeTensorsError.invalidHeader(file: file, reason: "not a JSON object")
        }
        let dataSize = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: SafeTensorsDType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw SafeTensorsError.invalidHeader(file: file, reason: "__metadata__ is not an object")
                }
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw SafeTensorsError.invalidMetadata(file: file, key: k, reason: "value is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else {
                throw SafeTensorsError.invalidHeader(file: file, reason: "entry '\(name)' is not an object")
            }
            guard let d = info["dtype"] as? String else {
                throw SafeTensorsError.invalidHeader(file: file, reason: "tensor '\(name)' has no dtype")
            }
            guard let dtype = SafeTensorsDType(rawValue: d) else {
                throw SafeTensorsError.unsupportedDType(file: file, tensor: name, dtype: d)
            }
            guard let shape = Self.integers(info["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError.invalidHeader(file: file, reason: "tensor '\(name)' has no valid shape")
            }
            guard let offsets = Self.integers(info["data_offsets"]), offsets.count == 2 else {
                throw SafeTensorsError.invalidHeader(file: file, reason: "tensor '\(name)' has no valid data_offsets")
            }
            let (b, e) = (offsets[0], offsets[1])
            guard b >= 0, b <= e else {
                throw SafeTensorsError.invalidOffsets(file: file, tensor: name, begin: b, end: e, dataSize: dataSize)
            }
            guard e <= dataSize else {
                throw SafeTensorsError.truncated(file: file, tensor: name, needed: headerEnd + e, available: bytes.count)
            }
            let (count, overflow) = shape.reduce((1, false)) { acc, x in
                let r = acc.0.multipliedReportingOverflow(by: x); return (r.partialValue, acc.1 || r.overflow)
            }
            let (need, overflow2) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, !overflow2, need == e - b else {
                throw SafeTensorsError.byteCountMismatch(file: file, tensor: name, expected: overflow || overflow2 ? -1 : need, found: e - b)
            }
            entries.append((name, dtype, shape, b, e))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
            throw SafeTensorsError.overlappingTensors(file: file, tensor: b.name, other: a.name)
        }
        var tensors: [String: SafeTensor] = [:]
        for e in entries {
            tensors[e.name] = SafeTensor(dtype: e.dtype, shape: e.shape,
                                         bytes: Array(bytes[(headerEnd + e.begin)..<(headerEnd + e.end)]))
        }
        self.init(tensors: tensors, metadata: metadata, source: source)
    }

    private static func integers(_ any: Any?) -> [Int]? {
        guard let array = any as? [Any] else { return nil }
        var out: [Int] = []
        for x in array {
            guard let n = x as? NSNumber else { return nil }
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9e15 else { return nil }
            out.append(n.intValue)
        }
        return out
    }

    /// The file's bytes (deterministic: tensors sorted by name, header padded to 8 bytes).
    public func serialized() -> [UInt8] {
        let names = tensors.keys.sorted()
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(Self.quote($0)):\(Self.quote(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(m.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            parts.append("\(Self.quote(name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}")
            offset += t.bytes.count
        }
        var header = Array("{\(parts.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        let n = UInt64(header.count)
        for i in 0..<8 { out.append(UInt8((n >> (8 * UInt64(i))) & 0xff)) }
        out += header
        for name in names { out += tensors[name]!.bytes }
        return out
    }

    /// Writes `serialized()` to `url` through a synced temporary file renamed into place
    /// (`OutputFile`): a failed write leaves an existing file byte-identical.
    /// - Throws: `OutputError` naming the file.
    public func write(to url: URL) throws {
        try OutputFile.write(Data(serialized()), to: url.path)
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    // MARK: Typed access with errors naming the tensor

    /// The tensor `name`, checked for dtype and (when given) shape.
    public func tensor(_ name: String, dtype: SafeTensorsDType, shape: [Int]? = nil) throws -> SafeTensor {
        guard let t = tensors[name] else { throw SafeTensorsError.missingTensor(file: source, tensor: name) }
        guard t.dtype == dtype else {
            throw SafeTensorsError.dtypeMismatch(file: source, tensor: name, expected: dtype.rawValue, found: t.dtype.rawValue)
        }
        if let shape, t.shape != shape {
            throw SafeTensorsError.shapeMismatch(file: source, tensor: name, expected: shape, found: t.shape)
        }
        return t
    }

    /// The values of the `F32` tensor `name` with shape `shape`.
    public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        try tensor(name, dtype: .F32, shape: shape).floats!
    }
}
