import XCTest
import EMU
import MLFluxCore
import TestSupport
@testable import Prediction

/// The larger-precision combination of a data precision with a prior's (`LargerPrecision`)
/// and the dense prior of a MAP fit, against hand-worked and closed-form answers.
final class LargerPrecisionTests: XCTestCase {
    func assertMatrix(_ a: [Double], _ b: [Double], accuracy: Double, _ message: String = "", line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, message, line: line) }
    }

    /// Both diagonal: the per-coordinate larger precision, the covariance its reciprocal.
    func testDiagonalMatricesGiveThePerCoordinateMaximum() throws {
        let data = [4.0, 0, 0, 0, 0.5, 0, 0, 0, 9], prior = [1.0, 0, 0, 0, 2, 0, 0, 0, 9.5]
        let c = try XCTUnwrap(LargerPrecision.combine(data: data, prior: prior, n: 3))
        assertMatrix(c.precision, [4, 0, 0, 0, 2, 0, 0, 0, 9.5], accuracy: 1e-12)
        assertMatrix(c.covariance, [0.25, 0, 0, 0, 0.5, 0, 0, 0, 1 / 9.5], accuracy: 1e-12)
    }

    /// 2×2 by hand. Prior I, data [[1.25, 0.75], [0.75, 1.25]]: eigenvalues 2 along (1, 1)/√2
    /// and 0.5 along (1, −1)/√2, so P = 2·vvᵀ + 1·wwᵀ = [[1.5, 0.5], [0.5, 1.5]] and Σ = P⁻¹ =
    /// [[0.75, −0.25], [−0.25, 0.75]]. Data that fix only x₁ − x₂ (precision 100·(1, −1)(1, −1)ᵀ,
    /// eigenvalue 200 along (1, −1)/√2, 0 along (1, 1)/√2): P = [[100.5, −99.5], [−99.5, 100.5]],
    /// var(x₁ − x₂) = 2/200, var(x₁ + x₂) = 2 — where the per-coordinate maximum,
    /// [[100, −100], [−100, 100]], is singular.
    func testTwoByTwoAgainstHandWorkedAnswers() throws {
        let a = try XCTUnwrap(LargerPrecision.combine(data: [1.25, 0.75, 0.75, 1.25], prior: [1, 0, 0, 1], n: 2))
        assertMatrix(a.precision, [1.5, 0.5, 0.5, 1.5], accuracy: 1e-12)
        assertMatrix(a.covariance, [0.75, -0.25, -0.25, 0.75], accuracy: 1e-12)
        let b = try XCTUnwrap(LargerPrecision.combine(data: [100, -100, -100, 100], prior: [1, 0, 0, 1], n: 2))
        assertMatrix(b.precision, [100.5, -99.5, -99.5, 100.5], accuracy: 1e-10)
        assertMatrix(b.covariance, [0.5025, 0.4975, 0.4975, 0.5025], accuracy: 1e-12)
    }

    /// A reparametrisation x = M·y maps both precisions to MᵀPM; the combination maps the same
    /// way (its covariance to M⁻¹ΣM⁻ᵀ) — for a rotation and for a shear-and-scale alike.
    func testCombinationIsInvariantToReparametrisation() throws {
        let n = 3
        // Data: rank 2 (a third direction unseen); prior: a correlated positive-definite matrix.
        let g = [1.0, 2, 0, -1, 0.5, 3]   // 3×2 column-major G, data = G·Gᵀ
        var data = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { data[i + 3 * j] = (0..<2).reduce(0) { $0 + g[i + 3 * $1] * g[j + 3 * $1] } } }
        let prior = [2.0, 0.6, -0.3, 0.6, 1.5, 0.2, -0.3, 0.2, 0.8]
        let base = try XCTUnwrap(LargerPrecision.combine(data: data, prior: prior, n: n))
        assertMatrix(LargerPrecision.multiply(base.precision, base.covariance, n: n), [1, 0, 0, 0, 1, 0, 0, 0, 1], accuracy: 1e-10)
        let c = cos(0.7), s = sin(0.7)
        let rotation = [c, s, 0, -s, c, 0, 0, 0, 1]
        let shear = [2.0, 0, 0, 0.5, 1, 0, -1, 0.3, 0.25]
        for M in [rotation, shear] {
            func congruent(_ P: [Double]) -> [Double] { LargerPrecision.multiply(LargerPrecision.multiply(M, P, n: n, transA: true), M, n: n) }
            let moved = try XCTUnwrap(LargerPrecision.combine(data: congruent(data), prior: congruent(prior), n: n))
            assertMatrix(moved.precision, congruent(base.precision), accuracy: 1e-9)
            // Σ_y = M⁻¹·Σ_x·M⁻ᵀ ⇔ M·Σ_y·Mᵀ = Σ_x.
            let back = LargerPrecision.multiply(LargerPrecision.multiply(M, moved.covariance, n: n),
                                                transpose(M, n: n), n: n)
            assertMatrix(back, base.covariance, accuracy: 1e-9)
        }
    }

    func transpose(_ a: [Double], n: Int) -> [Double] {
        var t = a
        for i in 0..<n { for j in 0..<n { t[i + n * j] = a[j + n * i] } }
        return t
    }

    /// A linear-Gaussian problem: the labeling silent (σ = 10⁶), one measured net flux
    /// m = v4 = θ₁ ± σ_m, and a dense prior on (θ₁, log10 θ₂) with correlation ρ. The MAP is the
    /// Kalman update μ + Σh(hᵀΣh + σ_m²)⁻¹(m − hᵀμ), h = (1, 0); its covariance the posterior's,
    /// Σ − ΣhhᵀΣ/(hᵀΣh + σ_m²). With `conditionedOnData` (larger precision: the data's λ =
    /// hᵀΣh/σ_m² along h, the prior's elsewhere) it is Σ − (λ − 1)/λ·ΣhhᵀΣ/(hᵀΣh): var θ₁ =
    /// σ_m² exactly, var log10 θ₂ = Σ₂₂ − (λ − 1)/λ·Σ₁₂²/Σ₁₁.
    func testDensePriorGivesTheAnalyticMAPOfALinearGaussianProblem() throws {
        let (mfa0, basis, sim, layout) = try toyLeastSquares(["100"], startCount: 1)
        var mfa = mfa0
        mfa.continuationStart = 0
        let values = try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values
        let network = sim.network
        let m = 0.35, sm = 0.02
        let row = FluxMeasurementRow(kind: .net, terms: [IndexedFluxTerm(reaction: network.reactionIndex["v4"]!, coefficient: 1)],
                                     value: m, stddev: sm,
                                     measurement: FluxMeasurement(id: "fm", kind: .net, reaction: "v4", value: m, stddev: sm))
        // Prior in parameter space (θ₁, y = log10 θ₂): means (0.5, log10 0.4), SDs 0.1 and 0.3, ρ = 0.8.
        let x0 = 0.5, e0 = 0.4, y0 = log10(e0), s1 = 0.1, s2 = 0.3, rho = 0.8
        let S11 = s1 * s1, S22 = s2 * s2, S12 = rho * s1 * s2
        let g = e0 * log(10.0)    // dθ₂/dy at the prior mean: the covariance handed over is θ's
        let covariance = [0, 0, 0, 0, S11, S12 * g, 0, S12 * g, S22 * g * g]
        let labeling = measuredLabeling(values, layout, sd: 1e6)
        let gain = (m - x0) / (S11 + sm * sm)
        let x = x0 + S11 * gain, y = y0 + S12 * gain
        for conditioned in [false, true] {
            let prior = LeastSquaresMFA.Prior(mean: [1, x0, e0], sd: [0, s1, s2 * g], covariance: covariance,
                                              conditionedOnData: conditioned)
            let fit = try XCTUnwrap(mfa.fit(labeling, fluxes: [row], starts: [prior.mean], prior: prior))
            XCTAssertEqual(fit.prediction.free[1], x, accuracy: 1e-7)
            XCTAssertEqual(log10(fit.prediction.free[2]), y, accuracy: 1e-7)
            let (v1, v2): (Double, Double)
            if conditioned {
                let lambda = S11 / (sm * sm), f = (lambda - 1) / lambda
                (v1, v2) = (sm * sm, S22 - f * S12 * S12 / S11)
            } else {
                (v1, v2) = (S11 - S11 * S11 / (S11 + sm * sm), S22 - S12 * S12 / (S11 + sm * sm))
            }
            let e = fit.prediction.free[2]
            XCTAssertEqual(fit.prediction.freeSE[1], v1.squareRoot(), accuracy: 1e-6 * v1.squareRoot())
            XCTAssertEqual(fit.prediction.freeSE[2], e * log(10.0) * v2.squareRoot(), accuracy: 1e-6 * e)
        }
    }
}
