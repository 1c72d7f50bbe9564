import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps the files a manifest names inside their bundle.
///
/// A path is accepted when it is relative, has no `..` component, and — once
/// symlinks are resolved — still lies inside the bundle folder (also resolved).
enum BundlePath {
    /// Absolute canonical path (symlinks resolved) of an existing file or folder.
    static func canonical(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// `true` when `relative` passes the lexical checks (relative, non-empty, no `..`).
    static func isLexicallyContained(_ relative: String) -> Bool {
        guard !relative.isEmpty, !relative.hasPrefix("/"), !relative.hasPrefix("~") else { return false }
        return !relative.split(separator: "/").contains("..")
    }

    /// Resolves `relative` inside `directory`.
    /// - Parameter mustExist: throw `missingFile` when the file is absent.
    /// - Throws: `BundleError.fileOutsideBundle` or `.missingFile`, naming `manifest` and `field`.
    static func resolve(_ relative: String, in directory: String, manifest: String, field: String,
                        mustExist: Bool = true) throws -> String {
        guard isLexicallyContained(relative) else {
            throw BundleError.fileOutsideBundle(manifest: manifest, field: field, path: relative)
        }
        let joined = (directory as NSString).appendingPathComponent(relative)
        guard let real = canonical(joined) else {
            if mustExist { throw BundleError.missingFile(manifest: manifest, field: field, path: relative) }
            return joined
        }
        let root = canonical(directory) ?? directory
        guard real == root || real.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw BundleError.fileOutsideBundle(manifest: manifest, field: field, path: relative)
        }
        return joined
    }
}
