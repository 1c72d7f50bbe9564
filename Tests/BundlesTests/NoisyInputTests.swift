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
        let ann = try #require(try PredictorRegistry.predictor("ann", bundle: bundle) as? ANNPredictor)
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
}
