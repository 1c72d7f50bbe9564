import Foundation
import SafeIO

extension ModelBundle {
    /// Stores files under their keys in `files` of the bundle's manifest.json (re-read from
    /// disk, so earlier registrations are kept); each path must exist inside the bundle.
    ///
    /// Only `files` changes: every other top-level field — also ones this version does not
    /// know — is kept with its value. The manifest is rewritten pretty-printed with sorted
    /// keys (the shipped style) through a temporary file renamed into place.
    /// - Throws: `BundleError` naming the manifest and field, `OutputError` when the write fails.
    public func register(files new: [String: String]) throws {
        for (key, relativePath) in new {
            _ = try BundlePath.resolve(relativePath, in: directory, manifest: manifestPath, field: "files.\(key)",
                                       mustExist: true)
        }
        let bytes: Data
        do { bytes = try InputFile.read(manifestPath, limit: 16 << 20, what: "manifest") }
        catch { throw BundleError.unreadableManifest(manifest: manifestPath, reason: "\(error)") }
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: bytes) }
        catch { throw BundleError.invalidJSON(manifest: manifestPath, reason: Excerpt.reason(error)) }
        guard var object = parsed as? [String: Any] else {
            throw BundleError.invalidJSON(manifest: manifestPath, reason: "not a JSON object")
        }
        var files: [String: Any] = [:]
        if let old = object["files"], !(old is NSNull) {
            guard let dict = old as? [String: Any] else {
                throw BundleError.wrongType(manifest: manifestPath, field: "files", expected: "an object of strings")
            }
            files = dict
        }
        for (key, path) in new { files[key] = path }
        object["files"] = files
        var data: Data
        do { data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) }
        catch { throw BundleError.invalidJSON(manifest: manifestPath, reason: Excerpt.reason(error)) }
        data.append(0x0a)
        try OutputFile.write(data, to: manifestPath)
    }
}
