import Bundles
import EMU
import Foundation
import MLFluxCore

/// The bundles the server offers, discovered once (`BundleRegistry`, as `mlflux models`), each
/// loaded on first use (manifest and network: cheap) and, on its first prediction, prepared
/// (simulator, fingerprint: seconds for a large bundle, done off the actor so other models
/// stay available); predictors are kept too: a request never reloads weights. Names are
/// looked up among the discovered bundles only; nothing a request sends becomes a path.
public actor ModelCache {
    /// What the server keeps of one bundle.
    public struct Entry: Sendable {
        public var bundle: ModelBundle
        /// Predictors and imputers that can run now (trained or weight-free).
        public var predictors: [String]
        public var imputers: [String]
        public var defaultImputer: String?
    }

    public nonisolated let registry: BundleRegistry
    /// Imputers of every bundle, built on first use.
    public nonisolated let imputers = ImputerCache()
    private var entries: [String: Entry] = [:]
    private var failures: [String: String] = [:]
    private var predictors: [PredictorKey: any FluxPredictor] = [:]
    private var prepared: [String: Task<Prepared, any Error>] = [:]

    /// What a prediction of a bundle needs beyond its entry.
    public struct Prepared: Sendable {
        public var simulator: EMUSimulator
        /// `ModelBundle.fingerprint()` (provenance of every prediction).
        public var fingerprint: String
    }

    struct PredictorKey: Hashable {
        var model: String
        var predictor: String
        var stddev: Double?
    }

    public init(registry: BundleRegistry) {
        self.registry = registry
    }

    /// Names of the discovered bundles (winners of their name), in search order.
    public nonisolated var names: [String] { registry.names }

    /// The bundle `name`, loaded once; `ModelNotFoundError` when no discovered bundle has that
    /// name, the bundle's own error (as text, `BundleLoadError`) when it is broken.
    public func entry(_ name: String) throws -> Entry {
        if let e = entries[name] { return e }
        if let reason = failures[name] { throw BundleLoadError(description: reason) }
        guard let candidate = registry.candidate(named: name) else {
            throw ModelNotFoundError(name: name, known: registry.names)
        }
        do {
            let bundle = try registry.load(candidate)
            let strategies = BundleStrategies(bundle)
            let e = Entry(bundle: bundle, predictors: strategies.names(.predictor, trained: true),
                          imputers: strategies.names(.imputer, trained: true),
                          defaultImputer: StrategyRegistry.defaultImputer(of: bundle))
            entries[name] = e
            return e
        } catch {
            failures[name] = "model '\(name)' cannot be loaded: \(error)"
            throw BundleLoadError(description: failures[name]!)
        }
    }

    /// The simulator and fingerprint of `entry`'s bundle, built once by a task of their own.
    public func prepared(_ entry: Entry) async throws -> Prepared {
        let name = entry.bundle.name
        let task = prepared[name] ?? Task.detached {
            Prepared(simulator: try entry.bundle.simulator(), fingerprint: try entry.bundle.fingerprint())
        }
        prepared[name] = task
        return try await task.value
    }

    /// Every discovered bundle that loads, in search order (broken ones are left out).
    public func loadedEntries() -> [Entry] {
        registry.names.compactMap { try? entry($0) }
    }

    /// At most this many predictors are kept; past it, those built for a client's σ are dropped
    /// (σ is a number a client chooses: an unbounded key), the defaults stay.
    static let predictorLimit = 64

    /// Number of predictors kept now (tests).
    var cachedPredictorCount: Int { predictors.count }

    /// The predictor `name` of `model` built with `options` (its σ default is part of the key),
    /// built once. Unknown or untrained names throw the registry's error (a clear line).
    public func predictor(_ name: String, of entry: Entry, options: StrategyRegistry.Options) throws -> any FluxPredictor {
        let key = PredictorKey(model: entry.bundle.name, predictor: name, stddev: options.measurementStddev)
        if let p = predictors[key] { return p }
        let p = try StrategyRegistry.predictor(name, bundle: entry.bundle, options: options)
        if predictors.count >= Self.predictorLimit { predictors = predictors.filter { $0.key.stddev == nil } }
        predictors[key] = p
        return p
    }
}

/// No discovered bundle has this name. Unlike `UnknownModelError` of the command line it names
/// no folder: a client learns the model names, not the server's paths.
public struct ModelNotFoundError: Error, Sendable, CustomStringConvertible {
    public var name: String
    public var known: [String]
    public var description: String {
        "unknown model '\(name)' (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
    }
}

/// A discovered bundle that does not load (its manifest or files are broken).
public struct BundleLoadError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
