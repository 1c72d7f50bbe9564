import Foundation
import MLFluxCore
import FluxSampling
import Prediction
import SafeIO

/// Flux predictors by strategy name (`--predictor ann|…`), built from a bundle's files.
/// A bundle that lacks what a strategy needs gets an error naming the missing file.
public enum PredictorRegistry {
    /// Strategy names and the bundle file key each needs.
    public static let strategies: [(name: String, fileKey: String?, summary: String)] = [
        ("ann", "ann", "neural network trained on simulated data (ML-Flux), per-prediction uncertainty"),
        ("mfa", nil, "least-squares 13C-MFA (Levenberg–Marquardt on the EMU Jacobian, multi-start)"),
        ("hybrid", "ann", "ANN prediction polished by least-squares MFA"),
    ]

    public static var known: [String] { strategies.map(\.name) }

    /// Settings every strategy takes from the command line.
    public struct Options: Sendable {
        /// Temperature for ΔG, in K.
        public var temperature: Double = Thermodynamics.bodyTemperature
        /// σ of MID entries that come without a standard deviation (least squares, and the σ a
        /// noise-aware ANN is told; nil = 0.01).
        public var measurementStddev: Double?
        /// Hybrid: extra starts drawn from the ANN prediction when a fit misses the data.
        public var restarts: Int = 4
        /// Least squares (mfa): random starts drawn by the flux-space sampler.
        public var starts: Int = 5
        /// Least squares: iterations of one descent.
        public var maxIterations: Int = 200
        /// Least squares: seed of the start draws.
        public var seed: UInt64 = 1
        /// Least squares: worker threads for the starts.
        public var threads: Int = 1
        public init() {}
    }

    /// The predictor `name` of `bundle`, set up with `options`.
    public static func predictor(_ name: String, bundle: ModelBundle, options: Options = Options()) throws -> any FluxPredictor {
        switch name {
        case "ann":
            return try ann(bundle, options)
        case "mfa":
            return MFAPredictor(mfa: try leastSquares(bundle, options), layout: bundle.layout)
        case "hybrid":
            return HybridPredictor(ann: try ann(bundle, options), mfa: try leastSquares(bundle, options),
                                   restarts: max(options.restarts, 0))
        default:
            throw UnknownStrategyError(kind: "predictor", name: name, known: known)
        }
    }
}

extension PredictorRegistry {
    /// Least-squares MFA over the bundle's flux space (bounds from the constraints).
    static func ann(_ bundle: ModelBundle, _ options: Options) throws -> ANNPredictor {
        var p = try ANNWeightsFile.read(URL(fileURLWithPath: try bundle.file("ann")), network: bundle.network,
                                        basis: bundle.basis, layout: bundle.layout)
        p.temperature = options.temperature
        if let s = options.measurementStddev { p.defaultStddev = s }
        return p
    }

    static func leastSquares(_ bundle: ModelBundle, _ options: Options) throws -> LeastSquaresMFA {
        let sampler = try FluxSpaceSampler(network: bundle.network, basis: bundle.basis,
                                           settings: .automatic(for: bundle.basis))
        var mfa = LeastSquaresMFA(simulator: try bundle.simulator(), basis: bundle.basis, network: bundle.network,
                                  bounds: sampler.bounds,
                                  interior: bundle.basis.freeFluxes(of: try bundle.exampleFluxState()))
        if let s = options.measurementStddev { mfa.defaultStddev = s }
        mfa.temperature = options.temperature
        mfa.startCount = options.starts
        mfa.maxIterations = options.maxIterations
        mfa.seed = options.seed
        mfa.threads = options.threads
        // Starts drawn from the flux polytope: feasible by construction, exchange fluxes log-uniform.
        mfa.startSampler = { count, seed in
            var rng = SplitMix64(seed: seed)
            return sampler.sample(count: count, using: &rng)
        }
        return mfa
    }
}

public struct UnknownStrategyError: Error, Equatable, Sendable, CustomStringConvertible {
    public var kind: String
    public var name: String
    public var known: [String]
    public init(kind: String, name: String, known: [String]) {
        self.kind = kind
        self.name = name
        self.known = known
    }
    public var description: String { "unknown \(kind) '\(name)'; known: \(known.joined(separator: ", "))" }
}

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
