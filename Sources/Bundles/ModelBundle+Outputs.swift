import Foundation
import SafeIO

extension ModelBundle {
    /// The path of the output `relative` (e.g. `reports/evaluation-test.json`,
    /// `ann.safetensors`) inside this bundle, with missing folders created.
    ///
    /// Outputs are contained like manifest paths: relative, no `..`, and no existing
    /// component may be a symlink resolving outside the bundle (a downloaded bundle whose
    /// `reports/` links elsewhere is refused, not written through). Write the result with
    /// `OutputFile`, which replaces a final symlink inside the bundle instead of its target.
    /// - Parameter create: create missing folders (`false`: only check, touching nothing).
    /// - Throws: `OutputError` naming the offending file inside the bundle.
    public func outputPath(_ relative: String, create: Bool = true) throws -> String {
        try ContainedPath.output(relative, in: directory, what: "bundle", create: create)
    }

    /// Locks the bundle folder while a run rewrites its files (weights, manifest).
    /// - Throws: `OutputError` when another mlflux run holds it.
    public func lockForWriting() throws -> FolderLock {
        try FolderLock(directory)
    }
}
