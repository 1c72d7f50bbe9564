import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An output that cannot be written: it exists and `--force` was not given, it is one of
/// the run's inputs, it lies outside its bundle, its folder is locked by another run, or the
/// write failed (disk full, no permission). `description` is one line naming the file.
public struct OutputError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var reason: String
    public init(file: String, reason: String) { self.file = file; self.reason = reason }
    public var description: String { "\(file): \(reason)" }
}

/// Writes output files so that a reader never sees half a file and a failed write leaves
/// the old file byte-identical.
///
/// Conventions: the bytes go to a temporary file `.<name>.tmp-XXXXXX` in the target's own
/// folder (same file system, so the final `rename` is atomic), are fsynced, and the
/// temporary file is renamed over the target; on any failure it is removed. A target that
/// is a symlink is *replaced* by the new file — the link's target is never written.
/// Whether an existing output may be replaced is the caller's decision, made with `check`
/// before any work (`--force`; never an input of the same run).
public enum OutputFile {
    /// Refuses `path` as an output when it is one of `inputs` (same device and inode, so
    /// also through a symlink or another spelling; even with `force`), when it is a folder,
    /// or when it exists and `force` is false.
    /// - Parameter flag: the option that replaces, named in the message.
    public static func check(_ path: String, force: Bool, inputs: [String] = [], flag: String = "--force") throws {
        for input in inputs where sameFile(path, input) {
            throw OutputError(file: path, reason: "is the input file \(input); write the output to another file")
        }
        var st = stat()
        guard lstat(path, &st) == 0 else { return }   // does not exist (or unreachable: the write will say)
        var target = stat()
        if stat(path, &target) == 0, target.st_mode & S_IFMT == S_IFDIR {
            throw OutputError(file: path, reason: "is a folder; give a file name for the output")
        }
        guard force else {
            throw OutputError(file: path, reason: "already exists; add \(flag) to replace it")
        }
    }

    /// `true` when `a` and `b` name the same existing file (device and inode, symlinks followed).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// Atomically replaces (or creates) `path` with `data`.
    /// - Throws: `OutputError` naming `path`; the old file is then unchanged.
    public static func write(_ data: Data, to path: String) throws {
        try stage(data, for: path).commit()
    }

    /// Atomically replaces (or creates) `path` with the UTF-8 bytes of `text`.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Writes `data` to a synced temporary file beside `path` without touching `path`;
    /// `commit()` renames it into place. Lets a run prepare several outputs and replace
    /// them only when every one was written (a full disk then changes none of them).
    public static func stage(_ data: Data, for path: String) throws -> Staged {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        var template = Array(((folder.isEmpty ? "." : folder) + "/.\(name).tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw OutputError(file: path, reason: "cannot be written (\(lastError()))") }
        let temp = String(cString: template)
        var failure: String?
        if fchmod(fd, mode(replacing: path)) != 0 { failure = lastError() }
        if failure == nil {
            failure = data.withUnsafeBytes { raw -> String? in
                var offset = 0
                while offset < raw.count {
                    let n = Glue.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return lastError()
                    }
                    offset += n
                }
                return nil
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = lastError() }
        if close(fd) != 0, failure == nil { failure = lastError() }
        if let failure {
            unlink(temp)
            throw OutputError(file: path, reason: "cannot be written (\(failure)); the old file, if any, is unchanged")
        }
        return Staged(temporary: temp, target: path)
    }

    /// A fully written temporary file waiting to be renamed over its target.
    public final class Staged {
        public let temporary: String
        public let target: String
        private var done = false

        init(temporary: String, target: String) { self.temporary = temporary; self.target = target }

        /// Renames the temporary file over the target (and syncs the folder, best effort).
        public func commit() throws {
            guard !done else { return }
            guard rename(temporary, target) == 0 else {
                let why = lastError()
                discard()
                throw OutputError(file: target, reason: "cannot be replaced (\(why)); the old file, if any, is unchanged")
            }
            done = true
            let folder = (target as NSString).deletingLastPathComponent
            let dfd = open(folder.isEmpty ? "." : folder, O_RDONLY)
            if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        }

        /// Removes the temporary file without touching the target.
        public func discard() {
            guard !done else { return }
            done = true
            unlink(temporary)
        }

        deinit { discard() }
    }

    /// Renames `source` over `target` (same file system), with a one-line error naming `target`.
    public static func move(_ source: String, to target: String) throws {
        guard rename(source, target) == 0 else {
            throw OutputError(file: target, reason: "cannot be moved into place from \(source) (\(lastError()))")
        }
    }

    /// Permissions for the new file: those of the regular file it replaces, else 0666 less the umask.
    static func mode(replacing path: String) -> mode_t {
        var st = stat()
        if lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG { return st.st_mode & 0o7777 }
        let mask = umask(0)
        umask(mask)
        return 0o666 & ~mask
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}

/// The C library's `write`, out of reach of the `write` methods above.
private enum Glue {
    static func write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, p, n)
        #elseif canImport(Musl)
        return Musl.write(fd, p, n)
        #else
        return Darwin.write(fd, p, n)
        #endif
    }
}
