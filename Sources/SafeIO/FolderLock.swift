import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on an output folder, held while one mlflux run writes into it, so a
/// second run into the same folder is refused instead of mixing its files with the first's.
///
/// Conventions: the lock is `flock(2)` on the folder itself (no lock file is left behind);
/// it is released by `release()`, when the value is dropped, or by the kernel when the
/// process dies — so a run killed with `kill -9` never leaves a stale lock and `--resume`
/// works at once. Advisory: only mlflux runs honour it.
public final class FolderLock {
    /// The locked folder.
    public let path: String
    private var fd: Int32

    /// Creates `path` (with its parents) when missing and locks it.
    /// - Throws: `OutputError` naming the folder: it cannot be created or opened, or another
    ///   run holds it ("is being written by another mlflux run").
    public init(_ path: String) throws {
        self.path = path
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        catch { throw OutputError(file: path, reason: "cannot create the folder (\(Excerpt.reason(error)))") }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw OutputError(file: path, reason: "cannot open the folder (\(String(cString: strerror(errno))))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let e = errno
            close(fd)
            fd = -1
            if e == EWOULDBLOCK {
                throw OutputError(file: path, reason: "is being written by another mlflux run; wait for it to finish or choose another output folder")
            }
            throw OutputError(file: path, reason: "cannot be locked (\(String(cString: strerror(e))))")
        }
    }

    /// Releases the lock (idempotent).
    public func release() {
        guard fd >= 0 else { return }
        _ = flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
