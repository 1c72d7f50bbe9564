import Foundation
import FluxSampling
import MLFluxCore
import Prediction

/// Factories of the flux predictors in `StrategyRegistry.table`.
enum PredictorStrategies {
    @Sendable static func ann(_ bundle: ModelBundle, _ options: StrategyRegistry.Options) throws -> any FluxPredictor {
        try annPredictor(bundle, options)
    }

    @Sendable static func mfa(_ bundle: ModelBundle, _ options: StrategyRegistry.Options) throws -> any FluxPredictor {
        MFAPredictor(mfa: try leastSquares(bundle, options), layout: bundle.layout)
    }

    @Sendable static func hybrid(_ bundle: ModelBundle, _ options: StrategyRegistry.Options) throws -> any FluxPredictor {
        let imputer = try (options.imputer ?? StrategyRegistry.defaultImputer(of: bundle))
            .map { try StrategyRegistry.imputer($0, bundle: bundle, options: options) }
        return HybridPredictor(ann: try annPredictor(bundle, options), mfa: try leastSquares(bundle, options),
                               restarts: max(options.restarts, 0), imputer: imputer)
    }

    /// `files` key of an exact-data network beside a noise-aware `ann` (rows stated exact go to it).
    public static let exactANNKey = "ann.exact"

    /// The ANN of the bundle's `ann` file, with the `ann.exact` network as its exact companion
    /// when the bundle has one.
    static func annPredictor(_ bundle: ModelBundle, _ options: StrategyRegistry.Options) throws -> ANNPredictor {
        func read(_ key: String) throws -> ANNPredictor {
            var p = try ANNWeightsFile.read(URL(fileURLWithPath: try bundle.file(key)), network: bundle.network,
                                            basis: bundle.basis, layout: bundle.layout)
            p.temperature = options.temperature
            return p
        }
        var p = try read("ann")
        // The σ a noise-aware network is told where the input states none.
        if let s = options.measurementStddev { p.defaultStddev = s }
        if bundle.manifest.files?[exactANNKey] != nil, p.isNoiseAware {
            p.exactCompanion = [try read(exactANNKey)]
        }
        return p
    }

    /// Least-squares MFA over the bundle's flux space (bounds from the constraints).
    static func leastSquares(_ bundle: ModelBundle, _ options: StrategyRegistry.Options) throws -> LeastSquaresMFA {
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
        mfa.fluxMeasurements = options.fluxRows
        mfa.fluxScale = options.fluxScale
        mfa.censorZeros = options.censorZeros
        // Starts drawn from the flux polytope: feasible by construction, exchange fluxes log-uniform.
        mfa.startSampler = { count, seed in
            var rng = SplitMix64(seed: seed)
            return sampler.sample(count: count, using: &rng)
        }
        return mfa
    }
}
