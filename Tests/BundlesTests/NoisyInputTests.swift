import Bundles
import Foundation
import MLFluxCore
import NeuralNetworks
import Prediction
import Testing
import TestSupport

/// The shipped ANN bundles on noisy MIDs: the example state simulated, Gaussian noise added
/// to every entry, clipped at 0 and renormalised (what `mlflux evaluate --noise` does). Every
/// prediction is finite, inside the flux polytope, and simulates (the issue-14 failure:
/// glycolysis gave "flux is not a finite number", then negative one-way fluxes).
@Suite struct NoisyInputTests {
    let registry = BundleRegistry(searchPaths: SearchPaths(plugins: [repositoryRoot() + "/Plugins"]))

    @Test(arguments: ["toy", "glycolysis"])
    func noisyMIDsGiveFeasibleFinitePredictions(_ name: String) throws {
        let bundle = try registry.load(name)
        let ann = try #require(try StrategyRegistry.predictor("ann", bundle: bundle) as? ANNPredictor)
        let clean = try bundle.simulator().simulate(bundle.exampleFluxState()).values.map(Float.init)
        let sigmas = [1e-4, 1e-3, 1e-2, 3e-2]
        var x = Matrix(rows: sigmas.count * 3, columns: clean.count, storage: Array([[Float]](repeating: clean, count: sigmas.count * 3).joined()))
        var rng = SplitMix64(seed: 3)
        let rowSigma = sigmas.flatMap { [$0, $0, $0] }
        MeasurementNoise.perturb(&x, layout: bundle.layout, sigma: rowSigma, using: &rng)
        let simulator = try bundle.simulator()
        for (i, p) in ann.predict(matrix: x, sigma: rowSigma).enumerated() {
            let values = p.free + p.freeSE + p.net + p.netSE + p.exchange + p.exchangeSE
            #expect(values.allSatisfy { $0.isFinite }, "\(name) σ \(rowSigma[i]): \(p.free)")
            #expect(bundle.basis.violations(of: p.fluxState, in: bundle.network, tolerance: 1e-9).isEmpty, "\(name) σ \(rowSigma[i])")
            do { _ = try simulator.simulate(p.fluxState) } catch { Issue.record("\(name) σ \(rowSigma[i]): \(error)") }
        }
    }

    /// Glycolysis ships a noise-aware network and an exact-data one: rows stated exact (σ below
    /// the noise-aware network's smallest trained σ) are predicted by the exact network,
    /// the others by the noise-aware one — each as if it were alone.
    @Test func glycolysisRoutesExactRowsToTheExactNetwork() throws {
        let bundle = try registry.load("glycolysis")
        let ann = try #require(try StrategyRegistry.predictor("ann", bundle: bundle) as? ANNPredictor)
        #expect(ann.isNoiseAware && ann.exactCompanion.count == 1 && !ann.exactCompanion[0].isNoiseAware)
        let exact = try ANNWeightsFile.read(URL(fileURLWithPath: try bundle.file("ann.exact")), network: bundle.network,
                                            basis: bundle.basis, layout: bundle.layout)
        var alone = ann
        alone.exactCompanion = []
        let clean = try bundle.simulator().simulate(bundle.exampleFluxState()).values.map(Float.init)
        let x = Matrix(rows: 3, columns: clean.count, storage: Array([[Float]](repeating: clean, count: 3).joined()))
        let sigma = [0.01, 0, 1e-5]
        let routed = ann.predict(matrix: x, sigma: sigma)
        let one = Matrix(rows: 1, columns: clean.count, storage: clean)
        // Equal up to Float32 round-off of a batch of 1 against a batch of 2 (BLAS blocking,
        // which differs between CPUs; through the log10 exchange targets up to ~1e-5 relative).
        func same(_ a: [Double], _ b: [Double]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * max(abs($1), 1e-3) } }
        #expect(same(routed[0].free, alone.predict(matrix: one, sigma: [0.01])[0].free))
        #expect(same(routed[1].free, exact.predict(matrix: one, sigma: [0])[0].free))
        #expect(same(routed[2].free, routed[1].free) && !same(routed[0].free, routed[1].free))
    }

    /// The shipped toy network is noise-aware: told a larger σ for the same MIDs, and given
    /// noisier MIDs, it states a larger uncertainty of every free flux it predicts (target
    /// space: v3.net affine, v2.xch log10).
    @Test func shippedToyUncertaintyGrowsWithTheInputSigma() throws {
        let bundle = try registry.load("toy")
        let ann = try #require(try StrategyRegistry.predictor("ann", bundle: bundle) as? ANNPredictor)
        #expect(ann.isNoiseAware && ann.members[0].head == .cholesky)
        let clean = try bundle.simulator().simulate(bundle.exampleFluxState()).values.map(Float.init)
        let x = Matrix(rows: 1, columns: clean.count, storage: clean)
        // The network's own σ rises step by step; the calibrated σ (binned factors) ten times the noise, at least 1.5×.
        let raw = [0.002, 0.005, 0.01, 0.02].map { ann.targetMoments(x, sigma: [$0], calibrated: false)[0].std }
        for j in raw[0].indices {
            for k in 1..<raw.count { #expect(raw[k][j] > raw[k - 1][j], "target \(j): \(raw.map { $0[j] })") }
        }
        let low = ann.targetMoments(x, sigma: [0.002])[0].std, high = ann.targetMoments(x, sigma: [0.02])[0].std
        for j in low.indices { #expect(high[j] > 1.5 * low[j], "target \(j): \(low[j]) → \(high[j])") }
    }
}
