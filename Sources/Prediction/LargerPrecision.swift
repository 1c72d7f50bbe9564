import LinearAlgebra

/// The "larger precision" combination of a data precision `P_d` with the precision `P_a` of a
/// prior that is itself a posterior given the same data (an ANN's prediction from these MIDs):
/// summing them counts the data twice, so along every direction the combination keeps the
/// larger of the two — basis-independently. In the basis that diagonalises both (the
/// generalised eigenproblem `P_d·v = λ·P_a·v`), direction `i` gets precision `max(λ_i, 1)`
/// in units of the prior's:
///
///     P = Wᵀ·U·diag(max(λ_i, 1))·Uᵀ·W,   P_a = WᵀW,   Rᵀ·P_d·R = U·diag(λ)·Uᵀ,  R = W⁻¹.
///
/// Directions the data resolve better than the prior follow the data (`P = P_d` when every
/// λ ≥ 1), the others keep the prior (`P = P_a` when every λ ≤ 1). With both matrices
/// diagonal it is the per-coordinate `max(P_d,ii, P_a,ii)`; a reparametrisation `x = M·y`
/// (`P → MᵀPM` for both) maps the result the same way, which the per-coordinate rule does not
/// (with data that fix only a difference of two coordinates, the per-coordinate rule leaves a
/// singular matrix). The choice of square root `W` does not matter.
public enum LargerPrecision {
    /// The combined precision and its inverse, the covariance (both `n×n` column-major
    /// symmetric), from the data's precision `data` and the prior given by a square root `root`
    /// of its covariance (`R`: `Σ_a = R·Rᵀ`, so `W = R⁻¹`) and that root's inverse `whitening`
    /// (`W`); all column-major `n×n`. `nil` when a matrix holds a NaN or infinity or LAPACK fails.
    public static func combine(data: [Double], root R: [Double], whitening W: [Double], n: Int)
        -> (precision: [Double], covariance: [Double])? {
        guard n > 0 else { return ([], []) }
        guard data.count == n * n, R.count == n * n, W.count == n * n else { return nil }
        // A = Rᵀ·P_d·R (symmetric), its eigen-decomposition U·diag(λ)·Uᵀ.
        let a = multiply(multiply(R, data, n: n, transA: true), R, n: n)
        var sym = a
        for c in 0..<n { for r in 0..<c { let s = (a[r + n * c] + a[c + n * r]) / 2; sym[r + n * c] = s; sym[c + n * r] = s } }
        guard let eig = LinearAlgebra.symmetricEigen(n: n, a: sym) else { return nil }
        let keep = eig.values.map { max($0, 1) }
        // P = Wᵀ·U·diag(keep)·Uᵀ·W and Σ = R·U·diag(1/keep)·Uᵀ·Rᵀ: with B = Uᵀ·W, P = Bᵀ·diag·B;
        // with C = R·U, Σ = C·diag⁻¹·Cᵀ.
        let B = multiply(eig.vectors, W, n: n, transA: true)
        let C = multiply(R, eig.vectors, n: n)
        var precision = [Double](repeating: 0, count: n * n), covariance = precision
        for j in 0..<n {
            for i in 0...j {
                var p = 0.0, s = 0.0
                for k in 0..<n {
                    p += B[k + n * i] * keep[k] * B[k + n * j]
                    s += C[i + n * k] / keep[k] * C[j + n * k]
                }
                precision[i + n * j] = p; precision[j + n * i] = p
                covariance[i + n * j] = s; covariance[j + n * i] = s
            }
        }
        return (precision, covariance)
    }

    /// `combine` with the prior given by its precision `prior` (symmetric positive definite,
    /// column-major `n×n`): the square roots come from its eigen-decomposition. `nil` when it
    /// is not positive definite.
    public static func combine(data: [Double], prior: [Double], n: Int) -> (precision: [Double], covariance: [Double])? {
        guard let (root, whitening) = roots(ofPrecision: prior, n: n) else { return nil }
        return combine(data: data, root: root, whitening: whitening, n: n)
    }

    /// For a symmetric positive definite precision `P = V·diag(s)·Vᵀ`: `R = V·diag(1/√s)` (the
    /// covariance's root, `P⁻¹ = R·Rᵀ`) and `W = R⁻¹ = diag(√s)·Vᵀ` (`P = WᵀW`), column-major.
    /// `nil` when an eigenvalue is not positive or LAPACK fails.
    public static func roots(ofPrecision P: [Double], n: Int) -> (root: [Double], whitening: [Double])? {
        guard let eig = LinearAlgebra.symmetricEigen(n: n, a: P), eig.values.allSatisfy({ $0 > 0 }) else { return nil }
        return rootsFromEigen(eig.vectors, scales: eig.values.map { 1 / $0.squareRoot() }, n: n)
    }

    /// For a symmetric positive definite covariance `Σ = V·diag(s)·Vᵀ`: `R = V·diag(√s)` and
    /// `W = diag(1/√s)·Vᵀ`, column-major. Eigenvalues below `relativeFloor` × the largest are
    /// raised to it (a near-singular covariance keeps a finite, large precision there). `nil`
    /// when the largest eigenvalue is not positive or LAPACK fails.
    public static func roots(ofCovariance S: [Double], n: Int, relativeFloor: Double = 1e-14)
        -> (root: [Double], whitening: [Double])? {
        guard let eig = LinearAlgebra.symmetricEigen(n: n, a: S), let top = eig.values.last, top > 0 else { return nil }
        return rootsFromEigen(eig.vectors, scales: eig.values.map { max($0, relativeFloor * top).squareRoot() }, n: n)
    }

    /// `R = V·diag(scales)`, `W = diag(1/scales)·Vᵀ` for orthonormal `V` (column-major).
    private static func rootsFromEigen(_ V: [Double], scales: [Double], n: Int) -> (root: [Double], whitening: [Double]) {
        var R = [Double](repeating: 0, count: n * n), W = R
        for k in 0..<n {
            for i in 0..<n {
                R[i + n * k] = V[i + n * k] * scales[k]
                W[k + n * i] = V[i + n * k] / scales[k]
            }
        }
        return (R, W)
    }

    /// `op(A)·B` of column-major `n×n` matrices (BLAS).
    static func multiply(_ A: [Double], _ B: [Double], n: Int, transA: Bool = false) -> [Double] {
        var out = [Double](repeating: 0, count: n * n)
        A.withUnsafeBufferPointer { a in
            B.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { c in
                    LinearAlgebra.gemm(transA: transA, m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n,
                                       c: c.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }
}
