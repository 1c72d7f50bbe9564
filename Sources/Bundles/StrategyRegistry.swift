import Foundation
import Imputation
import MLFluxCore
import Prediction

/// Whether a strategy fills missing MIDs or maps labeling to fluxes.
public enum StrategyKind: String, Sendable, CaseIterable {
    case imputer, predictor
}

/// One row of the strategy table: a name (`--imputer knn`, `--predictor ann`), its kind, the
/// bundle file it needs and the factory that builds it from a bundle.
public struct Strategy: Sendable {
    public let name: String
    public let kind: StrategyKind
    /// Key in the manifest's `files` of what the strategy loads (`nil`: needs no file).
    public let fileKey: String?
    public let summary: String
    /// Whether the strategy fits labeling-only mixing (a bundle with diluted pools); the others
    /// refuse such a bundle (`UnsupportedStrategyError`).
    public var fitsDilution = false
    let build: @Sendable (ModelBundle, StrategyRegistry.Options) throws -> Built

    enum Built {
        case predictor(any FluxPredictor)
        case imputer(any Imputer)
    }

    /// A predictor row (`dilution`: it fits labeling-only mixing).
    static func predictor(_ name: String, file: String?, _ summary: String, dilution: Bool = false,
                          _ make: @escaping @Sendable (ModelBundle, StrategyRegistry.Options) throws -> any FluxPredictor) -> Strategy {
        Strategy(name: name, kind: .predictor, fileKey: file, summary: summary, fitsDilution: dilution) { .predictor(try make($0, $1)) }
    }

    /// An imputer row.
    static func imputer(_ name: String, file: String?, _ summary: String,
                        _ make: @escaping @Sendable (ModelBundle, StrategyRegistry.Options) throws -> any Imputer) -> Strategy {
        Strategy(name: name, kind: .imputer, fileKey: file, summary: summary) { .imputer(try make($0, $1)) }
    }
}

/// Imputers and flux predictors by strategy name, built from a bundle's files: **the one
/// table** (`table`) a new strategy is added to — its own files plus one line here.
///
/// A bundle that lacks the file a strategy needs gets an error naming the missing file; an
/// unknown name gets an error listing the known ones of its kind.
public enum StrategyRegistry {
    /// Every strategy, imputers in order of preference (the default imputer of a bundle is the
    /// first one it has a file for, unless its manifest names `defaultImputer`).
    public static let table: [Strategy] = [
        .predictor("ann", file: "ann", "neural network trained on simulated data (ML-Flux), per-prediction uncertainty", PredictorStrategies.ann),
        .predictor("mfa", file: nil, "least-squares 13C-MFA (Levenberg–Marquardt on the EMU Jacobian, multi-start)", dilution: true, PredictorStrategies.mfa),
        .predictor("hybrid", file: "ann", "ANN prediction polished by least-squares MFA", PredictorStrategies.hybrid),
        .imputer("knn", file: ImputerStrategies.knnKey, "distance-weighted K nearest simulated patterns over the measured entries", ImputerStrategies.knn),
        .imputer("mlp", file: ImputerStrategies.mlpKey, "masked residual MLP, a softmax per MID (newest ML-Flux)", ImputerStrategies.mlp),
        .imputer("pcnn", file: ImputerStrategies.pcnnKey, "partial-convolution U-Net inpainting the MID image, a softmax per MID (ML-Flux PCNN)", ImputerStrategies.pcnn),
    ]

    /// Names of the strategies of `kind`, in table order.
    public static func known(_ kind: StrategyKind) -> [String] { table.filter { $0.kind == kind }.map(\.name) }

    /// The table row `name` of `kind`, or an `UnknownStrategyError` listing the known names.
    public static func strategy(_ name: String, kind: StrategyKind) throws -> Strategy {
        guard let s = table.first(where: { $0.kind == kind && $0.name == name }) else {
            throw UnknownStrategyError(kind: kind.rawValue, name: name, known: known(kind))
        }
        return s
    }

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
        /// Least squares, hybrid: measured fluxes (`ModelBundle.fluxMeasurementRows`) and
        /// whether they set the unit by a fitted scale.
        public var fluxRows: [FluxMeasurementRow] = []
        public var fluxScale = false
        /// Least squares, hybrid: MID entries measured at 0 are left-censored (`LeastSquaresMFA.censorZeros`).
        public var censorZeros = true
        /// Hybrid: the imputer whose completion of incomplete labeling the ANN starts from
        /// (the fit sees only measured entries); nil: the bundle's default imputer, if any.
        public var imputer: String?
        public init() {}
    }

    /// The predictor `name` of `bundle`, set up with `options`.
    public static func predictor(_ name: String, bundle: ModelBundle, options: Options = Options()) throws -> any FluxPredictor {
        guard case .predictor(let p) = try usable(name, kind: .predictor, bundle: bundle).build(bundle, options) else { fatalError("table row of the wrong kind") }
        return p
    }

    /// The imputer `name` of `bundle`.
    public static func imputer(_ name: String, bundle: ModelBundle, options: Options = Options()) throws -> any Imputer {
        guard case .imputer(let i) = try usable(name, kind: .imputer, bundle: bundle).build(bundle, options) else { fatalError("table row of the wrong kind") }
        return i
    }

    /// The table row `name`, refused for a bundle with diluted pools unless it fits them.
    static func usable(_ name: String, kind: StrategyKind, bundle: ModelBundle) throws -> Strategy {
        let s = try strategy(name, kind: kind)
        guard bundle.dilution.isEmpty || s.fitsDilution else {
            let fitting = table.filter(\.fitsDilution).map(\.name).joined(separator: ", ")
            throw UnsupportedStrategyError(description: "\(kind.rawValue) '\(name)' cannot take model '\(bundle.name)': its pools \(Set(bundle.dilution.values).sorted().joined(separator: ", ")) are diluted by unlabeled material (labeling-only mixing), which only \(fitting) fits")
        }
        return s
    }

    /// Strategies of `kind` whose file `bundle` names (or that need none), in table order.
    public static func available(_ kind: StrategyKind, in bundle: ModelBundle) -> [String] {
        table.filter { $0.kind == kind && ($0.fileKey.map { bundle.manifest.files?[$0] != nil } ?? true) }.map(\.name)
    }

    /// The imputer `predict` uses for incomplete input when none is named: the manifest's
    /// `defaultImputer`, else the first available one; `nil` when the bundle ships none.
    public static func defaultImputer(of bundle: ModelBundle) -> String? {
        bundle.manifest.defaultImputer ?? available(.imputer, in: bundle).first
    }
}

extension ModelBundle {
    /// Throws `UnsupportedStrategyError` naming `what` (e.g. "dataset") when the bundle has
    /// diluted pools, which only least squares (`mfa`) models.
    public func refuseDilution(_ what: String) throws {
        guard !dilution.isEmpty else { return }
        throw UnsupportedStrategyError(description: "\(what) cannot take model '\(name)': its pools \(Set(dilution.values).sorted().joined(separator: ", ")) are diluted by unlabeled material (labeling-only mixing), which only predict --predictor mfa fits")
    }
}

/// A strategy that cannot take a bundle (e.g. the ANN on a bundle with diluted pools): one line.
public struct UnsupportedStrategyError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
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
