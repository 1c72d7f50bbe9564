import FluxML
import Foundation
import MLFluxCore
import SafeIO

/// Every problem of a bundle folder in one run (`mlflux bundle check`): the manifest's
/// fields, the network and its side files, the experiments, measured fragments and free
/// fluxes, the example state, the files and the weights' metadata — one line each.
///
/// The checks are `ModelBundle.load`'s own: after each problem the manifest is mended in
/// memory (the entry dropped, or the automatic choice put in) and the bundle loaded again,
/// so one problem does not hide the next. A network that cannot be read ends the checks
/// that need it.
public enum BundleCheck {
    /// Top-level manifest fields this version knows.
    static let knownFields: Set<String> = ["name", "description", "network", "experiments", "measured", "freeFluxes",
                                           "exampleFluxes", "files", "defaultImputer", "constraints", "tracers",
                                           "fragments", "absoluteFluxes"]

    /// The problems of the bundle in `directory`, each one line; empty when it is sound.
    /// - Parameters: as `ModelBundle.load(directory:pluginFolder:networkSearchPath:)`.
    public static func problems(directory: String, pluginFolder: String? = nil,
                                networkSearchPath: [String] = []) -> [String] {
        let manifestPath = (directory as NSString).appendingPathComponent(ModelBundle.manifestFileName)
        var out: [String] = []
        let object: [String: Any]
        do {
            let data = try InputFile.read(manifestPath, limit: 16 << 20, what: "manifest")
            guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                return [BundleError.invalidJSON(manifest: manifestPath, reason: "the top level must be an object").description]
            }
            object = o
        } catch let e as InputFileError {
            return [BundleError.unreadableManifest(manifest: manifestPath, reason: e.reason).description]
        } catch {
            return [BundleError.invalidJSON(manifest: manifestPath, reason: Excerpt.reason(error)).description]
        }

        // Field shapes, all at once.
        func string(_ key: String, required: Bool) -> String? {
            switch object[key] {
            case nil, is NSNull:
                if required { out.append(BundleError.missingField(manifest: manifestPath, field: key).description) }
            case let s as String: return s
            default: out.append(BundleError.wrongType(manifest: manifestPath, field: key, expected: "a string").description)
            }
            return nil
        }
        func strings(_ key: String) -> [String]? {
            switch object[key] {
            case nil, is NSNull: out.append(BundleError.missingField(manifest: manifestPath, field: key).description)
            case let a as [String]: return a
            default: out.append(BundleError.wrongType(manifest: manifestPath, field: key, expected: "a list of strings").description)
            }
            return nil
        }
        for key in object.keys.sorted() where !knownFields.contains(key) {
            out.append(BundleError.invalidField(manifest: manifestPath, field: key,
                                                reason: "unknown field (known: \(knownFields.sorted().joined(separator: ", ")))").description)
        }
        let name = string("name", required: true)
        let description = string("description", required: true)
        let networkValue = string("network", required: true)
        let experiments = strings("experiments")
        let measured = strings("measured")
        let freeFluxes = strings("freeFluxes")
        let example = string("exampleFluxes", required: true)
        let defaultImputer = string("defaultImputer", required: false)
        let constraints = string("constraints", required: false)
        let tracers = string("tracers", required: false)
        var files: [String: String]?
        switch object["files"] {
        case nil, is NSNull: break
        case let f as [String: String]: files = f
        default: out.append(BundleError.wrongType(manifest: manifestPath, field: "files", expected: "an object of strings").description)
        }
        var fragments: [String: FragmentDefinition]?
        if let f = object["fragments"], !(f is NSNull) {
            do {
                fragments = try JSONDecoder().decode([String: FragmentDefinition].self,
                                                     from: JSONSerialization.data(withJSONObject: f))
            } catch {
                out.append(BundleError.wrongType(manifest: manifestPath, field: "fragments",
                                                 expected: "an object of fragments ({\"atoms\": \"POOL[1-3]\", \"formula\": \"C3\", \"dilution\": true})").description)
            }
        }
        var absoluteFluxes: Bool?
        switch object["absoluteFluxes"] {
        case nil, is NSNull: break
        case let b as Bool: absoluteFluxes = b
        default: out.append(BundleError.wrongType(manifest: manifestPath, field: "absoluteFluxes", expected: "true or false").description)
        }
        guard let networkValue else { return out }

        // The network (with its side files): needed to mend the other fields.
        let plugins = pluginFolder ?? URL(fileURLWithPath: directory).deletingLastPathComponent().path
        var m = BundleManifest(name: name ?? (directory as NSString).lastPathComponent, description: description ?? "",
                               network: networkValue, experiments: experiments ?? [], measured: measured ?? [],
                               freeFluxes: freeFluxes ?? [], exampleFluxes: example ?? ModelBundle.manifestFileName,
                               files: files)
        m.defaultImputer = defaultImputer
        m.constraints = constraints
        m.tracers = tracers
        m.fragments = fragments
        m.absoluteFluxes = absoluteFluxes
        var checkExample = example != nil
        var network: MetabolicNetwork
        do {
            let path = try ModelBundle.locateNetwork(networkValue, directory: directory, manifestPath: manifestPath,
                                                     pluginFolder: plugins, networkSearchPath: networkSearchPath)
            do { network = try FluxMLReader.read(contentsOf: path) }
            catch { throw BundleError.networkFailed(manifest: manifestPath, field: "network", reason: String(describing: error)) }
        } catch {
            out.append(String(describing: error))
            return out + fileProblems(m, directory: directory, manifestPath: manifestPath)
        }
        let bare = network
        for _ in 0..<3 {
            do { network = try ModelBundle.applyingSideFiles(m, to: bare, directory: directory, manifestPath: manifestPath); break }
            catch let e as BundleError {
                out.append(e.description)
                if e.field == "constraints" { m.constraints = nil } else { m.tracers = nil }
            } catch { out.append(String(describing: error)); break }
        }
        func automaticFree(_ prefer: [String]) -> [String]? {
            (try? FreeFluxBasis(network: network, preferFree: prefer))?.names
        }
        if experiments == nil { m.experiments = network.experiments.map(\.id) }
        if measured == nil { m.measured = network.balancedPools.filter { $0.atomCount > 0 }.map(\.id) }
        if freeFluxes == nil, let auto = automaticFree([]) { m.freeFluxes = auto }

        // Load, mend, load again. `positions` maps each list entry left to its index in the file.
        var positions: [String: [Int]] = ["experiments": Array(m.experiments.indices),
                                          "measured": Array(m.measured.indices), "freeFluxes": Array(m.freeFluxes.indices)]
        var bundle: ModelBundle?
        for _ in 0..<500 {
            do {
                bundle = try ModelBundle.load(manifest: m, directory: directory, manifestPath: manifestPath,
                                              pluginFolder: plugins, networkSearchPath: networkSearchPath)
                break
            } catch let e as BundleError {
                var line = e.description
                var field = e.field
                for (list, at) in positions {
                    if let f = field, f.hasPrefix(list + "["), let i = Int(f.dropFirst(list.count + 1).dropLast()), i < at.count {
                        line = line.replacingOccurrences(of: "field '\(f)'", with: "field '\(list)[\(at[i])]'")
                        positions[list]!.remove(at: i)
                        field = f
                    }
                }
                out.append(line)
                guard let field, mend(&m, field: field, network: network, automaticFree: automaticFree) else { break }
                if field == "exampleFluxes" { checkExample = false }
                if field == "measured" { positions["measured"] = Array(m.measured.indices) }
                if field == "experiments" { positions["experiments"] = Array(m.experiments.indices) }
                if field == "freeFluxes" { positions["freeFluxes"] = Array(m.freeFluxes.indices) }
            } catch {
                out.append(String(describing: error))
                break
            }
        }
        guard let bundle else { return out }

        // What loading does not check: the example state, the files, the weights.
        if checkExample {
            do {
                let state = try bundle.exampleFluxState()
                for v in bundle.basis.violations(of: state, in: bundle.network, tolerance: 1e-6) {
                    out.append("\(bundle.exampleFluxesPath): not a feasible state: \(v)")
                }
            } catch { out.append(String(describing: error)) }
        }
        out += fileProblems(m, directory: directory, manifestPath: manifestPath)
        for s in StrategyRegistry.table {
            guard let key = s.fileKey, let relative = m.files?[key],
                  FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(relative)) else { continue }
            do { _ = try s.build(bundle, StrategyRegistry.Options()) }
            catch { out.append("\(s.kind.rawValue) '\(s.name)' (files.\(key) = \(relative)): \(error)") }
        }
        // The map file (files.map) is read only when a map is drawn: check it here.
        if m.files?[ModelBundle.mapFileKey] != nil {
            do { _ = try bundle.mapCoordinates() } catch { out.append(String(describing: error)) }
        }
        if let d = m.defaultImputer, !StrategyRegistry.available(.imputer, in: bundle).contains(d) {
            out.append(BundleError.invalidField(manifest: manifestPath, field: "defaultImputer",
                                                reason: "'\(d)' is not an imputer this bundle has (it has: \(StrategyRegistry.available(.imputer, in: bundle).joined(separator: ", ")))").description)
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    /// Every entry of `files` that is absent or leaves the bundle.
    static func fileProblems(_ m: BundleManifest, directory: String, manifestPath: String) -> [String] {
        (m.files ?? [:]).sorted { $0.key < $1.key }.compactMap { key, path in
            do { _ = try BundlePath.resolve(path, in: directory, manifest: manifestPath, field: "files.\(key)"); return nil }
            catch { return String(describing: error) }
        }
    }

    /// Mends the manifest after a problem with `field`; `false` when nothing more can be checked.
    static func mend(_ m: inout BundleManifest, field: String, network: MetabolicNetwork,
                     automaticFree: ([String]) -> [String]?) -> Bool {
        func index(_ prefix: String) -> Int? {
            guard field.hasPrefix(prefix + "["), field.hasSuffix("]") else { return nil }
            return Int(field.dropFirst(prefix.count + 1).dropLast())
        }
        if field == "name" { m.name = "bundle"; return true }
        if let i = index("experiments"), i < m.experiments.count { m.experiments.remove(at: i); return true }
        if field == "experiments" {
            guard m.experiments.isEmpty, !network.experiments.isEmpty else { return false }
            m.experiments = network.experiments.map(\.id); return true
        }
        if let i = index("measured"), i < m.measured.count {
            m.measured.remove(at: i)
            return true
        }
        if field == "measured" {
            guard m.measured.isEmpty else { return false }
            m.measured = network.balancedPools.filter { $0.atomCount > 0 }.map(\.id); return true
        }
        if let i = index("freeFluxes"), i < m.freeFluxes.count { m.freeFluxes.remove(at: i); return true }
        if field == "freeFluxes" {
            guard let auto = automaticFree(m.freeFluxes), auto != m.freeFluxes else { return false }
            m.freeFluxes = auto; return true
        }
        if field == "exampleFluxes" { m.exampleFluxes = ModelBundle.manifestFileName; return true }
        if field.hasPrefix("files.") { m.files?.removeValue(forKey: String(field.dropFirst(6))); return true }
        return false
    }
}
