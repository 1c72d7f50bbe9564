import XCTest
@testable import LinearAlgebra

final class LinearAlgebraTests: XCTestCase {
    /// A·x = b for a known x (column-major 3×3 with pivoting needed: A[0,0] = 0).
    func testLUSolveRecoversKnownSolution() {
        var a: [Double] = [0, 2, 1,   1, 1, 3,   4, 0, 1]   // columns
        let x: [Double] = [1, -2, 0.5]
        var b = (0..<3).map { i in (0..<3).reduce(0.0) { $0 + a[i + 3 * $1] * x[$1] } }
        var piv = [Int32](repeating: 0, count: 3)
        let info = LinearAlgebra.luFactor(n: 3, a: &a, lda: 3, pivots: &piv)
        XCTAssertEqual(info, 0)
        LinearAlgebra.luSolve(n: 3, nrhs: 1, lu: a, lda: 3, pivots: piv, b: &b, ldb: 3)
        for i in 0..<3 { XCTAssertEqual(b[i], x[i], accuracy: 1e-14) }
    }

    func testSingularMatrixIsReported() {
        var a: [Double] = [1, 2, 2, 4]
        var piv = [Int32](repeating: 0, count: 2)
        XCTAssertGreaterThan(LinearAlgebra.luFactor(n: 2, a: &a, lda: 2, pivots: &piv), 0)
    }

    func testGemmMatchesDefinition() {
        let a: [Double] = [1, 2, 3, 4, 5, 6]        // 2×3 column-major
        let b: [Double] = [1, 0, -1, 2, 1, 0]       // 3×2
        var c = [Double](repeating: 0, count: 4)
        LinearAlgebra.gemm(m: 2, n: 2, k: 3, a: a, lda: 2, b: b, ldb: 3, c: &c, ldc: 2)
        // C = A·B: C[0,0] = 1·1 + 3·0 + 5·(−1) = −4, C[1,0] = 2 + 0 − 6 = −4,
        // C[0,1] = 1·2 + 3·1 + 0 = 5, C[1,1] = 4 + 4 = 8
        XCTAssertEqual(c, [-4, -4, 5, 8])
    }

    func testLeastSquaresOfOverdeterminedSystem() {
        // Fit y = p0 + p1·t to exact data y = 2 − 3t: residual zero, parameters recovered.
        let t: [Double] = [0, 1, 2, 3]
        var a = [Double](repeating: 1, count: 4) + t
        var b = t.map { 2 - 3 * $0 }
        let rank = LinearAlgebra.leastSquares(m: 4, n: 2, nrhs: 1, a: &a, b: &b)
        XCTAssertEqual(rank, 2)
        XCTAssertEqual(b[0], 2, accuracy: 1e-12)
        XCTAssertEqual(b[1], -3, accuracy: 1e-12)
    }
}
