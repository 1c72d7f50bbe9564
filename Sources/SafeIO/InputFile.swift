import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that cannot be used as an input: missing, not a regular file (a folder, a
/// FIFO, a device), too large for what it holds, or unreadable. `description` names
/// the file and says what to do.
public struct InputFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var reason: String
    public init(file: String, reason: String) { self.file = file; self.reason = reason }
    public var description: String { "\(file): \(reason)" }
}

/// Reads input files defensively: regular files only (symlinks to regular files are
/// followed), a size limit checked before any byte is read, and short reasons on failure.
///
/// `/dev/zero`, a FIFO or a folder are refused at once instead of read forever or hung on.
public enum InputFile {
    /// Largest file of any kind MLFlux reads whole into memory unless a caller sets its own
    /// limit (1 GiB: the largest `.npy` arrays of a CCM dataset stay well below it).
    public static let defaultLimit = 1 << 30

    /// Checks that `path` is a regular file of at most `limit` bytes; returns its size.
    /// - Parameter what: what the file holds, for the message ("FluxML network", "MID table").
    public static func check(_ path: String, limit: Int = defaultLimit, what: String = "file") throws -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let e = errno
            throw InputFileError(file: path, reason: e == ENOENT ? "no such file" : "cannot be read (\(String(cString: strerror(e))))")
        }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG else {
            let name: String
            switch kind {
            case S_IFDIR: name = "a folder"
            case S_IFIFO: name = "a FIFO (named pipe)"
            case S_IFCHR, S_IFBLK: name = "a device"
            case S_IFSOCK: name = "a socket"
            default: name = "not a regular file"
            }
            throw InputFileError(file: path, reason: "is \(name), not a regular file; give the \(what) as a file")
        }
        let size = Int(st.st_size)
        guard size <= limit else {
            throw InputFileError(file: path, reason: "\(size) bytes is larger than the \(limit)-byte limit for a \(what)")
        }
        return size
    }

    /// The whole file, after `check`.
    public static func read(_ path: String, limit: Int = defaultLimit, what: String = "file") throws -> Data {
        _ = try check(path, limit: limit, what: what)
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw InputFileError(file: path, reason: "cannot be opened (\(String(cString: strerror(errno))))")
        }
        defer { try? h.close() }
        do {
            // Read at most limit + 1 bytes: a file that grew since `check` is still refused.
            let data = try h.read(upToCount: limit + 1) ?? Data()
            guard data.count <= limit else {
                throw InputFileError(file: path, reason: "larger than the \(limit)-byte limit for a \(what)")
            }
            return data
        } catch let e as InputFileError {
            throw e
        } catch {
            throw InputFileError(file: path, reason: "read error (\(Excerpt.reason(error)))")
        }
    }

    /// The whole file as UTF-8 text, after `check`.
    public static func text(_ path: String, limit: Int = defaultLimit, what: String = "file") throws -> String {
        let data = try read(path, limit: limit, what: what)
        guard let s = String(validating: data, as: UTF8.self) else {
            throw InputFileError(file: path, reason: "not UTF-8 text")
        }
        return s
    }
}
