import Foundation
import Imputation
import MLFluxCore
import Prediction

/// How a measurement reaches a predictor: as measured, or completed by an imputer first.
///
/// - An imputer named explicitly runs whenever entries are missing (also in front of a
///   predictor that could fit partial data, e.g. `mfa`).
/// - Without a name, a predictor that needs complete labeling gets the bundle's default
///   imputer (`StrategyRegistry.defaultImputer(of:)`); when the bundle ships none, the
///   result is an `IncompleteLabelingError` naming the missing MIDs and the ways out.
/// - The hybrid imputes for itself: its ANN starts from the completion, its least-squares
///   fit sees the measured entries only; the route passes the measurement on unchanged
///   (`imputer` names the hybrid's imputer, `imputed` stays nil).
/// - Complete input is never imputed.
public struct ImputationRoute: Sendable {
    /// What the predictor gets.
    public var input: MeasuredLabeling
    /// The completion, when an imputer ran.
    public var imputed: ImputedLabeling?
    /// The imputer that ran.
    public var imputer: String?

    /// - Parameter imputers: where built imputers are kept (a server); nil builds the chosen one.
    public init(measured: MeasuredLabeling, predictor: any FluxPredictor, imputer name: String?, bundle: ModelBundle,
                options: StrategyRegistry.Options = .init(), imputers: ImputerCache? = nil) throws {
        input = measured
        if let name {
            _ = try StrategyRegistry.strategy(name, kind: .imputer)   // unknown name: error listing the known ones
        }
        guard !measured.isComplete else { return }
        if let hybrid = predictor as? HybridPredictor {
            imputer = hybrid.imputer?.name
            return
        }
        guard let chosen = name ?? (predictor.requiresCompleteLabeling ? StrategyRegistry.defaultImputer(of: bundle) : nil) else {
            if predictor.requiresCompleteLabeling {
                throw IncompleteLabelingError(predictor: predictor.name, measured: measured,
                                              imputers: StrategyRegistry.available(.imputer, in: bundle))
            }
            return
        }
        let built = try imputers?.imputer(chosen, bundle: bundle, options: options)
            ?? StrategyRegistry.imputer(chosen, bundle: bundle, options: options)
        let completed = try built.impute(measured)
        imputed = completed
        imputer = chosen
        input = completed.complete
    }
}

/// Imputers built once per bundle and name and kept (weights are read from disk once), for
/// callers that predict many times: `mlflux serve`. Safe to use from several threads.
public final class ImputerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var built: [String: any Imputer] = [:]

    public init() {}

    /// The imputer `name` of `bundle` (`StrategyRegistry.imputer`), built on first use.
    public func imputer(_ name: String, bundle: ModelBundle, options: StrategyRegistry.Options) throws -> any Imputer {
        let key = bundle.directory + "\u{0}" + name
        lock.lock()
        if let i = built[key] { lock.unlock(); return i }
        lock.unlock()
        let i = try StrategyRegistry.imputer(name, bundle: bundle, options: options)
        lock.lock(); defer { lock.unlock() }
        if let existing = built[key] { return existing }
        built[key] = i
        return i
    }
}
