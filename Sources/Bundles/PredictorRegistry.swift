import Foundation
import MLFluxCore
import FluxSampling
import Prediction

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
        /// σ of MID entries that come without a standard deviation (least squares; nil = 0.01).
        public var measurementStddev: Double?
        /// Hybrid: extra starts drawn from the ANN prediction when a fit misses the data.
        public var restarts: Int = 4
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
        return mfa
    }
}

public struct UnknownStrategyError: Error, Equatable, Sendable, CustomStringConvertible {
    public var kind: String
    public var name: String
    public var known: [String]
    public var description: String { "unknown \(kind) '\(name)'; known: \(known.joined(separator: ", "))" }
}

extension ModelBundle {
    /// Stores files under their keys in `files` of the bundle's manifest.json (re-read from
    /// disk, so earlier registrations are kept); each path must exist inside the bundle.
    public func register(files new: [String: String]) throws {
        for (key, relativePath) in new {
            _ = try BundlePath.resolve(relativePath, in: directory, manifest: manifestPath, field: "files.\(key)",
                                       mustExist: true)
        }
        var m = try BundleManifest.read(contentsOf: manifestPath)
        m.files = (m.files ?? [:]).merging(new) { _, b in b }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try enc.encode(m)
        data.append(0x0a)
        try data.write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
    }
}
