import Foundation

/// Reads a text file line by line in 64 KiB chunks: memory stays bounded by the longest
/// line, whatever the file size, so a reader can stop at the first bad line of a
/// ten-million-row table without loading it. Lines end at `\n`, `\r\n` or a lone `\r`
/// (old Mac files); the terminator is not part of the line.
public final class LineReader {
    /// The file, for messages.
    public let path: String
    /// Longest line accepted, in bytes.
    public let maxLineBytes: Int
    /// 1-based number of the line last returned (0 before the first).
    public private(set) var lineNumber = 0

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private var skipLineFeed = false

    /// Opens `path` after `InputFile.check` (regular files only; no size limit: the
    /// file is streamed).
    public init(path: String, maxLineBytes: Int = 1 << 16, what: String = "file") throws {
        _ = try InputFile.check(path, limit: Int.max, what: what)
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw InputFileError(file: path, reason: "cannot be opened")
        }
        self.path = path
        self.maxLineBytes = maxLineBytes
        handle = h
    }

    deinit { try? handle.close() }

    /// The next line, or `nil` at the end of the file.
    /// - Throws: `InputFileError` for a line longer than `maxLineBytes`, text that is not
    ///   UTF-8, or a read error.
    public func next() throws -> String? {
        var line: [UInt8] = []
        while true {
            if position == buffer.count {
                if atEnd { break }
                try fill()
                if position == buffer.count { atEnd = true; break }
            }
            let byte = buffer[position]
            position += 1
            if skipLineFeed {
                skipLineFeed = false
                if byte == 0x0A { continue }
            }
            if byte == 0x0A || byte == 0x0D {
                skipLineFeed = byte == 0x0D
                return try finish(line)
            }
            line.append(byte)
            guard line.count <= maxLineBytes else {
                throw InputFileError(file: path, reason: "line \(lineNumber + 1) is longer than \(maxLineBytes) bytes; is this a text table?")
            }
        }
        return line.isEmpty ? nil : try finish(line)
    }

    private func finish(_ bytes: [UInt8]) throws -> String {
        lineNumber += 1
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw InputFileError(file: path, reason: "line \(lineNumber) is not UTF-8 text")
        }
        return s
    }

    private func fill() throws {
        do {
            let data = try handle.read(upToCount: 1 << 16) ?? Data()
            buffer = [UInt8](data)
            position = 0
        } catch {
            throw InputFileError(file: path, reason: "read error (\(Excerpt.reason(error)))")
        }
    }
}
