import XCTest
import FluxSampling
import MLFluxCore
@testable import Prediction

/// Importance sampling of the flux posterior (`ImportancePosterior`) with given proposals,
/// against truths that do not come from it: the analytic prior when the data say nothing,
/// the linearised fit of a near-linear problem (as the MCMC is checked), and a proposal that
/// misses the posterior flagged by its effective sample size.
final class ImportancePosteriorTests: XCTestCase {
    /// σ = 10 per entry: the posterior is the prior — v3.net uniform on [0.001, 0.999] and
    /// v2.xch the `mixed` exchange prior (`MCMCTests.mixedCDF`) — although the proposal is a
    /// Gaussian-like bump around v3.net 0.5 and v2.xch 1: the weights remove the proposal.
    func testUninformativeDataReturnThePriorWhateverTheProposal() throws {
        var importance = try uninformativeToyPosterior()
        importance.proposals = 8000
        let r = try importance.sample(uninformativeToyMIDs(), proposal: (mean: [0.5, 0], covariance: [0.09, 0, 0, 2.25]))
        let ess = try XCTUnwrap(r.importance).effectiveSampleSize
        XCTAssertGreaterThan(ess, 1000)
        XCTAssertEqual(r.draws.count, 8000)
        XCTAssertTrue(r.draws.allSatisfy { $0[0] == 1 && $0[1] >= 0.001 && $0[1] <= 0.999 && $0[2] >= 0 && $0[2] <= 100 })
        let net = r.draws.map { $0[1] }, xch = r.draws.map { $0[2] }
        let mean = net.reduce(0, +) / Double(net.count)
        XCTAssertEqual(mean, 0.5, accuracy: 4 * (0.998 * 0.998 / 12 / ess).squareRoot())
        for x in [0.01, 50] {
            let p = MCMCTests.mixedCDF(x), share = Double(xch.filter { $0 <= x }.count) / Double(xch.count)
            XCTAssertEqual(share, p, accuracy: 4 * (p * (1 - p) / ess).squareRoot(), "\(x)")
        }
        // Without the weights the proposal's own share below 50 would be ~0.99, not 0.72.
        XCTAssertLessThan(Double(xch.filter { $0 <= 50 }.count) / Double(xch.count), 0.8)
    }

    /// Noisy toy data (σ 0.01): from a proposal shifted by one standard error and twice as wide,
    /// the draws' mean and SD are the linearised fit's (mean within 0.3 SD, SD within 25 %, as
    /// `MCMCTests` holds the chains to) — the shift is weighted away.
    func testShiftedProposalIsCorrectedToTheLinearisedPosterior() throws {
        var (mfa, basis, sim, layout) = try toyLeastSquares(startCount: 2)
        mfa.startCount = 2
        var rng = SplitMix64(seed: 4)
        let clean = try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values
        let measured = measuredLabeling(noisyMIDs(clean, layout, sd: 0.01, &rng), layout, sd: 0.01)
        let fit = try XCTUnwrap(mfa.fit(measured))
        let f = fit.prediction
        // Parameters: v3.net as is, v2.xch in log10 (SE by the delta method).
        let sd = [f.freeSE[1], f.freeSE[2] / (f.free[2] * 2.302_585_092_994_046)]
        let proposal = (mean: [f.free[1] + sd[0], log10(f.free[2]) - sd[1]],
                        covariance: [4 * sd[0] * sd[0], 0, 0, 4 * sd[1] * sd[1]])
        var post = FluxPosterior(mfa: mfa)
        post.threads = 2
        var importance = ImportancePosterior(posterior: post, ann: nil)
        importance.proposals = 8000
        importance.laplaceShare = 0
        let r = try importance.sample(measured, proposal: proposal)
        XCTAssertGreaterThan(try XCTUnwrap(r.importance).effectiveSampleSize, 1000)
        for k in [1, 2] {
            let x = r.draws.map { $0[k] }
            let mean = x.reduce(0, +) / Double(x.count)
            let s = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)).squareRoot()
            XCTAssertEqual(mean, f.free[k], accuracy: 0.3 * s, "\(k)")
            XCTAssertEqual(s, f.freeSE[k], accuracy: 0.25 * f.freeSE[k], "\(k)")
        }
    }

    /// A proposal ten standard errors away and a hundred times too narrow: nearly all weight
    /// falls on a few draws, and the effective sample size says so (or nothing lands inside).
    func testAProposalThatMissesThePosteriorHasATinyEffectiveSampleSize() throws {
        let (mfa, basis, sim, layout) = try toyLeastSquares(startCount: 2)
        var rng = SplitMix64(seed: 5)
        let clean = try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values
        let measured = measuredLabeling(noisyMIDs(clean, layout, sd: 0.01, &rng), layout, sd: 0.01)
        var importance = ImportancePosterior(posterior: FluxPosterior(mfa: mfa), ann: nil)
        importance.proposals = 2000
        importance.laplaceShare = 0
        let bad = (mean: [0.6, 1.5], covariance: [1e-6, 0, 0, 1e-6])
        do {
            let r = try importance.sample(measured, proposal: bad)
            XCTAssertLessThan(try XCTUnwrap(r.importance).effectiveSampleSize, 50)
        } catch let e as ImportancePosterior.ImportanceError {
            XCTAssertEqual(e, .noWeight)
        }
        // Half the proposal around the least-squares optimum reached from the bad centre (the
        // Laplace approximation) rescues it: hundreds of effective draws, and the fit it made.
        importance.laplaceShare = 0.5
        let rescued = try importance.sample(measured, proposal: bad)
        XCTAssertGreaterThan(try XCTUnwrap(rescued.importance).effectiveSampleSize, 300)
        XCTAssertNotNil(rescued.fit)
        XCTAssertThrowsError(try importance.sample(measured, proposal: (mean: [0.5], covariance: [1])))
        XCTAssertThrowsError(try importance.sample(measured))      // no network, no proposal
    }
}

/// Toy `ImportancePosterior` (no network, no Laplace share) for the `mixed` exchange prior on two
/// threads: with `uninformativeToyMIDs` the posterior is that prior.
func uninformativeToyPosterior() throws -> ImportancePosterior {
    let (mfa, _, _, _) = try toyLeastSquares(startCount: 1)
    var post = FluxPosterior(mfa: mfa)
    post.exchangePrior = SamplerSettings(exchange: .mixed)
    post.threads = 2
    var importance = ImportancePosterior(posterior: post, ann: nil)
    importance.laplaceShare = 0
    return importance
}

/// The toy's MIDs at θ = (1, 0.3, 0.5) with σ = 10 per entry: data that say nothing.
func uninformativeToyMIDs() throws -> MeasuredLabeling {
    let (_, basis, sim, layout) = try toyLeastSquares(startCount: 1)
    return measuredLabeling(try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values, layout, sd: 10)
}
