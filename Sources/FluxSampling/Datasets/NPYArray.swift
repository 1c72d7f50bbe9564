import Foundation
import SafeIO

/// Element types of the `.npy` files MLFlux writes (little-endian, C order).
public enum NPYDType: String, Codable, Sendable, CaseIterable {
    case float64 = "<f8"
    case float32 = "<f4"
    case int64 = "<i8"

    /// Bytes per element.
    public var size: Int { self == .float32 ? 4 : 8 }
}

/// A `.npy` file that cannot be read as expected. Every case names the file.
public enum NPYError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case badHeader(file: String, reason: String)
    case wrongDType(file: String, expected: NPYDType, found: String)
    case wrongShape(file: String, expected: String, found: [Int])
    case truncated(file: String, expectedBytes: Int, foundBytes: Int)

    public var description: String {
        switch self {
        case .unreadable(let f, let why): return "\(f): cannot be read (\(why))"
        case .badHeader(let f, let why): return "\(f): not a valid .npy file (\(why))"
        case .wrongDType(let f, let e, let found):
            return "\(f): element type is '\(found)', expected '\(e.rawValue)'"
        case .wrongShape(let f, let e, let found):
            return "\(f): shape is (\(found.map(String.init).joined(separator: ", "))), expected \(e)"
        case .truncated(let f, let e, let found):
            return "\(f): truncated: the header promises \(e) data bytes, the file holds \(found)"
        }
    }
}

/// The header of a `.npy` file (format 1.0): element type, shape, and where the data starts.
public struct NPYHeader: Equatable, Sendable {
    public var dtype: NPYDType
    public var shape: [Int]
    /// Byte offset of the first element.
    public var dataOffset: Int

    /// Elements in the array (product of `shape`).
    public var elementCount: Int { shape.reduce(1, *) }
    /// Data bytes after the header.
    public var dataBytes: Int { elementCount * dtype.size }

    /// Largest data part MLFlux accepts in one `.npy` file (1 TiB: datasets are streamed
    /// row by row; whole-array reads have their own, smaller limit).
    public static let maxDataBytes = 1 << 40

    /// Total header length (magic to newline) of the files MLFlux writes: 128 bytes, a
    /// multiple of 64 as NumPy asks, with room for two 20-digit dimensions — so a streamed
    /// file can be written with a placeholder row count and patched in place at the end.
    public static let fixedLength = 128

    /// The format 1.0 header bytes for `dtype` and `shape`, space-padded to `fixedLength`.
    public static func encode(dtype: NPYDType, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var dict = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': (\(dims)), }"
        let total = max(fixedLength, ((10 + dict.utf8.count + 1 + 63) / 64) * 64)
        dict += String(repeating: " ", count: total - 10 - dict.utf8.count - 1) + "\n"
        let len = UInt16(dict.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(len & 0xff), UInt8(len >> 8)] + Array(dict.utf8)
    }

    /// Parses the header at the start of `bytes` (needs at most the first few hundred bytes).
    /// - Throws: `NPYError.badHeader` naming `file`.
    public static func decode(_ bytes: [UInt8], file: String) throws -> NPYHeader {
        func bad(_ why: String) -> NPYError { .badHeader(file: file, reason: why) }
        guard bytes.count >= 10 else { throw bad("shorter than the 10-byte preamble") }
        guard bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw bad("missing the \\x93NUMPY magic")
        }
        let major = bytes[6]
        let headerLength: Int, start: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("shorter than the 12-byte preamble of version \(major)") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }; start = 12
        default: throw bad("unsupported format version \(major).\(bytes[7])")
        }
        guard headerLength <= 65536 else { throw bad("header of \(headerLength) bytes is longer than any NumPy writes") }
        guard bytes.count >= start + headerLength else {
            throw bad("header of \(headerLength) bytes is cut short")
        }
        let text = String(decoding: bytes[start ..< start + headerLength], as: UTF8.self)
        func value(_ key: String) -> Substring? {
            guard let r = text.range(of: "'\(key)':") else { return nil }
            return text[r.upperBound...].drop { $0 == " " }
        }
        guard let d = value("descr"), d.first == "'", let close = d.dropFirst().firstIndex(of: "'") else {
            throw bad("no 'descr' entry")
        }
        let descr = String(d[d.index(after: d.startIndex) ..< close])
        var normalized = descr
        if normalized.first == "|" || normalized.first == "=" { normalized = "<" + normalized.dropFirst() }
        guard let dtype = NPYDType(rawValue: normalized) else {
            throw NPYError.wrongDType(file: file, expected: .float64, found: descr)
        }
        guard let fo = value("fortran_order") else { throw bad("no 'fortran_order' entry") }
        if fo.hasPrefix("True") { throw bad("Fortran (column-major) order is not supported; save with C order") }
        guard fo.hasPrefix("False") else { throw bad("'fortran_order' is neither True nor False") }
        guard let s = value("shape"), s.first == "(", let end = s.firstIndex(of: ")") else {
            throw bad("no 'shape' entry")
        }
        var shape: [Int] = []
        for part in s[s.index(after: s.startIndex) ..< end].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let n = Int(t), n >= 0 else { throw bad("shape entry '\(Excerpt.quote(t, limit: 30))' is not a count") }
            shape.append(n)
        }
        guard shape.count <= 32 else { throw bad("\(shape.count) dimensions; at most 32 are supported") }
        // Elements and bytes must fit an Int (and memory): a shape of (2^63−1, 102) or
        // (2^32, 2^32) is refused here instead of overflowing later.
        var bytes = dtype.size
        for n in shape {
            let (p, overflow) = bytes.multipliedReportingOverflow(by: n)
            guard !overflow, p <= maxDataBytes else {
                throw bad("shape (\(shape.map(String.init).joined(separator: ", "))) of '\(dtype.rawValue)' needs more than \(maxDataBytes) bytes")
            }
            bytes = p
        }
        return NPYHeader(dtype: dtype, shape: shape, dataOffset: start + headerLength)
    }

    /// Reads and checks the header of the file at `path` (not its data).
    /// - Throws: `NPYError` naming the file; `.truncated` when the file is shorter than
    ///   the header says.
    public static func read(contentsOf path: String) throws -> NPYHeader {
        do { _ = try InputFile.check(path, limit: maxDataBytes + 65536 + 12, what: ".npy array") }
        catch let e as InputFileError { throw NPYError.unreadable(file: path, reason: e.reason) }
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw NPYError.unreadable(file: path, reason: FileManager.default.fileExists(atPath: path)
                                      ? "permission denied" : "no such file")
        }
        defer { try? h.close() }
        let prefix = [UInt8]((try? h.read(upToCount: 65536 + 12)) ?? Data())
        let header = try decode(prefix, file: path)
        let size = Int((try? h.seekToEnd()) ?? 0)
        if size - header.dataOffset < header.dataBytes {
            throw NPYError.truncated(file: path, expectedBytes: header.dataBytes, foundBytes: max(0, size - header.dataOffset))
        }
        return header
    }
}

/// A whole `.npy` array in memory (small files: tests, sidecar-sized data).
public struct NPYArray: Equatable, Sendable {
    public var dtype: NPYDType
    public var shape: [Int]
    /// Raw little-endian element bytes, C order.
    public var data: [UInt8]

    public init(_ values: [Double], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "shape does not match the element count")
        dtype = .float64; self.shape = shape
        data = values.withUnsafeBytes { Array($0) }
    }

    public init(_ values: [Float], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "shape does not match the element count")
        dtype = .float32; self.shape = shape
        data = values.withUnsafeBytes { Array($0) }
    }

    public init(_ values: [Int64], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "shape does not match the element count")
        dtype = .int64; self.shape = shape
        data = values.withUnsafeBytes { Array($0) }
    }

    /// Reads the file at `path`, optionally checking its element type.
    /// - Throws: `NPYError` naming the file (bad header, wrong dtype, truncated).
    public init(contentsOf path: String, expecting expected: NPYDType? = nil) throws {
        let header = try NPYHeader.read(contentsOf: path)
        if let e = expected, header.dtype != e {
            throw NPYError.wrongDType(file: path, expected: e, found: header.dtype.rawValue)
        }
        guard header.dataBytes <= InputFile.defaultLimit else {
            throw NPYError.badHeader(file: path, reason: "\(header.dataBytes) data bytes are more than the \(InputFile.defaultLimit)-byte limit for reading a whole array")
        }
        let all: Data
        do { all = try InputFile.read(path, limit: header.dataOffset + header.dataBytes + 65536, what: ".npy array") }
        catch let e as InputFileError { throw NPYError.unreadable(file: path, reason: e.reason) }
        guard all.count >= header.dataOffset + header.dataBytes else {
            throw NPYError.truncated(file: path, expectedBytes: header.dataBytes, foundBytes: max(0, all.count - header.dataOffset))
        }
        dtype = header.dtype; shape = header.shape
        data = [UInt8](all[header.dataOffset ..< header.dataOffset + header.dataBytes])
    }

    /// The elements as `Double` (any dtype converts).
    public var doubles: [Double] {
        switch dtype {
        case .float64: return data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        case .float32: return data.withUnsafeBytes { $0.bindMemory(to: Float.self).map(Double.init) }
        case .int64: return data.withUnsafeBytes { $0.bindMemory(to: Int64.self).map(Double.init) }
        }
    }

    /// The elements as `Float` (float32 files exactly; others rounded).
    public var floats: [Float] {
        dtype == .float32 ? data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } : doubles.map(Float.init)
    }

    /// The elements as `Int64` (int64 files; floats truncated toward zero, NaN and values
    /// beyond the Int64 range clamped — NaN to 0 — so no file can trap the conversion).
    public var integers: [Int64] {
        dtype == .int64 ? data.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) } : doubles.map { x in
            x.isNaN ? 0 : x >= 9.223372036854775807e18 ? .max : x <= -9.223372036854775808e18 ? .min : Int64(x)
        }
    }

    /// The file bytes: fixed-length header, then data.
    public var fileBytes: [UInt8] { NPYHeader.encode(dtype: dtype, shape: shape) + data }

    /// Writes the array to `path` (atomically, through `OutputFile`).
    /// - Throws: `OutputError` naming the file.
    public func write(to path: String) throws {
        try OutputFile.write(Data(fileBytes), to: path)
    }
}

/// Streams rows of a 2-D array into a `.npy` file: a header with a placeholder row count,
/// rows appended as they come, the header patched with the final count by `finish()`.
/// Memory use is independent of the row count.
public final class NPYWriter {
    public let path: String
    public let dtype: NPYDType
    public let columns: Int
    public private(set) var rows: Int
    private let handle: FileHandle

    /// Creates (truncating) `path`; or, with `resumingRows`, opens an existing stream file
    /// and cuts it back to exactly that many rows (dropping a half-written tail).
    public init(path: String, dtype: NPYDType, columns: Int, resumingRows: Int? = nil) throws {
        self.path = path; self.dtype = dtype; self.columns = columns
        let fm = FileManager.default
        if let r = resumingRows {
            guard let h = FileHandle(forUpdatingAtPath: path) else {
                throw NPYError.unreadable(file: path, reason: "partial file missing; cannot resume")
            }
            let keep = UInt64(NPYHeader.fixedLength + r * columns * dtype.size)
            let size = try h.seekToEnd()
            guard size >= keep else {
                throw NPYError.truncated(file: path, expectedBytes: Int(keep) - NPYHeader.fixedLength,
                                         foundBytes: Int(size) - NPYHeader.fixedLength)
            }
            try Self.writing(path) { try h.truncate(atOffset: keep); try h.seek(toOffset: keep) }
            handle = h; rows = r
        } else {
            guard fm.createFile(atPath: path, contents: Data(NPYHeader.encode(dtype: dtype, shape: [0, columns]))),
                  let h = FileHandle(forUpdatingAtPath: path) else {
                throw NPYError.unreadable(file: path, reason: "cannot create")
            }
            try Self.writing(path) { _ = try h.seekToEnd() }
            handle = h; rows = 0
        }
    }

    /// Runs a write of `path`, turning a Foundation error (a full disk) into one line naming it.
    static func writing(_ path: String, _ body: () throws -> Void) throws {
        do { try body() } catch {
            throw OutputError(file: path, reason: "cannot be written (\(Excerpt.reason(error)))")
        }
    }

    /// Appends `values.count / columns` rows (raw element bytes, C order).
    public func append(bytes: UnsafeRawBufferPointer) throws {
        precondition(bytes.count % (columns * dtype.size) == 0 || columns == 0, "partial row")
        if bytes.count > 0 { try Self.writing(path) { try handle.write(contentsOf: Data(bytes)) } }
        rows += columns == 0 ? 0 : bytes.count / (columns * dtype.size)
    }

    public func append(_ values: [Double]) throws {
        precondition(dtype == .float64)
        try values.withUnsafeBytes { try append(bytes: $0) }
    }

    public func append(_ values: [Float]) throws {
        precondition(dtype == .float32)
        try values.withUnsafeBytes { try append(bytes: $0) }
    }

    public func append(_ values: [Int64]) throws {
        precondition(dtype == .int64)
        try values.withUnsafeBytes { try append(bytes: $0) }
    }

    /// Flushes appended rows to disk (so a progress record written after it is truthful).
    public func sync() throws { try Self.writing(path) { try handle.synchronize() } }

    /// Patches the header with the final row count and closes the file.
    public func finish() throws {
        try Self.writing(path) {
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: Data(NPYHeader.encode(dtype: dtype, shape: [rows, columns])))
            try handle.synchronize()
            try handle.close()
        }
    }

    /// Closes without patching (an interrupted stream stays resumable).
    public func close() throws { try Self.writing(path) { try handle.close() } }
}

/// Reads rows of a 2-D `.npy` file sequentially in chunks (constant memory).
public final class NPYRowReader {
    public let path: String
    public let header: NPYHeader
    public var rows: Int { header.shape.first ?? 0 }
    public var columns: Int { header.shape.count > 1 ? header.shape[1...].reduce(1, *) : 1 }
    public var rowBytes: Int { columns * header.dtype.size }
    private let handle: FileHandle

    /// - Throws: `NPYError` naming the file (bad header, wrong dtype, truncated).
    public init(path: String, expecting dtype: NPYDType? = nil) throws {
        self.path = path
        header = try NPYHeader.read(contentsOf: path)
        if let d = dtype, header.dtype != d {
            throw NPYError.wrongDType(file: path, expected: d, found: header.dtype.rawValue)
        }
        guard header.shape.count >= 1 else { throw NPYError.wrongShape(file: path, expected: "(rows, columns)", found: header.shape) }
        guard let h = FileHandle(forReadingAtPath: path) else { throw NPYError.unreadable(file: path, reason: "cannot open") }
        try h.seek(toOffset: UInt64(header.dataOffset))
        handle = h
    }

    deinit { try? handle.close() }

    /// Reads the next `count` rows' raw bytes (fewer at the end of the file).
    public func next(rows count: Int) throws -> Data {
        let d = try handle.read(upToCount: count * rowBytes) ?? Data()
        guard d.count % max(rowBytes, 1) == 0 else {
            throw NPYError.truncated(file: path, expectedBytes: header.dataBytes, foundBytes: -1)
        }
        return d
    }
}
