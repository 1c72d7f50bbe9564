import Foundation
import SafeIO

/// The version of MLFlux, in `mlflux --version` and in every `predict` JSON output.
public enum MLFluxVersion {
    public static let current = "0.14.0"
}

extension ModelBundle {
    /// A SHA-256 fingerprint of everything a prediction of this bundle depends on: the
    /// manifest, the network file, the example flux state and every file in `files` (in key
    /// order; each as its name, its length and its bytes). Two bundles with the same
    /// fingerprint predict the same; a retrained or recalibrated bundle gets a new one.
    /// - Throws: `InputError` when a file cannot be read.
    public func fingerprint() throws -> String {
        var h = SHA256()
        func add(_ name: String, _ path: String) throws {
            let data = try InputFile.read(path, limit: 1 << 32, what: "bundle file")
            h.update(Array(name.utf8) + [0])
            h.update(Array(String(data.count).utf8) + [0])
            h.update(data)
        }
        try add("manifest", manifestPath)
        try add("network", networkPath)
        try add("exampleFluxes", exampleFluxesPath)
        for (field, path) in sideFilePaths { try add(field, path) }
        for key in (manifest.files ?? [:]).keys.sorted() {
            let path = try file(key)
            if FileManager.default.fileExists(atPath: path) { try add("files." + key, path) }
        }
        return h.hexDigest()
    }

    /// Makes a new bundle in the folder `destination` (which must not exist, or be an empty
    /// folder): this bundle's manifest, its network (copied in, so the new bundle stands
    /// alone), its example flux state, and its files except those whose key is in `dropping`
    /// (e.g. the weights a training replaces, with their reports). The copy keeps the name, so
    /// `--model DESTINATION` (a path) or `MLFLUX_PLUGIN_PATH=DESTINATION` selects it.
    /// - Returns: the new bundle, loaded and checked.
    /// - Throws: `OutputError` naming `destination` when it exists with content or a write fails.
    public func copy(to destination: String, dropping: (String) -> Bool, networkSearchPath: [String] = []) throws -> ModelBundle {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: destination, isDirectory: &isDir) {
            guard isDir.boolValue, (try? fm.contentsOfDirectory(atPath: destination))?.isEmpty == true else {
                throw OutputError(file: destination, reason: "exists; --out makes a new bundle folder (choose another, or remove it)")
            }
        }
        do { try fm.createDirectory(atPath: destination, withIntermediateDirectories: true) }
        catch { throw OutputError(file: destination, reason: "cannot create the folder: \(Excerpt.reason(error))") }
        func copyFile(_ from: String, _ relative: String) throws {
            let target = try ContainedPath.output(relative, in: destination, what: "bundle", create: true)
            try OutputFile.write(try InputFile.read(from, limit: 1 << 32, what: "bundle file"), to: target)
        }
        var m = manifest
        let networkName = (networkPath as NSString).lastPathComponent
        try copyFile(networkPath, networkName)
        m.network = networkName
        try copyFile(exampleFluxesPath, manifest.exampleFluxes)
        if let c = manifest.constraints { try copyFile(try BundlePath.resolve(c, in: directory, manifest: manifestPath, field: "constraints"), c) }
        if let t = manifest.tracers { try copyFile(try BundlePath.resolve(t, in: directory, manifest: manifestPath, field: "tracers"), t) }
        var files: [String: String] = [:]
        for (key, relative) in manifest.files ?? [:] where !dropping(key) {
            let path = try file(key)
            guard fm.fileExists(atPath: path) else { continue }
            try copyFile(path, relative)
            files[key] = relative
        }
        m.files = files.isEmpty ? nil : files
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try enc.encode(m)
        data.append(0x0a)
        let manifestOut = (destination as NSString).appendingPathComponent(ModelBundle.manifestFileName)
        try OutputFile.write(data, to: manifestOut)
        return try ModelBundle.load(directory: destination, networkSearchPath: networkSearchPath)
    }
}
