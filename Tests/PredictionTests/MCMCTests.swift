import XCTest
import MLFluxCore
import FluxSampling
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

    /// A linear-Gaussian inverse problem, y = Aθ + e with e ~ N(0, σ²I) and prior θ ~ N(μ₀, τ²I):
    /// the posterior is N(m, Λ⁻¹) with Λ = AᵀA/σ² + I/τ², m = Λ⁻¹(Aᵀy/σ² + μ₀/τ²) (conjugacy),
    /// here computed by the adjugate formula. The sampler as `FluxPosterior` runs it —
    /// tempering ladder and history jumps on — must reproduce that mean and covariance.
    func testTemperedSamplerReproducesTheLinearGaussianPosterior() throws {
        let a: [[Double]] = [[1, 1, 0], [1, -1, 0.5], [0, 1, 2], [2, 0, 1]]
        let y = [1.0, 0.2, -0.7, 2.1], sigma = 0.3, tau = 2.0, mu0 = [0.5, 0.0, -0.5]
        var lambda = [[Double]](repeating: [0, 0, 0], count: 3), rhs = [0.0, 0, 0]
        for i in 0..<3 {
            for j in 0..<3 { lambda[i][j] = (0..<4).reduce(0) { $0 + a[$1][i] * a[$1][j] } / (sigma * sigma) + (i == j ? 1 / (tau * tau) : 0) }
            rhs[i] = (0..<4).reduce(0) { $0 + a[$1][i] * y[$1] } / (sigma * sigma) + mu0[i] / (tau * tau)
        }
        // Λ⁻¹ = adj(Λ)/det(Λ) (Λ symmetric, so the cofactor matrix is its own transpose).
        func cof(_ i: Int, _ j: Int) -> Double {
            let r = (0..<3).filter { $0 != i }, c = (0..<3).filter { $0 != j }
            let minor = lambda[r[0]][c[0]] * lambda[r[1]][c[1]] - lambda[r[0]][c[1]] * lambda[r[1]][c[0]]
            return (i + j) % 2 == 0 ? minor : -minor
        }
        let det = (0..<3).reduce(0) { $0 + lambda[0][$1] * cof(0, $1) }
        let cov = (0..<3).map { i in (0..<3).map { j in cof(i, j) / det } }
        let mean = (0..<3).map { i in (0..<3).reduce(0) { $0 + cov[i][$1] * rhs[$1] } }
        let logDensity: ([Double]) -> Double = { t in
            var s = 0.0
            for k in 0..<4 { let r = (0..<3).reduce(-y[k]) { $0 + a[k][$1] * t[$1] }; s += r * r / (sigma * sigma) }
            for i in 0..<3 { s += (t[i] - mu0[i]) * (t[i] - mu0[i]) / (tau * tau) }
            return -0.5 * s
        }
        var sampler = AdaptiveMetropolis()
        sampler.ladder = FluxPosterior.defaultLadder
        sampler.historyJumps = FluxPosterior.defaultHistoryJumps
        let chains = (0..<4).map {
            sampler.run(logDensity: logDensity, start: [Double($0), -1, 1], covariance: [1, 0, 0, 0, 1, 0, 0, 0, 1],
                        burnIn: 1500, samples: 4000, seed: UInt64($0 + 11))
        }
        let n = Double(4 * 4000)
        let m = (0..<3).map { j in chains.reduce(0) { acc, c in acc + c.coordinate(j).reduce(0, +) } / n }
        for j in 0..<3 {
            let ess = MCMCDiagnostics.effectiveSampleSize(chains.map { $0.coordinate(j) })
            XCTAssertGreaterThan(ess, 1000, "\(j)")
            XCTAssertLessThan(MCMCDiagnostics.splitRHat(chains.map { $0.coordinate(j) }), 1.01, "\(j)")
            // Within 4 Monte-Carlo standard errors.
            XCTAssertEqual(m[j], mean[j], accuracy: 4 * (cov[j][j] / ess).squareRoot(), "\(j)")
            for k in 0...j {
                let c = chains.reduce(0) { acc, ch in acc + (0..<ch.count).reduce(0) { $0 + (ch[$1, j] - m[j]) * (ch[$1, k] - m[k]) } } / n
                // Covariances within 10 % of the diagonal scale (a correlation error below 0.1).
                XCTAssertEqual(c, cov[j][k], accuracy: 0.1 * (cov[j][j] * cov[k][k]).squareRoot(), "\(j),\(k)")
            }
        }
        for c in chains { XCTAssertGreaterThan(c.swapRate, 0.3) }
    }

    /// Two modes, N(−5, 0.5²) with weight 0.3 and N(5, 0.5²) with weight 0.7, on [−10, 10]:
    /// a walker at β = 1 alone crosses the barrier (density e⁻⁵⁰ of the peaks between them)
    /// only by a rare long jump, so its share of draws per mode is the luck of a few crossings
    /// (one seed: 0.89 above 0, not 0.7); walkers down to β = 1/32
    /// (barrier e⁻¹·⁶) carry the β = 1 chain across, and the share of draws above 0 is the
    /// weight 0.7.
    func testTemperingFindsBothModesWithTheirWeights() {
        let logDensity: ([Double]) -> Double = { x in
            guard abs(x[0]) <= 10 else { return -.infinity }
            return log(0.3 * exp(-2 * (x[0] + 5) * (x[0] + 5)) + 0.7 * exp(-2 * (x[0] - 5) * (x[0] - 5)))
        }
        var tempered = AdaptiveMetropolis()
        tempered.ladder = [1, 0.5, 0.25, 0.125, 0.0625, 0.03125]
        let chains = (0..<4).map {
            tempered.run(logDensity: logDensity, start: [-5], covariance: [0.25], burnIn: 2000, samples: 10000, seed: UInt64($0 + 21))
        }
        let right = chains.map { c in Double(c.coordinate(0).filter { $0 > 0 }.count) / Double(c.count) }
        for r in right { XCTAssertEqual(r, 0.7, accuracy: 0.08) }
        XCTAssertLessThan(MCMCDiagnostics.splitRHat(chains.map { $0.coordinate(0) }), 1.05)
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

    /// Prior draws on the toy network (bounds v3.net ∈ [0.001, 0.999], v2.xch ∈ [0, 100], no
    /// other constraint cutting the box): v3.net uniform, mean 0.5 and variance 0.998²/12;
    /// log10 v2.xch uniform between log10 1e-7 (the exchange floor) and 2, mean −2.5 and
    /// variance 9²/12 — the prior as documented, computed from the bounds, not from the sampler.
    func testPriorDrawsAreUniformInTheParameters() throws {
        let (mfa, basis, _, _) = try toyLeastSquares(startCount: 1)
        let post = FluxPosterior(mfa: mfa)
        var rng = SplitMix64(seed: 5)
        let draws = try (0..<4000).map { _ in try XCTUnwrap(post.priorDraw(using: &rng)) }
        for t in draws { XCTAssertTrue(basis.violations(of: basis.fluxState(free: t), in: mfa.network, tolerance: 1e-9).isEmpty) }
        let net = draws.map { $0[1] }, xch = draws.map { log10($0[2]) }
        func meanVar(_ x: [Double]) -> (Double, Double) {
            let m = x.reduce(0, +) / Double(x.count)
            return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1))
        }
        let (mn, vn) = meanVar(net), (mx, vx) = meanVar(xch)
        XCTAssertEqual(mn, 0.5, accuracy: 4 * (0.998 * 0.998 / 12 / 4000).squareRoot())
        XCTAssertEqual(vn, 0.998 * 0.998 / 12, accuracy: 0.08 * 0.998 * 0.998 / 12)
        XCTAssertEqual(mx, -2.5, accuracy: 4 * (81.0 / 12 / 4000).squareRoot())
        XCTAssertEqual(vx, 81.0 / 12, accuracy: 0.08 * 81.0 / 12)
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
        post.ladder = [1]        // unimodal; the tempered sampler is tested above on an analytic posterior
        post.threads = 2
        let r = try post.sample(measured)
        XCTAssertEqual(r.draws.count, 12000)
        for k in [1, 2] {
            XCTAssertLessThan(r.rHat[k], 1.02, "\(k)")
            XCTAssertGreaterThan(r.ess[k], 400, "\(k)")
            let x = r.draws.map { $0[k] }
            let mean = x.reduce(0, +) / Double(x.count)
            let sd = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)).squareRoot()
            XCTAssertEqual(mean, r.fit!.prediction.free[k], accuracy: 0.3 * sd, "\(k)")
            XCTAssertEqual(sd, r.fit!.prediction.freeSE[k], accuracy: 0.25 * r.fit!.prediction.freeSE[k], "\(k)")
        }
        XCTAssertTrue(r.draws.allSatisfy { $0[0] == 1 && $0[1] >= 0.001 && $0[1] <= 0.999 })
    }

    /// The share of v2.xch (bounds [0, 100]) at most x under the `mixed` exchange prior, from its
    /// definition: half uniform on [0, 100], half log-uniform on [1e-4, 100].
    static func mixedCDF(_ x: Double) -> Double {
        0.5 * x / 100 + 0.5 * min(max((log10(x) + 4) / 6, 0), 1)
    }

    /// Prior draws with the training data's exchange prior (`mixed`): v2.xch's shares below
    /// 0.01 and 50 are the analytic 0.1667 and 0.7249.
    func testMixedExchangePriorDraws() throws {
        let (mfa, _, _, _) = try toyLeastSquares(startCount: 1)
        var post = FluxPosterior(mfa: mfa)
        post.exchangePrior = SamplerSettings(exchange: .mixed)
        var rng = SplitMix64(seed: 6)
        let xch = try (0..<4000).map { _ in try XCTUnwrap(post.priorDraw(using: &rng))[2] }
        for x in [0.01, 50] {
            let p = Self.mixedCDF(x), share = Double(xch.filter { $0 <= x }.count) / 4000
            XCTAssertEqual(share, p, accuracy: 4 * (p * (1 - p) / 4000).squareRoot(), "\(x)")
        }
    }

    /// Data too noisy to say anything (σ = 10 per entry): the posterior of v2.xch is its prior,
    /// here the `mixed` one (shares below 0.01 and 50 as in `mixedCDF`), not the default
    /// log10-uniform one (which puts 5/9 of its mass below 0.01).
    func testUninformativeDataLeaveTheMixedPrior() throws {
        let (mfa, basis, sim, layout) = try toyLeastSquares(startCount: 1)
        let clean = try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values
        let measured = measuredLabeling(clean, layout, sd: 10)
        var post = FluxPosterior(mfa: mfa)
        post.exchangePrior = SamplerSettings(exchange: .mixed)
        post.samples = 4000
        post.burnIn = 2000
        post.ladder = [1]
        post.threads = 2
        let r = try post.sample(measured)
        XCTAssertLessThan(r.rHat[2], 1.05)
        let xch = r.draws.map { $0[2] }
        for x in [0.01, 50] {
            let share = Double(xch.filter { $0 <= x }.count) / Double(xch.count)
            XCTAssertEqual(share, Self.mixedCDF(x), accuracy: 0.06, "\(x)")
        }
    }
}
