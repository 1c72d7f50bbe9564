import XCTest
import EMU
import MLFluxCore
import TestSupport
@testable import Prediction

/// 95 % confidence intervals (issue 13, item 4) on the toy network: the profile-likelihood
/// interval matches the linearised one where the model is nearly linear, covers the truth
/// in about 95 % of noisy repeats, and a flux the data cannot see is reported as undetermined.
final class ProfileLikelihoodTests: XCTestCase {
    func toy() throws -> (LeastSquaresMFA, FreeFluxBasis, EMUSimulator, LabelingLayout) { try toyLeastSquares(startCount: 3) }
    func labeling(_ values: [Double], _ layout: LabelingLayout, sd: Double) -> MeasuredLabeling { measuredLabeling(values, layout, sd: sd) }
    func noisy(_ clean: [Double], _ layout: LabelingLayout, sd: Double, _ rng: inout SplitMix64) -> [Double] { noisyMIDs(clean, layout, sd: sd, &rng) }

    func v3(_ network: MetabolicNetwork) -> ProfiledFlux { ProfiledFlux("v3.net", network: network)! }

    /// Exact data, small σ: the model is nearly linear over the interval, so the profile
    /// interval of v3.net agrees with value ± 1.96·SE (to 2 % of its width), and neither end is a bound.
    func testProfileAgreesWithLinearisedIntervalForSmallSigma() throws {
        let (mfa, basis, sim, layout) = try toy()
        let values = try sim.simulate(basis.fluxState(free: [1, 0.25, 0.4])).values
        let fit = try XCTUnwrap(mfa.fit(labeling(values, layout, sd: 1e-3)))
        let result = mfa.profile(fit, fluxes: [v3(sim.network)])
        let i = try XCTUnwrap(result.fluxes.first)
        let p = try XCTUnwrap(i.profile)
        let width = i.linearised.upperBound - i.linearised.lowerBound
        XCTAssertGreaterThan(width, 0)
        XCTAssertEqual(p.lowerBound, i.linearised.lowerBound, accuracy: 0.02 * width, "\(i)")
        XCTAssertEqual(p.upperBound, i.linearised.upperBound, accuracy: 0.02 * width, "\(i)")
        XCTAssertFalse(i.reachesLower || i.reachesUpper)
        XCTAssertNil(i.lowerMinimum)
        XCTAssertEqual(i.value, 0.25, accuracy: 1e-6)
    }

    /// Coverage: over 50 noisy repeats (σ = 0.01), the 95 % profile interval of v3.net covers
    /// the truth in 85–100 % of them.
    func testProfileIntervalCoversTheTruth() throws {
        let (mfa, basis, sim, layout) = try toy()
        let truth = [1, 0.25, 0.4]
        let clean = try sim.simulate(basis.fluxState(free: truth)).values
        var rng = SplitMix64(seed: 11)
        var covered = 0
        let repeats = 50
        for _ in 0..<repeats {
            let fit = try XCTUnwrap(mfa.fit(labeling(noisy(clean, layout, sd: 0.01, &rng), layout, sd: 0.01)))
            let i = try XCTUnwrap(mfa.profile(fit, fluxes: [v3(sim.network)]).fluxes.first)
            if try XCTUnwrap(i.profile).contains(truth[1]) { covered += 1 }
        }
        XCTAssertGreaterThanOrEqual(covered, 43, "\(covered) of \(repeats)")
    }

    /// σ huge: the labeling says nothing, so v3.net and v2.xch get intervals reaching both
    /// bounds (undetermined), linearised and profile alike — never ±10⁶.
    func testUnseenFluxIsUndetermined() throws {
        let (mfa, basis, sim, layout) = try toy()
        let values = try sim.simulate(basis.fluxState(free: [1, 0.25, 0.4])).values
        let fit = try XCTUnwrap(mfa.fit(labeling(values, layout, sd: 1e3)))
        let network = sim.network
        let result = mfa.profile(fit, fluxes: [v3(network), ProfiledFlux("v2.xch", network: network)!,
                                               ProfiledFlux("v1.net", network: network)!])
        let net = result.fluxes[0], xch = result.fluxes[1], fixed = result.fluxes[2]
        XCTAssertTrue(net.undetermined, "\(net)")
        XCTAssertTrue(net.linearisedUndetermined)
        XCTAssertEqual(net.profile, 0.001...0.999)
        XCTAssertEqual(net.linearised, 0.001...0.999)
        XCTAssertTrue(xch.undetermined, "\(xch)")
        XCTAssertEqual(try XCTUnwrap(xch.profile).upperBound, 100, accuracy: 1e-9)
        // v1.net = 1 is fixed by a constraint: a point interval, no bound flags.
        XCTAssertTrue(fixed.fixedByConstraints)
        XCTAssertEqual(fixed.profile, 1...1)
        XCTAssertFalse(fixed.undetermined)
        // ΔG of v2 from its exchange interval: reaches the bounds too.
        XCTAssertEqual(result.deltaG.count, 1)
    }
}
