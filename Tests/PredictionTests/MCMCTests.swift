import XCTest
import MLFluxCore
import NeuralNetworks
@testable import Prediction

/// The MCMC core against analytic truths: a correlated Gaussian target (mean and covariance
/// known), the effective sample size of an AR(1) process (known autocorrelation time), and
/// R-hat of chains that do or do not agree.
final class MCMCTests: XCTestCase {
    /// Target N(μ, Σ) with ρ = 0.9 and scales 1 and 0.01; a bad initial proposal (identity).
    func testAdaptiveMetropolisReproducesAGaussian() throws {
        let mu = [2.0, -1.0], s1 = 1.0, s2 = 0.01, rho = 0.9
        let det = s1 * s1 * s2 * s2 * (1 - rho * rho)
        let logDensity: ([Double]) -> Double = { x in
            let a = x[0] - mu[0], b = x[1] - mu[1]
            // (x−μ)ᵀ Σ⁻¹ (x−μ) for the 2×2 covariance.
            let q = (s2 * s2 * a * a - 2 * rho * s1 * s2 * a * b + s1 * s1 * b * b) / det
            return -0.5 * q
        }
        var chains: [AdaptiveMetropolis.Chain] = []
        for c in 0..<4 {
            chains.append(AdaptiveMetropolis().run(logDensity: logDensity, start: [2.5, -1.0], covariance: [1, 0, 0, 1],
                                                   burnIn: 5000, samples: 20000, seed: UInt64(c + 1)))
        }
        let all = chains.flatMap { c in (0..<c.count).map { [c[$0, 0], c[$0, 1]] } }
        let n = Double(all.count)
        let m0 = all.reduce(0) { $0 + $1[0] } / n, m1 = all.reduce(0) { $0 + $1[1] } / n
        let v0 = all.reduce(0) { $0 + pow($1[0] - m0, 2) } / n, v1 = all.reduce(0) { $0 + pow($1[1] - m1, 2) } / n
        let c01 = all.reduce(0) { $0 + ($1[0] - m0) * ($1[1] - m1) } / n
        let ess = MCMCDiagnostics.effectiveSampleSize(chains.map { $0.coordinate(0) })
        XCTAssertGreaterThan(ess, 1000)
        // Means within 4 Monte-Carlo standard errors; variances and correlation within 10 %.
        XCTAssertEqual(m0, mu[0], accuracy: 4 * s1 / ess.squareRoot())
        XCTAssertEqual(m1, mu[1], accuracy: 4 * s2 / ess.squareRoot())
        XCTAssertEqual(v0, s1 * s1, accuracy: 0.1 * s1 * s1)
        XCTAssertEqual(v1, s2 * s2, accuracy: 0.1 * s2 * s2)
        XCTAssertEqual(c01 / (v0 * v1).squareRoot(), rho, accuracy: 0.02)
        XCTAssertLessThan(MCMCDiagnostics.splitRHat(chains.map { $0.coordinate(1) }), 1.01)
        for c in chains { XCTAssertEqual(c.acceptance, 0.234, accuracy: 0.12) }
    }

    /// A bounded support (log density −∞ outside): a uniform target on [0, 1] has mean 1/2
    /// and variance 1/12, and no draw leaves it.
    func testSupportIsRespected() {
        let chain = AdaptiveMetropolis().run(logDensity: { x in (0...1).contains(x[0]) ? 0 : -.infinity }, start: [0.5],
                                             covariance: [1], burnIn: 2000, samples: 40000, seed: 3)
        let x = chain.coordinate(0)
        XCTAssertTrue(x.allSatisfy { (0...1).contains($0) })
        let mean = x.reduce(0, +) / Double(x.count)
        XCTAssertEqual(mean, 0.5, accuracy: 0.02)
        XCTAssertEqual(x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count), 1.0 / 12, accuracy: 0.01)
    }

    /// AR(1) with coefficient φ: integrated autocorrelation time (1 + φ)/(1 − φ), so
    /// ESS = N (1 − φ)/(1 + φ). Independent chains around different means: R-hat ≫ 1.
    func testESSAndRHatOnProcessesWithKnownAnswers() {
        var rng = SplitMix64(seed: 9)
        func ar1(_ phi: Double, _ n: Int, offset: Double = 0) -> [Double] {
            var x = 0.0
            return (0..<n).map { _ in x = phi * x + (1 - phi * phi).squareRoot() * rng.nextGaussian(); return x + offset }
        }
        let phi = 0.8, n = 50_000
        let chains = (0..<4).map { _ in ar1(phi, n) }
        let expected = Double(4 * n) * (1 - phi) / (1 + phi)
        XCTAssertEqual(MCMCDiagnostics.effectiveSampleSize(chains), expected, accuracy: 0.1 * expected)
        let iid = (0..<4).map { _ in ar1(0, 10_000) }
        XCTAssertEqual(MCMCDiagnostics.effectiveSampleSize(iid), 40_000, accuracy: 4000)
        XCTAssertLessThan(MCMCDiagnostics.splitRHat(chains), 1.01)
        let apart = (0..<4).map { ar1(phi, 2000, offset: Double($0)) }
        XCTAssertGreaterThan(MCMCDiagnostics.splitRHat(apart), 1.5)
    }

    /// The flux posterior on the toy network with noisy data: converged chains whose mean is
    /// the least-squares optimum to within the posterior's spread (a near-linear problem).
    func testToyFluxPosteriorAgreesWithTheLinearisedFit() throws {
        var (mfa, basis, sim, layout) = try toyLeastSquares(startCount: 2)
        mfa.startCount = 2
        var rng = SplitMix64(seed: 4)
        let clean = try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values
        let measured = measuredLabeling(noisyMIDs(clean, layout, sd: 0.01, &rng), layout, sd: 0.01)
        var post = FluxPosterior(mfa: mfa)
        post.samples = 3000
        post.burnIn = 2000
        let r = try post.sample(measured)
        XCTAssertEqual(r.draws.count, 12000)
        for k in [1, 2] {
            XCTAssertLessThan(r.rHat[k], 1.02, "\(k)")
            XCTAssertGreaterThan(r.ess[k], 400, "\(k)")
            let x = r.draws.map { $0[k] }
            let mean = x.reduce(0, +) / Double(x.count)
            let sd = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)).squareRoot()
            XCTAssertEqual(mean, r.fit.prediction.free[k], accuracy: 0.3 * sd, "\(k)")
            XCTAssertEqual(sd, r.fit.prediction.freeSE[k], accuracy: 0.25 * r.fit.prediction.freeSE[k], "\(k)")
        }
        XCTAssertTrue(r.draws.allSatisfy { $0[0] == 1 && $0[1] >= 0.001 && $0[1] <= 0.999 })
    }
}
