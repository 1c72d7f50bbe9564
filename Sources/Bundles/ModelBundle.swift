import EMU
import FluxML
import IsotopeCorrection
import Foundation
import MLFluxCore

/// A loaded, validated model bundle: its manifest, folder, network, tracer
/// experiments, measured fragments and free-flux basis.
///
/// A value exists only when every check has passed (see `load(directory:pluginFolder:networkSearchPath:)`).
public struct ModelBundle: Sendable {
    public let manifest: BundleManifest
    /// The bundle folder.
    public let directory: String
    /// `directory/manifest.json`.
    public let manifestPath: String
    /// The FluxML file the network was read from.
    public let networkPath: String
    /// The network, with `experiments` as its tracer experiments (in manifest order).
    public let network: MetabolicNetwork
    /// The manifest's tracer experiments, in order.
    public let experiments: [TracerExperiment]
    /// The manifest's measured fragments, in order.
    public let measured: [MeasuredFragment]
    /// Free fluxes of the network (their count equals `manifest.freeFluxes.count`).
    public let basis: FreeFluxBasis
    /// Natural-abundance matrices of the measured fragments that have a formula, by name
    /// (manifest `fragments`); the simulator maps their MIDs through them.
    public let naturalAbundance: [String: CorrectionMatrix]
    /// Diluted fragments (labeling-only mixing, manifest `fragments.NAME.dilution`): the pool
    /// of each, by fragment name; the simulator mixes them with unlabeled material.
    public let dilution: [String: String]

    public var name: String { manifest.name }

    /// File name of a bundle's manifest.
    public static let manifestFileName = "manifest.json"

    /// Loads the bundle in `directory`.
    /// - Parameters:
    ///   - pluginFolder: the search-path folder the bundle was found in; a `Networks/`
    ///     folder beside it is searched first for network names. Defaults to the parent of `directory`.
    ///   - networkSearchPath: further folders holding `<name>.fml`.
    /// - Throws: `BundleError` naming the manifest and the field.
    public static func load(directory: String, pluginFolder: String? = nil,
                            networkSearchPath: [String] = []) throws -> ModelBundle {
        let manifestPath = (directory as NSString).appendingPathComponent(manifestFileName)
        let manifest = try BundleManifest.read(contentsOf: manifestPath)
        return try load(manifest: manifest, directory: directory, manifestPath: manifestPath,
                        pluginFolder: pluginFolder, networkSearchPath: networkSearchPath)
    }

    static func load(manifest: BundleManifest, directory: String, manifestPath: String,
                     pluginFolder: String?, networkSearchPath: [String]) throws -> ModelBundle {
        let m = manifestPath
        func invalid(_ field: String, _ why: String) -> BundleError {
            .invalidField(manifest: m, field: field, reason: why)
        }
        guard !manifest.name.isEmpty, !manifest.name.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw invalid("name", "'\(manifest.name)' must be a non-empty word without spaces or '/'")
        }

        // Network: a file in the bundle, or a name in a Networks/ folder.
        let plugins = pluginFolder ?? URL(fileURLWithPath: directory).deletingLastPathComponent().path
        let networkPath = try locateNetwork(manifest.network, directory: directory, manifestPath: m,
                                            pluginFolder: plugins, networkSearchPath: networkSearchPath)
        var full: MetabolicNetwork
        do {
            full = try FluxMLReader.read(contentsOf: networkPath)
        } catch {
            throw BundleError.networkFailed(manifest: m, field: "network", reason: String(describing: error))
        }
        full = try applyingSideFiles(manifest, to: full, directory: directory, manifestPath: m)

        // Experiments, in manifest order.
        guard !manifest.experiments.isEmpty else { throw invalid("experiments", "lists no experiment") }
        var experiments: [TracerExperiment] = []
        for (i, id) in manifest.experiments.enumerated() {
            guard let e = full.experiments.first(where: { $0.id == id }) else {
                let known = full.experiments.map(\.id)
                throw invalid("experiments[\(i)]",
                              "unknown experiment '\(id)' in network '\(full.name)' (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            }
            guard !experiments.contains(where: { $0.id == id }) else {
                throw invalid("experiments[\(i)]", "experiment '\(id)' is listed twice")
            }
            experiments.append(e)
        }
        let network: MetabolicNetwork
        do {
            network = try full.with(experiments: experiments)
        } catch {
            throw BundleError.networkFailed(manifest: m, field: "experiments", reason: String(describing: error))
        }

        // Measured fragments (aliases, atom subsets, formulas: `FragmentDefinition`).
        guard !manifest.measured.isEmpty else { throw invalid("measured", "lists no metabolite") }
        let (measured, naturalAbundance, dilution) = try FragmentDefinition.resolve(manifest, network: network, manifestPath: m)

        // Free fluxes: the bundle's recorded choice, which the network must allow.
        for (i, name) in manifest.freeFluxes.enumerated() {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count >= 2, let kind = parts.last, kind == "net" || kind == "xch" else {
                throw invalid("freeFluxes[\(i)]", "'\(name)' must read REACTION.net or REACTION.xch")
            }
            let reaction = parts.dropLast().joined(separator: ".")
            guard let j = network.reactionIndex[reaction] else {
                throw invalid("freeFluxes[\(i)]", "unknown reaction '\(reaction)' in network '\(network.name)'")
            }
            if kind == "xch" && !network.isBidirectional[j] {
                throw invalid("freeFluxes[\(i)]", "reaction '\(reaction)' is one-way and has no exchange flux")
            }
        }
        let basis: FreeFluxBasis
        do {
            basis = try FreeFluxBasis(network: network, preferFree: manifest.freeFluxes)
        } catch {
            throw BundleError.networkFailed(manifest: m, field: "freeFluxes", reason: "no free-flux basis: \(error)")
        }
        guard Set(basis.names) == Set(manifest.freeFluxes), basis.count == manifest.freeFluxes.count else {
            throw invalid("freeFluxes", "[\(manifest.freeFluxes.joined(separator: ", "))] is not a free-flux choice of network '\(network.name)' (mass balances and constraints allow e.g. [\(basis.names.joined(separator: ", "))])")
        }

        // Files stay inside the bundle.
        _ = try BundlePath.resolve(manifest.exampleFluxes, in: directory, manifest: m, field: "exampleFluxes")
        for (key, path) in (manifest.files ?? [:]).sorted(by: { $0.key < $1.key }) {
            _ = try BundlePath.resolve(path, in: directory, manifest: m, field: "files.\(key)", mustExist: false)
        }

        return ModelBundle(manifest: manifest, directory: directory, manifestPath: m, networkPath: networkPath,
                           network: network, experiments: experiments, measured: measured, basis: basis,
                           naturalAbundance: naturalAbundance, dilution: dilution)
    }

    /// Resolves the manifest's `network` value to a FluxML file.
    static func locateNetwork(_ value: String, directory: String, manifestPath: String,
                              pluginFolder: String, networkSearchPath: [String]) throws -> String {
        let looksLikeFile = value.contains("/") || value.hasSuffix(".fml") || value.hasSuffix(".xml")
        let inBundle = (directory as NSString).appendingPathComponent(value)
        if looksLikeFile || (BundlePath.isLexicallyContained(value) && FileManager.default.fileExists(atPath: inBundle)) {
            return try BundlePath.resolve(value, in: directory, manifest: manifestPath, field: "network")
        }
        guard !value.isEmpty, !value.hasPrefix("~"), !value.contains("..") else {
            throw BundleError.fileOutsideBundle(manifest: manifestPath, field: "network", path: value)
        }
        let besidePlugins = ((pluginFolder as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("Networks")
        var searched: [String] = []
        for folder in [besidePlugins] + networkSearchPath where !searched.contains(folder) {
            searched.append(folder)
            let candidate = (folder as NSString).appendingPathComponent(value + ".fml")
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        throw BundleError.unknownNetwork(manifest: manifestPath, field: "network", name: value, searched: searched)
    }

    /// Path of the example flux state file.
    public var exampleFluxesPath: String { (directory as NSString).appendingPathComponent(manifest.exampleFluxes) }

    /// The example flux state (`exampleFluxes`), read for this bundle's network.
    /// - Throws: `FluxFileError` naming the file and the reaction.
    public func exampleFluxState() throws -> FluxState {
        try FluxStateFile.read(contentsOf: exampleFluxesPath, network: network)
    }

    /// Path of the file stored under `key` in `files`.
    /// - Throws: `BundleError.invalidField` when the bundle has no such file (listing the keys it has),
    ///   `.missingFile` when the file is absent.
    public func file(_ key: String) throws -> String {
        guard let relative = manifest.files?[key] else {
            let keys = (manifest.files ?? [:]).keys.sorted()
            throw BundleError.invalidField(manifest: manifestPath, field: "files.\(key)",
                                           reason: "bundle '\(name)' has no file '\(key)' (it has: \(keys.isEmpty ? "none" : keys.joined(separator: ", ")))")
        }
        return try BundlePath.resolve(relative, in: directory, manifest: manifestPath, field: "files.\(key)")
    }

    /// An EMU simulator for the bundle's measured fragments and experiments.
    public func simulator() throws -> EMUSimulator {
        try EMUSimulator(network: network, measured: measured, experiments: experiments,
                         measurementMaps: measurementMaps, dilution: dilution)
    }

    /// The simulator's maps of the fragments with a formula (`naturalAbundance`).
    public var measurementMaps: [String: MeasurementMap] { naturalAbundance.mapValues(MeasurementMap.init) }
}
