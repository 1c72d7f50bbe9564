import Foundation
import SafeIO

/// A bundle folder found on the search path, before it is loaded.
public struct BundleCandidate: Sendable {
    /// The bundle folder.
    public let directory: String
    /// The search-path folder it was found in.
    public let pluginFolder: String
    public var manifestPath: String { (directory as NSString).appendingPathComponent(ModelBundle.manifestFileName) }
    /// The decoded manifest, or the error that kept it from decoding.
    public let manifest: Result<BundleManifest, BundleError>
    /// The folder of the earlier bundle with the same name, when this one is hidden by it.
    public let shadowedBy: String?
    /// The `name` a manifest that does not decode still states, if it has one.
    public let claimedName: String?

    /// The model name (the stated or folder name when the manifest does not decode).
    public var name: String {
        (try? manifest.get().name) ?? claimedName ?? (directory as NSString).lastPathComponent
    }
}

/// The state of one discovered bundle after loading.
public enum BundleStatus: Sendable {
    case loaded(ModelBundle)
    case failed(BundleCandidate, any Error & Sendable)
    case shadowed(BundleCandidate)
}

/// A model name that no bundle on the search path provides.
public struct UnknownModelError: Error, Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var known: [String]
    public var searched: [String]
    public var description: String {
        "unknown model '\(name)' (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")); searched \(searched.joined(separator: ", ")))"
    }
}

/// Discovers bundles on a search path and loads them by name.
///
/// Discovery reads only the manifests (cheap); `load(_:)` reads the network and
/// checks the bundle. The first bundle of a name on the search path wins; later
/// ones are `shadowed`. A bundle whose manifest does not decode claims no name,
/// so it hides nothing; it is listed with its error.
///
/// - Complexity: discovery is O(folders on the search path); loading is dominated
///   by reading the network and computing its free-flux basis.
public struct BundleRegistry: Sendable {
    public let searchPaths: SearchPaths
    /// Every bundle folder found, in search order.
    public let candidates: [BundleCandidate]

    /// Scans `searchPaths.plugins` in order. Missing folders are skipped.
    public init(searchPaths: SearchPaths) {
        self.searchPaths = searchPaths
        var found: [BundleCandidate] = []
        var owner: [String: String] = [:]
        var seenDirs = Set<String>()
        for folder in searchPaths.plugins {
            for dir in Self.bundleFolders(in: folder) {
                let key = BundlePath.canonical(dir) ?? dir
                guard seenDirs.insert(key).inserted else { continue }
                let manifestPath = (dir as NSString).appendingPathComponent(ModelBundle.manifestFileName)
                let manifest: Result<BundleManifest, BundleError>
                do {
                    manifest = .success(try BundleManifest.read(contentsOf: manifestPath))
                } catch let e as BundleError {
                    manifest = .failure(e)
                } catch {
                    manifest = .failure(.unreadableManifest(manifest: manifestPath, reason: "\(error)"))
                }
                var claimedName: String? = nil
                if case .failure = manifest, let data = try? InputFile.read(manifestPath, limit: 16 << 20),
                   let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                    claimedName = object["name"] as? String
                }
                var shadowedBy: String? = nil
                if case .success(let m) = manifest {
                    if let first = owner[m.name] { shadowedBy = first } else { owner[m.name] = dir }
                }
                found.append(BundleCandidate(directory: dir, pluginFolder: folder, manifest: manifest,
                                             shadowedBy: shadowedBy, claimedName: claimedName))
            }
        }
        candidates = found
    }

    /// Bundle folders in `folder`: the folder itself when it holds a manifest,
    /// else its subfolders that hold one, sorted by name.
    static func bundleFolders(in folder: String) -> [String] {
        let fm = FileManager.default
        if fm.fileExists(atPath: (folder as NSString).appendingPathComponent(ModelBundle.manifestFileName)) {
            return [folder]
        }
        guard let entries = try? fm.contentsOfDirectory(atPath: folder) else { return [] }
        return entries.sorted().compactMap { entry in
            guard !entry.hasPrefix(".") else { return nil }
            let dir = (folder as NSString).appendingPathComponent(entry)
            let manifest = (dir as NSString).appendingPathComponent(ModelBundle.manifestFileName)
            return fm.fileExists(atPath: manifest) ? dir : nil
        }
    }

    /// Names of the bundles that win their name, in search order.
    public var names: [String] {
        candidates.compactMap { c in
            guard c.shadowedBy == nil, case .success(let m) = c.manifest else { return nil }
            return m.name
        }
    }

    /// The winning candidate for `name`.
    public func candidate(named name: String) -> BundleCandidate? {
        candidates.first { c in
            guard c.shadowedBy == nil, case .success(let m) = c.manifest else { return false }
            return m.name == name
        }
    }

    /// Loads the bundle named `name` — or, when `name` contains a `/` and is a folder with a
    /// manifest (a bundle made by `train ann --out DIR`), that folder.
    /// - Throws: `UnknownModelError` listing the known names, or the bundle's `BundleError`.
    public func load(_ name: String) throws -> ModelBundle {
        if name.contains("/"), FileManager.default.fileExists(atPath: (name as NSString).appendingPathComponent(ModelBundle.manifestFileName)) {
            return try ModelBundle.load(directory: name, networkSearchPath: searchPaths.networks)
        }
        var isDir: ObjCBool = false
        if name.contains("/"), FileManager.default.fileExists(atPath: name, isDirectory: &isDir), isDir.boolValue {
            throw BundleError.unreadableManifest(manifest: (name as NSString).appendingPathComponent(ModelBundle.manifestFileName),
                                                 reason: "no such file: the folder is not a bundle")
        }
        guard let c = candidate(named: name) else {
            // A bundle of that name whose manifest is broken: its own error says why.
            if let broken = candidates.first(where: { c in
                if case .failure = c.manifest { return c.name == name || (c.directory as NSString).lastPathComponent == name }
                return false
            }), case .failure(let e) = broken.manifest {
                throw e
            }
            throw UnknownModelError(name: name, known: names, searched: searchPaths.plugins)
        }
        return try load(c)
    }

    /// Loads one candidate.
    public func load(_ c: BundleCandidate) throws -> ModelBundle {
        let manifest = try c.manifest.get()
        return try ModelBundle.load(manifest: manifest, directory: c.directory, manifestPath: c.manifestPath,
                                    pluginFolder: c.pluginFolder, networkSearchPath: searchPaths.networks)
    }

    /// Loads every candidate; a broken bundle becomes `.failed` and hides nothing.
    public func loadAll() -> [BundleStatus] {
        candidates.map { c in
            if c.shadowedBy != nil { return .shadowed(c) }
            do {
                return .loaded(try load(c))
            } catch let e as BundleError {
                return .failed(c, e)
            } catch {
                return .failed(c, BundleError.networkFailed(manifest: c.manifestPath, field: "network",
                                                             reason: String(describing: error)))
            }
        }
    }
}
