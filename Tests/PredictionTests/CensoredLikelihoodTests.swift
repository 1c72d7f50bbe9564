import XCTest
import EMU
import MLFluxCore
import NeuralNetworks
import TestSupport
@testable import Prediction

/// The left-censored (Tobit) likelihood of MID entries clipped at 0, and what it does to fits
/// of clipped, renormalised MIDs.
final class CensoredLikelihoodTests: XCTestCase {
    /// Φ(−z) by Simpson's rule over the normal density from z to z + 12 (an independent route
    /// to the tail probability; the density beyond is < 1e-31 relative).
    func upperTailBySimpson(_ z: Double) -> Double {
        let n = 20_000, h = 12.0 / Double(n)
        var s = 0.0
        for k in 0...n {
            let x = z + Double(k) * h
            let w: Double = k == 0 || k == n ? 1 : (k % 2 == 1 ? 4 : 2)
            s += w * exp(-0.5 * x * x)
        }
        return s * h / 3 / (2 * Double.pi).squareRoot()
    }

    /// The term against direct integration (moderate z) and the asymptotic series of the
    /// Mills ratio (large z, where erfc underflows); slope and information against finite
    /// differences; the score against the Tobit model's −φ(μ/σ)/(σ·Φ(−μ/σ)).
    func testTermSlopeAndInformationAgainstIndependentFormulas() {
        for z in [-2.0, -0.5, 0, 0.3, 1, 2.5, 5, 8] {
            XCTAssertEqual(CensoredNormal.term(z), -2 * log(upperTailBySimpson(z)), accuracy: 1e-8 * max(1, z * z), "z = \(z)")
        }
        for z in [29.0, 30.5, 45, 200] {
            // log Φ(−z) = −z²/2 − log(z√(2π)) + log(1 − 1/z² + 3/z⁴ − 15/z⁶ + 105/z⁸).
            let series = 1 - 1 / (z * z) + 3 / pow(z, 4) - 15 / pow(z, 6) + 105 / pow(z, 8)
            let expected = -0.5 * z * z - log(z * (2 * Double.pi).squareRoot()) + log(series)
            XCTAssertEqual(CensoredNormal.logUpperTail(z), expected, accuracy: 1e-10 * z * z, "z = \(z)")
        }
        XCTAssertEqual(CensoredNormal.deviance(0), 0, accuracy: 1e-15)
        let h = 1e-5
        for z in [-1.0, 0, 0.7, 3, 12, 29.999, 30.001, 60] {
            let fd = (CensoredNormal.term(z + h) - CensoredNormal.term(z - h)) / (2 * h)
            XCTAssertEqual(CensoredNormal.devianceSlope(z), fd, accuracy: 1e-6 * max(1, abs(fd)), "slope at z = \(z)")
            let fd2 = (CensoredNormal.devianceSlope(z + h) - CensoredNormal.devianceSlope(z - h)) / (2 * h) / 2
            XCTAssertEqual(CensoredNormal.observedInformation(z), fd2, accuracy: 1e-5, "information at z = \(z)")
        }
        // Tobit: ∂/∂μ log P(y = 0) = −φ(μ/σ)/(σ·Φ(−μ/σ)); the term is −2× that log.
        let sigma = 0.01
        for mu in [0.0, 0.004, 0.02] {
            let z = mu / sigma
            let tobitScore = -(exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()) / (sigma * upperTailBySimpson(z))
            XCTAssertEqual(CensoredNormal.devianceSlope(z) / sigma, -2 * tobitScore, accuracy: 1e-6 * abs(tobitScore))
        }
        // 2/π at z = 0: λ(0)² = (φ(0)/½)².
        XCTAssertEqual(CensoredNormal.observedInformation(0), 2 / Double.pi, accuracy: 1e-12)
    }

    /// The deviance's moments per entry against a Monte Carlo of the censored model.
    func testDevianceMomentsMatchMonteCarlo() {
        var rng = SplitMix64(seed: 11)
        for z in [0.0, 0.8, 2.5] {
            let n = 200_000
            var s1 = 0.0, s2 = 0.0
            for _ in 0..<n {
                let e = rng.nextGaussian()
                let d = z + e > 0 ? e * e : CensoredNormal.deviance(z)
                s1 += d
                s2 += d * d
            }
            let mean = s1 / Double(n), variance = s2 / Double(n) - mean * mean
            let m = CensoredNormal.devianceMoments(z)
            XCTAssertEqual(m.mean, mean, accuracy: 0.01, "z = \(z)")
            XCTAssertEqual(m.variance, variance, accuracy: 0.04, "z = \(z)")
        }
        let far = CensoredNormal.devianceMoments(40)
        XCTAssertEqual(far.mean, 1, accuracy: 1e-12)
        XCTAssertEqual(far.variance, 2, accuracy: 1e-12)
    }

    /// Toy least squares on three tracers: the true state and `count` clipped, renormalised
    /// noisy copies of its MIDs (Float32 storage, as `evaluate --noise` makes them).
    func clippedData(sigma: Double, count: Int, seed: UInt64) throws
        -> (LeastSquaresMFA, [Double], [MeasuredLabeling], LabelingLayout) {
        var (mfa, basis, sim, layout) = try toyLeastSquares(["100", "010", "011"], startCount: 1)
        mfa.continuationStart = 0
        let truth = [1, 0.35, 0.4]
        let clean = try sim.simulate(basis.fluxState(free: truth)).values
        var x = Matrix(rows: count, columns: layout.count, storage: (0..<count).flatMap { _ in clean.map(Float.init) })
        var rng = SplitMix64(seed: seed)
        MeasurementNoise.perturb(&x, layout: layout, sigma: [Double](repeating: sigma, count: count), using: &rng)
        let data = (0..<count).map { r in measuredLabeling(x.row(r).map(Double.init), layout, sd: sigma) }
        return (mfa, truth, data, layout)
    }

    /// The pseudo-residuals' Jacobian (censored rows, and the rows of a MID with a profiled
    /// scale) against central finite differences of the residuals in parameter space.
    func testCensoredResidualJacobianMatchesFiniteDifferences() throws {
        let (mfa, truth, data, _) = try clippedData(sigma: 0.02, count: 1, seed: 5)
        let measured = data[0]
        let rows = measured.mask.indices.filter { measured.mask[$0] }
        let censoring = try XCTUnwrap(CensoredMIDs(measured: measured, rows: rows))
        XCTAssertFalse(censoring.scaledGroups.isEmpty)
        let problem = LeastSquaresMFA.Problem(measured: measured, rows: rows, sigma: rows.map { measured.stddev[$0] },
                                              fluxes: [], prior: .none, censoring: censoring)
        let p = mfa.params([1, 0.3, 0.5])
        let at = try XCTUnwrap(mfa.evaluate(p, problem, jacobian: true))
        let m = at.r.count, h = 1e-6
        for c in p.indices {
            var up = p, down = p
            up[c] += h
            down[c] -= h
            let ru = try XCTUnwrap(mfa.evaluate(up, problem, jacobian: false)).r
            let rd = try XCTUnwrap(mfa.evaluate(down, problem, jacobian: false)).r
            for i in 0..<m {
                let fd = (ru[i] - rd[i]) / (2 * h)
                XCTAssertEqual(at.J[i + m * c], fd, accuracy: 1e-5 * max(1, abs(fd)), "row \(i), parameter \(c)")
            }
        }
        // The cost less the floor is the deviance: Gaussian terms of the seen entries (at the
        // best scale) plus ℓ − 2·ln 2 of the censored ones.
        XCTAssertEqual(at.r.reduce(0) { $0 + $1 * $1 } - censoring.costFloor,
                       try XCTUnwrap(mfa.vssr(of: mfa.basis.fluxState(free: mfa.theta(p)), measured)), accuracy: 1e-9)
        _ = truth
    }

    /// Clipped, renormalised MIDs at σ = 0.02, 60 noisy copies of one state fitted from the
    /// truth: the Gaussian likelihood's v3 estimate is biased by 4 standard errors of
    /// the mean; the censored one's is not, and its deviance at the truth passes the χ² test
    /// about 95 % of the time.
    func testCensoredLikelihoodRemovesTheClippingBias() throws {
        var (mfa, truth, data, _) = try clippedData(sigma: 0.02, count: 60, seed: 21)
        var gaussian = mfa
        gaussian.censorZeros = false
        mfa.censorZeros = true
        var errors: (censored: [Double], gaussian: [Double]) = ([], [])
        var covered = 0
        for d in data {
            let c = try XCTUnwrap(mfa.fit(d, starts: [truth]))
            let g = try XCTUnwrap(gaussian.fit(d, starts: [truth]))
            XCTAssertGreaterThan(c.censoredEntries, 0)
            errors.censored.append(c.prediction.free[1] - truth[1])
            errors.gaussian.append(g.prediction.free[1] - truth[1])
            if abs(c.prediction.free[1] - truth[1]) <= c.prediction.freeSE[1] { covered += 1 }
        }
        func meanAndSE(_ e: [Double]) -> (Double, Double) {
            let m = e.reduce(0, +) / Double(e.count)
            let v = e.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(e.count - 1)
            return (m, (v / Double(e.count)).squareRoot())
        }
        let (mc, sc) = meanAndSE(errors.censored), (mg, sg) = meanAndSE(errors.gaussian)
        XCTAssertGreaterThan(abs(mg), 3 * sg, "the Gaussian fit of clipped data is biased (\(mg) ± \(sg))")
        XCTAssertLessThan(abs(mc), 2.5 * sc, "the censored fit is not (\(mc) ± \(sc))")
        XCTAssertGreaterThan(Double(covered) / Double(data.count), 0.5, "1σ coverage of the censored fit")

        // The deviance at the truth against its reference (no fitted parameters): 95 % range.
        let more = try clippedData(sigma: 0.02, count: 400, seed: 22).2
        let clean = try mfa.simulator.simulate(mfa.basis.fluxState(free: truth)).values
        var pass = 0
        for d in more {
            let rows = d.mask.indices.filter { d.mask[$0] }
            let w = rows.map { 1 / d.stddev[$0] }
            let deviance = try XCTUnwrap(mfa.vssr(of: mfa.basis.fluxState(free: truth), d))
            guard let censoring = CensoredMIDs(measured: d, rows: rows) else { pass += 1; continue }
            let reference = censoring.reference(simulated: clean, rows: rows, weights: w, extra: 0, fitted: 0)
            if (reference.quantile(0.025)...reference.quantile(0.975)).contains(deviance) { pass += 1 }
        }
        let rate = Double(pass) / Double(more.count)
        XCTAssertGreaterThan(rate, 0.91, "χ² pass rate at the truth")
        XCTAssertLessThan(rate, 0.99, "χ² pass rate at the truth")
    }
}
