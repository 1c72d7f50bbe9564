import XCTest
@testable import LinearAlgebra

/// The constrained solvers against brute force: for small problems, the optimum of a convex
/// inequality-constrained least-squares problem is the best feasible equality-constrained
/// optimum over all subsets of active constraints.
final class InequalityLeastSquaresTests: XCTestCase {
    struct Rng { var s: UInt64; mutating func next() -> Double { s = s &* 6364136223846793005 &+ 1442695040888963407; return Double(s >> 11) / Double(1 << 53) * 2 - 1 } }

    /// min ‖E x − f‖ s.t. G_S x = h_S, by the KKT system [EᵀE G_Sᵀ; G_S 0].
    func equalityConstrained(_ m: Int, _ n: Int, _ e: [Double], _ f: [Double], rows: [[Double]], rhs: [Double]) -> [Double]? {
        let s = rows.count, N = n + s
        var a = [Double](repeating: 0, count: N * N), b = [Double](repeating: 0, count: N)
        for i in 0..<n {
            for j in 0..<n { a[i + N * j] = (0..<m).reduce(0) { $0 + e[$1 + m * i] * e[$1 + m * j] } }
            b[i] = (0..<m).reduce(0) { $0 + e[$1 + m * i] * f[$1] }
        }
        for (r, row) in rows.enumerated() {
            for j in 0..<n { a[n + r + N * j] = row[j]; a[j + N * (n + r)] = row[j] }
            b[n + r] = rhs[r]
        }
        var piv = [Int32](repeating: 0, count: N)
        guard LinearAlgebra.luFactor(n: N, a: &a, lda: N, pivots: &piv) == 0,
              LinearAlgebra.luSolve(n: N, nrhs: 1, lu: a, lda: N, pivots: piv, b: &b, ldb: N) else { return nil }
        return Array(b[0..<n])
    }

    /// A random problem min ‖E x − f‖ s.t. G x ≥ h, with its objective, feasibility test and
    /// brute-force optimum (∞ when infeasible).
    struct Problem {
        let m: Int, n: Int, k: Int
        let e: [Double], f: [Double], g: [Double], h: [Double]
        func objective(_ x: [Double]) -> Double {
            (0..<m).reduce(0) { s, i in let r = (0..<n).reduce(-f[i]) { $0 + e[i + m * $1] * x[$1] }; return s + r * r }
        }
        func feasible(_ x: [Double]) -> Bool { (0..<k).allSatisfy { c in (0..<n).reduce(0) { $0 + g[c + k * $1] * x[$1] } >= h[c] - 1e-9 } }
    }

    func bruteForce(_ p: Problem) -> (best: Double, unconstrained: Double) {
        var best = Double.infinity
        for mask in 0..<(1 << p.k) where mask.nonzeroBitCount <= p.n {
            let active = (0..<p.k).filter { mask & (1 << $0) != 0 }
            guard let x = equalityConstrained(p.m, p.n, p.e, p.f, rows: active.map { c in (0..<p.n).map { p.g[c + p.k * $0] } },
                                              rhs: active.map { p.h[$0] }), p.feasible(x) else { continue }
            best = min(best, p.objective(x))
        }
        return (best, p.objective(equalityConstrained(p.m, p.n, p.e, p.f, rows: [], rhs: [])!))
    }

    func testMatchesBruteForceOverActiveSets() {
        var rng = Rng(s: 42)
        var constrainedCases = 0
        for trial in 0..<200 {
            let n = 2 + trial % 3, m = n + 2, k = 2 + trial % 4
            let e = (0..<(m * n)).map { _ in rng.next() }, f = (0..<m).map { _ in 3 * rng.next() }
            let g = (0..<(k * n)).map { _ in rng.next() }, h = (0..<k).map { _ in rng.next() - 0.3 }
            let p = Problem(m: m, n: n, k: k, e: e, f: f, g: g, h: h)
            let (best, unconstrained) = bruteForce(p)
            let result = LinearAlgebra.inequalityLeastSquares(m: m, n: n, e: e, f: f, k: k, g: g, h: h)
            if best.isInfinite {
                XCTAssertEqual(result, .infeasible, "trial \(trial)")
                continue
            }
            guard case .solved(let x) = result else { XCTFail("trial \(trial): \(result)"); continue }
            XCTAssertTrue(p.feasible(x), "trial \(trial)")
            XCTAssertEqual(p.objective(x), best, accuracy: 1e-9 * max(1, best), "trial \(trial)")
            if unconstrained < best - 1e-9 { constrainedCases += 1 }
        }
        XCTAssertGreaterThan(constrainedCases, 50)   // the constraints mattered in many trials
    }

    /// The active-set solver against the same brute force, from a feasible start on some constraints.
    func testActiveSetMatchesBruteForce() {
        var rng = Rng(s: 7)
        var constrainedCases = 0
        for trial in 0..<200 {
            let n = 2 + trial % 4, m = n + 3, k = 2 + trial % 5
            let e = (0..<(m * n)).map { _ in rng.next() }, f = (0..<m).map { _ in 3 * rng.next() }
            let g = (0..<(k * n)).map { _ in rng.next() }
            let x0 = (0..<n).map { _ in rng.next() }
            // Constraints through or below the start: some active there, some not.
            let h = (0..<k).map { c in (0..<n).reduce(0) { $0 + g[c + k * $1] * x0[$1] } - (c % 2 == 0 ? 0 : abs(rng.next())) }
            let p = Problem(m: m, n: n, k: k, e: e, f: f, g: g, h: h)
            let (best, unconstrained) = bruteForce(p)
            guard case .solved(let x) = LinearAlgebra.activeSetLeastSquares(m: m, n: n, e: e, f: f, k: k, g: g, h: h, start: x0) else {
                XCTFail("trial \(trial)"); continue
            }
            XCTAssertTrue(p.feasible(x), "trial \(trial)")
            XCTAssertEqual(p.objective(x), best, accuracy: 1e-9 * max(1, best), "trial \(trial)")
            if unconstrained < best - 1e-9 { constrainedCases += 1 }
        }
        XCTAssertGreaterThan(constrainedCases, 50)
    }

    func testInfeasibleConstraintsAreReported() {
        // x ≥ 1 and −x ≥ 0 cannot both hold.
        let r = LinearAlgebra.inequalityLeastSquares(m: 1, n: 1, e: [1], f: [0], k: 2, g: [1, -1], h: [1, 0])
        XCTAssertEqual(r, .infeasible)
    }

    func testNonNegativeLeastSquaresKnownSolution() {
        // min ‖[1 0; 0 1; 1 1] x − (2, −1, 1)‖, x ≥ 0: x₂ is pushed to 0, x₁ = (2 + 1)/2.
        let x = LinearAlgebra.nonNegativeLeastSquares(m: 3, n: 2, a: [1, 0, 1, 0, 1, 1], b: [2, -1, 1])!
        XCTAssertEqual(x[0], 1.5, accuracy: 1e-12)
        XCTAssertEqual(x[1], 0, accuracy: 1e-12)
    }
}
