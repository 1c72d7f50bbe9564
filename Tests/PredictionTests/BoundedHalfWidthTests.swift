import XCTest
import EMU
import MLFluxCore
import TestSupport
@testable import Prediction

/// The 1σ of a parameter known only from its bounds: value ± h holds 68.27 % of truths drawn
/// uniformly over the bounds wherever the estimate sits, and least squares states it for a
/// flux its data cannot see.
final class BoundedHalfWidthTests: XCTestCase {
    /// Brute force: 200,001 evenly spaced truths over [0.01, 0.05]; for estimates at the lower
    /// bound, inside, at the centre and at the upper bound the share inside value ± h is
    /// 0.6827 (to the grid's resolution). The uniform SD range/√12 holds 0.577 at the centre
    /// and 0.289 at a bound.
    func testIntervalHoldsTheShareOfUniformTruths() {
        let lower = 0.01, upper = 0.05, n = 200_001
        let truths = (0..<n).map { lower + (upper - lower) * Double($0) / Double(n - 1) }
        func share(_ x: Double, _ h: Double) -> Double { Double(truths.filter { abs($0 - x) <= h }.count) / Double(n) }
        for x in [0.01, 0.0125, 0.02, 0.03, 0.041, 0.05] {
            let h = BoundedHalfWidth.halfWidth(value: x, lower: lower, upper: upper)
            XCTAssertEqual(share(x, h), 0.682_689, accuracy: 2e-5, "estimate \(x)")
        }
        XCTAssertEqual(BoundedHalfWidth.halfWidth(value: 0.07, lower: lower, upper: upper),
                       BoundedHalfWidth.halfWidth(value: upper, lower: lower, upper: upper))
        let sd = (upper - lower) / 12.0.squareRoot()
        XCTAssertEqual(share(0.03, sd), 0.577, accuracy: 1e-3)
        XCTAssertEqual(share(0.01, sd), 0.289, accuracy: 1e-3)
        XCTAssertEqual(BoundedHalfWidth.halfWidth(value: 0, lower: 0, upper: .infinity), .infinity)
        XCTAssertEqual(BoundedHalfWidth.halfWidth(value: 1, lower: 1, upper: 1), 0)
    }

    /// σ = 1000: the toy's labeling says nothing about v3.net ∈ [0.001, 0.999], so wherever the
    /// fit ends, its stated 1σ interval must hold 68.27 % of truths drawn uniformly over the
    /// bounds (10,000 draws: ±1.4 points is 3 SE), not the 29–58 % of the uniform SD.
    func testUnseenFluxCoversUniformTruths() throws {
        let (mfa, basis, sim, layout) = try toyLeastSquares(startCount: 3)
        let values = try sim.simulate(basis.fluxState(free: [1, 0.25, 0.4])).values
        let fit = try XCTUnwrap(mfa.fit(measuredLabeling(values, layout, sd: 1e3)))
        let r = try XCTUnwrap(sim.network.reactions.firstIndex { $0.id == "v3" })
        let value = fit.prediction.net[r], se = fit.prediction.netSE[r]
        XCTAssertTrue(se.isFinite && se > 0, "\(se)")
        XCTAssertGreaterThanOrEqual(se, 0.3413 * 0.998 - 1e-9)
        var rng = SplitMix64(seed: 5)
        let draws = 10_000
        let inside = (0..<draws).filter { _ in abs(0.001 + 0.998 * Double.random(in: 0..<1, using: &rng) - value) <= se }.count
        XCTAssertEqual(Double(inside) / Double(draws), 0.6827, accuracy: 0.014, "v3.net \(value) ± \(se)")
    }
}

/// The bounds' information keeps what the data determine: two parameters whose difference
/// alone is measured (JᵀJ = a·vvᵀ, v = (1, −1), a = 10⁴) and half-widths h = 3 each. Analytic:
/// eigenvectors v/√2 (precision 2a + 1/h²) and (1, 1)/√2 (precision 1/h²), so
/// var(p₁ − p₂) = 2/(2a + 1/h²) ≈ 1/a (the data's), var(p₁ + p₂) = 2h² (the bounds' alone)
/// and var(p₁) = (1/(2a + 1/h²) + h²)/2.
final class BoundsInformationTests: XCTestCase {
    func testDeterminedDifferenceKeepsTheDataPrecision() {
        let a = 1e4, h = 3.0
        let normal = [a, -a, -a, a]
        let (inverse, determined) = LeastSquaresMFA.pseudoInverse(
            LeastSquaresMFA.withBounds(normal, halfWidth: [h, h], size: 2), size: 2)
        XCTAssertEqual(determined, [true, true])
        let lambda = 2 * a + 1 / (h * h)
        let varDiff = inverse[0] + inverse[3] - 2 * inverse[1]
        let varSum = inverse[0] + inverse[3] + 2 * inverse[1]
        XCTAssertEqual(varDiff, 2 / lambda, accuracy: 1e-9 * varDiff)
        XCTAssertEqual(varDiff, 1 / a, accuracy: 1e-4 / a)
        XCTAssertEqual(varSum, 2 * h * h, accuracy: 1e-9)
        XCTAssertEqual(inverse[0], (1 / lambda + h * h) / 2, accuracy: 1e-9)
        // Dropping the correlation (the old rule: each known from its bounds alone) would state
        // var(p₁ − p₂) = 2·(range/√12)² — here thousands of times the data's.
    }
}
