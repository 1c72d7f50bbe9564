import Bundles
import Foundation
import MLFluxCore
import Prediction
import Testing
import TestSupport

/// The real-data bundle (mfapy's Example 2, Okahashi et al. 2017): it loads with its eight
/// diluted amino-acid pools, refuses the ANN, and a least-squares fit of its own data — warm
/// started at the bundle's example state (the best fit of `reports/fit.md`, so the test stays
/// fast; the full multi-start fit is in the report) — passes the χ² test.
@Suite struct EcoliOkahashiBundleTests {
    let registry = BundleRegistry(searchPaths: SearchPaths(plugins: [repositoryRoot() + "/Plugins"]))

    @Test func loadsWithDilutedPools() throws {
        let bundle = try registry.load("ecoli-okahashi")
        #expect(bundle.measured.count == 24)
        #expect(Set(bundle.dilution.values) == ["Ala", "Asp", "Thr", "Glu", "Phe", "Tyr", "Ile", "Val"])
        #expect(bundle.naturalAbundance.count == 24)
        #expect(!bundle.fluxesAreRelative)
        #expect(throws: UnsupportedStrategyError.self) { _ = try StrategyRegistry.predictor("ann", bundle: bundle) }
        #expect(throws: UnsupportedStrategyError.self) { try bundle.refuseDilution("dataset") }
        // `mlflux models` and the server offer what the bundle can take: mfa, and nothing to train.
        let strategies = BundleStrategies(bundle)
        #expect(strategies.names(.predictor, trained: true) == ["mfa"])
        #expect(strategies.names(.predictor, trained: false).isEmpty && strategies.names(.imputer, trained: false).isEmpty)
        #expect(Set(strategies.refusedNames) == Set(StrategyRegistry.table.filter { !$0.fitsDilution }.map(\.name)))
        #expect(strategies.refusedNames.contains("ann") && strategies.refusedNames.contains("knn"))
    }

    @Test func fitOfItsDataPassesTheChiSquaredTest() throws {
        let bundle = try registry.load("ecoli-okahashi")
        let dir = bundle.directory
        let measured = try LabelingTable.read(contentsOf: dir + "/mids-sd0.005.csv", layout: bundle.layout)
        var options = StrategyRegistry.Options()
        (options.fluxRows, options.fluxScale) = try bundle.fluxMeasurementRows(
            try FluxMeasurementTable.read(contentsOf: dir + "/rates.csv"), file: "rates.csv")
        #expect(options.fluxScale == false)
        options.threads = 1
        options.maxIterations = 15
        var mfa = try #require((try StrategyRegistry.predictor("mfa", bundle: bundle, options: options) as? MFAPredictor)?.mfa)
        mfa.continuationStart = 0       // a warm start needs no σ continuation
        mfa.dilutionStart = 0.97        // near the shares of the report's fit (0.96–0.99)
        let start = bundle.basis.freeFluxes(of: try bundle.exampleFluxState())
        let fit = try #require(mfa.fit(measured, starts: [start]))
        #expect(fit.dilution.count == 8)
        let shares = fit.dilution.map(\.value)
        #expect(shares.allSatisfy { $0 > 0.9 && $0 <= 1 }, "\(shares)")
        let (passes, vssr, dof) = (fit.passesChiSquared, fit.vssr, fit.degreesOfFreedom)
        #expect(passes, "VSSR \(vssr) for \(dof) degrees of freedom")
        // Glucose uptake stays at its measurement (100 ± 1.6 per the data's unit).
        let r1 = try #require(bundle.network.reactionIndex["r1"])
        let uptake = fit.prediction.net[r1]
        #expect(abs(uptake - 100) < 5, "\(uptake)")
    }
}
