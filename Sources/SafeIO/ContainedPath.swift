import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Output paths kept inside a root folder (a model bundle): a downloaded bundle that ships
/// `reports/` or a report file as a symlink to somewhere else must not make a run write there.
///
/// Conventions: the relative path must be non-empty, not absolute, without `..`; every
/// existing component is checked with `lstat` — a symlink (folder or file) is accepted only
/// when it resolves inside the root; missing folders are created inside the root. The
/// returned path is then written with `OutputFile`, which replaces a final symlink instead
/// of writing through it.
public enum ContainedPath {
    /// The full path of `relative` inside `root`, with its missing folders created.
    /// - Parameter what: what the root is, for messages ("bundle").
    /// - Parameter create: create missing folders; `false` only checks (a check before a
    ///   long run that must leave the root untouched when it fails).
    /// - Throws: `OutputError` naming the offending path inside the root.
    public static func output(_ relative: String, in root: String, what: String = "bundle",
                              create: Bool = true) throws -> String {
        let parts = relative.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !relative.hasPrefix("/"), !relative.hasPrefix("~"), !parts.isEmpty,
              !parts.contains(".."), parts.contains(where: { $0 != "." }) else {
            throw OutputError(file: (root as NSString).appendingPathComponent(relative),
                              reason: "an output must be a relative path inside the \(what) \(root) (no absolute path, no '..')")
        }
        guard let realRoot = canonical(root) else {
            throw OutputError(file: root, reason: "the \(what) folder cannot be found")
        }
        var current = root
        for (k, part) in parts.enumerated() {
            current = (current as NSString).appendingPathComponent(part)
            let last = k == parts.count - 1
            var st = stat()
            if lstat(current, &st) != 0 {
                guard errno == ENOENT else {
                    throw OutputError(file: current, reason: "cannot be checked (\(String(cString: strerror(errno))))")
                }
                if last || !create { return (root as NSString).appendingPathComponent(parts.joined(separator: "/")) }
                guard mkdir(current, 0o777) == 0 || errno == EEXIST else {
                    throw OutputError(file: current, reason: "cannot create the folder (\(String(cString: strerror(errno))))")
                }
                continue
            }
            if st.st_mode & S_IFMT == S_IFLNK {
                guard let real = canonical(current), real == realRoot || real.hasPrefix(realRoot.hasSuffix("/") ? realRoot : realRoot + "/") else {
                    throw OutputError(file: current, reason: "is a symlink leaving the \(what) \(root); outputs stay inside the \(what) — replace the link with a \(last ? "file" : "folder")")
                }
            }
            if !last {
                var target = stat()
                guard stat(current, &target) == 0, target.st_mode & S_IFMT == S_IFDIR else {
                    throw OutputError(file: current, reason: "is not a folder; the output \(relative) needs one here")
                }
            }
        }
        return current
    }

    /// Absolute canonical path (symlinks resolved) of an existing file or folder.
    static func canonical(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
