import Foundation
import MLFluxCore
import Prediction

/// Flux predictors by strategy name (`--predictor ann|…`), built from a bundle's files.
/// A bundle that lacks what a strategy needs gets an error naming the missing file.
public enum PredictorRegistry {
    /// Strategy names and the bundle file key each needs.
    public static let strategies: [(name: String, fileKey: String?, summary: String)] = [
        ("ann", "ann", "neural network trained on simulated data (ML-Flux), per-prediction uncertainty"),
    ]

    public static var known: [String] { strategies.map(\.name) }

    /// The predictor `name` of `bundle`.
    public static func predictor(_ name: String, bundle: ModelBundle) throws -> any FluxPredictor {
        switch name {
        case "ann":
            let path = try bundle.file("ann")
            return try ANNWeightsFile.read(URL(fileURLWithPath: path), network: bundle.network,
                                           basis: bundle.basis, layout: bundle.layout)
        default:
            throw UnknownStrategyError(kind: "predictor", name: name, known: known)
        }
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
