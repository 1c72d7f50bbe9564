import XCTest
import FluxSampling
import MLFluxCore
@testable import Prediction

/// Sequential Monte Carlo from a given proposal to the flux posterior (`TemperedPosterior`),
/// against truths that do not come from it: the linearised fit of a near-linear problem (as
/// the MCMC and importance sampling are checked) reached from a proposal that importance
/// sampling alone cannot correct, and the analytic prior when the data say nothing.
final class TemperedPosteriorTests: XCTestCase {
    /// A proposal ten standard errors away and a hundred times too narrow (importance sampling
    /// gets an ESS < 50 from it, `ImportancePosteriorTests`): the tempered moves still reach
    /// the linearised posterior — mean within 0.3 SD, SD within 25 % — and R-hat across the
    /// populations is near 1.
    func testAProposalThatMissesThePosteriorIsCarriedToIt() throws {
        let (mfa, basis, sim, layout) = try toyLeastSquares(startCount: 2)
        var rng = SplitMix64(seed: 5)
        let clean = try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values
        let measured = measuredLabeling(noisyMIDs(clean, layout, sd: 0.01, &rng), layout, sd: 0.01)
        let fit = try XCTUnwrap(mfa.fit(measured))
        let f = fit.prediction
        var post = FluxPosterior(mfa: mfa)
        post.threads = 2
        var importance = ImportancePosterior(posterior: post, ann: nil)
        importance.laplaceShare = 0
        var smc = TemperedPosterior(importance: importance)
        smc.particles = 250
        let r = try smc.sample(measured, proposal: (mean: [0.6, 1.5], covariance: [1e-6, 0, 0, 1e-6]))
        let t = try XCTUnwrap(r.tempering)
        XCTAssertLessThan(t.initialESS, 50)
        XCTAssertGreaterThan(t.stages, 1)
        XCTAssertEqual(r.draws.count, 1000)
        for k in [1, 2] {
            let x = r.draws.map { $0[k] }
            let mean = x.reduce(0, +) / Double(x.count)
            let s = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)).squareRoot()
            XCTAssertEqual(mean, f.free[k], accuracy: 0.3 * s, "\(k)")
            XCTAssertEqual(s, f.freeSE[k], accuracy: 0.25 * f.freeSE[k], "\(k)")
            XCTAssertLessThan(r.rHat[k], 1.05, "\(k)")
        }
    }

    /// σ = 10 per entry: the posterior is the prior — v3.net uniform on [0.001, 0.999] and
    /// v2.xch the `mixed` exchange prior (`MCMCTests.mixedCDF`) — from a narrow proposal
    /// around v3.net 0.5, v2.xch 1.
    func testUninformativeDataReturnThePrior() throws {
        var smc = TemperedPosterior(importance: try uninformativeToyPosterior())
        smc.particles = 250
        let r = try smc.sample(try uninformativeToyMIDs(), proposal: (mean: [0.5, 0], covariance: [0.01, 0, 0, 0.04]))
        XCTAssertTrue(r.draws.allSatisfy { $0[0] == 1 && $0[1] >= 0.001 && $0[1] <= 0.999 && $0[2] >= 0 && $0[2] <= 100 })
        let net = r.draws.map { $0[1] }, xch = r.draws.map { $0[2] }
        // Moved particles are correlated: hold them to 5 standard errors of 500 independent draws.
        let n = 500.0
        XCTAssertEqual(net.reduce(0, +) / Double(net.count), 0.5, accuracy: 5 * (0.998 * 0.998 / 12 / n).squareRoot())
        for x in [0.01, 50] {
            let p = MCMCTests.mixedCDF(x), share = Double(xch.filter { $0 <= x }.count) / Double(xch.count)
            XCTAssertEqual(share, p, accuracy: 5 * (p * (1 - p) / n).squareRoot(), "\(x)")
        }
    }
    /// The sweeps after the tempering stop at `maxFinalRounds` rounds of `finalSweeps` when
    /// the asked ESS cannot be reached (4 × 60 particles cannot give 10⁹), and none begin once
    /// `maxSeconds` has passed.
    func testFinalSweepsStopAtTheirLimits() throws {
        var smc = TemperedPosterior(importance: try uninformativeToyPosterior())
        smc.particles = 60
        smc.minESS = 1e9
        smc.maxFinalRounds = 3
        let proposal = (mean: [0.5, 0.0], covariance: [0.01, 0, 0, 0.04])
        let capped = try XCTUnwrap(try smc.sample(try uninformativeToyMIDs(), proposal: proposal).tempering)
        XCTAssertEqual(capped.finalSweeps, 3 * smc.finalSweeps)
        smc.maxSeconds = 1e-9
        let timed = try XCTUnwrap(try smc.sample(try uninformativeToyMIDs(), proposal: proposal).tempering)
        XCTAssertEqual(timed.finalSweeps, 0)
        XCTAssertGreaterThan(timed.stages, 0)
    }
}
