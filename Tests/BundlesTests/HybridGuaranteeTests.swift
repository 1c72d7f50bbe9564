import Bundles
import Foundation
import MLFluxCore
import Prediction
import Testing
import TestSupport

/// The hybrid predictor's guarantee on the shipped toy and glycolysis bundles: on noisy MIDs
/// (σ = 0.01 per entry, each MID's noise projected onto sum zero so it still sums to 1,
/// simulated from the bundle's example flux state) its VSSR is never above that of the ANN's
/// own prediction. How often it is also at most that of plain least squares started from
/// the ANN's prediction (no prior) is measured and printed, not required: the hybrid's prior
/// may hold a flux the data barely resolve at the ANN's value for a slightly higher VSSR.
/// More repeats: MLFLUX_HYBRID_REPEATS=N.
@Suite(.serialized) struct HybridGuaranteeTests {
    let registry = BundleRegistry(searchPaths: SearchPaths(plugins: [repositoryRoot() + "/Plugins"]))

    static var repeats: Int { ProcessInfo.processInfo.environment["MLFLUX_HYBRID_REPEATS"].flatMap { Int($0) } ?? 4 }

    /// (bundle, σ of the noise and of the fit): σ = 0.01 as the issue asks; glycolysis also at
    /// 0.001, where its ANN's predictions can be simulated (at 0.01 they have negative or
    /// non-finite fluxes, VSSR ∞).
    /// The suite runs the toy case; the glycolysis cases (each fit ~10 s in a debug build) only
    /// with MLFLUX_HYBRID_REPEATS set, as a measurement.
    static let cases: [(String, Double)] = ProcessInfo.processInfo.environment["MLFLUX_HYBRID_REPEATS"] == nil
        ? [("toy", 0.01)] : [("toy", 0.01), ("glycolysis", 0.01), ("glycolysis", 0.001)]

    @Test(arguments: cases)
    func hybridVSSRNeverAboveTheANNs(_ name: String, _ sigma: Double) throws {
        let bundle = try registry.load(name)
        let layout = bundle.layout
        let clean = try bundle.simulator().simulate(bundle.exampleFluxState()).values
        var options = StrategyRegistry.Options()
        options.threads = 1
        let hybrid = try #require(try StrategyRegistry.predictor("hybrid", bundle: bundle, options: options) as? HybridPredictor)
        let mfa = hybrid.mfa
        var rng = SplitMix64(seed: 17)
        var notAboveBoth = 0, notAboveBothLoose = 0, kept = 0, annSimulable = 0
        var lines: [String] = []
        for _ in 0..<Self.repeats {
            var noisy = clean.map { $0 + sigma * rng.nextGaussian() }
            for e in layout.experimentIDs.indices {
                for (f, n) in layout.isotopologues.enumerated() {
                    let s = e * layout.blockSize + layout.offsets[f]
                    let excess = (noisy[s..<(s + n)].reduce(0, +) - 1) / Double(n)
                    for k in s..<(s + n) { noisy[k] -= excess }
                }
            }
            let measured = MeasuredLabeling(layout: layout, values: noisy,
                                            stddev: [Double](repeating: sigma, count: noisy.count),
                                            mask: [Bool](repeating: true, count: noisy.count))
            let ann = try hybrid.ann.predict([noisy])[0]
            let annVSSR = mfa.vssr(of: ann.fluxState, measured) ?? .infinity
            let plain = mfa.fit(measured, starts: [ann.free])
            let plainVSSR = plain.flatMap { mfa.vssr(of: $0.prediction.fluxState, measured) } ?? .infinity
            let fit = try hybrid.leastSquaresFit(measured: measured)
            let hybridVSSR = try #require(mfa.vssr(of: fit.prediction.fluxState, measured))
            #expect(hybridVSSR <= annVSSR, "\(name): hybrid VSSR \(hybridVSSR) above the ANN's \(annVSSR)")
            if hybridVSSR <= min(annVSSR, plainVSSR) { notAboveBoth += 1 }
            if hybridVSSR <= min(annVSSR, plainVSSR) * (1 + 1e-3) { notAboveBothLoose += 1 }
            if fit.keptANNPrediction { kept += 1 }
            if annVSSR.isFinite { annSimulable += 1 }
            lines.append(String(format: "ann %.4g  mfa-from-ann %.4g  hybrid %.4g%@", annVSSR, plainVSSR, hybridVSSR,
                                fit.keptANNPrediction ? "  (ANN kept)" : ""))
        }
        print("""
            hybrid guarantee, \(name), \(Self.repeats) noisy MID sets (σ = \(sigma)): ANN state simulable in \(annSimulable); \
            hybrid VSSR ≤ min(ANN, mfa from ANN) in \(notAboveBoth), within 0.1 % of it in \(notAboveBothLoose); \
            ANN prediction kept \(kept) times
              \(lines.joined(separator: "\n  "))
            """)
    }
}
