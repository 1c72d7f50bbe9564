import CLAPACK
#if canImport(Glibc)
import Glibc
#endif

/// A small facade over BLAS/LAPACK (OpenBLAS + LAPACKE on Linux, Accelerate on Apple).
/// All matrices are **column-major** with an explicit leading dimension, as in LAPACK.
public enum LinearAlgebra {
    /// `C ← alpha·op(A)·op(B) + beta·C` (double precision), column-major.
    /// `op(A)` is `m×k`, `op(B)` is `k×n`, `C` is `m×n`.
    @inlinable
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
                            b: UnsafePointer<Double>, ldb: Int,
                            beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasColMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `C ← alpha·op(A)·op(B) + beta·C` (single precision), column-major.
    @inlinable
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasColMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y ← alpha·op(A)·x + beta·y` (single precision), column-major `A` `m×n`
    /// (`op(A)` is `A` or `Aᵀ`), unit strides.
    @inlinable
    public static func gemv(transA: Bool = false, m: Int, n: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
                            beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasColMajor, transA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
                    alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// In-place LU factorisation with partial pivoting of the `n×n` column-major matrix `a`
    /// (LAPACK `dgetrf`). Returns `0` on success, `i > 0` when `U[i-1, i-1]` is exactly zero.
    @inlinable
    public static func luFactor(n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                                pivots: UnsafeMutablePointer<Int32>) -> Int {
        Int(LAPACKE_dgetrf(LAPACK_COL_MAJOR, Int32(n), Int32(n), a, Int32(lda), pivots))
    }

    /// Solves `A·X = B` in place in `b` (`n×nrhs`, column-major, leading dimension `ldb`)
    /// with the factors from `luFactor` (LAPACK `dgetrs`, no transpose).
    @inlinable
    public static func luSolve(n: Int, nrhs: Int, lu: UnsafePointer<Double>, lda: Int,
                               pivots: UnsafePointer<Int32>, b: UnsafeMutablePointer<Double>, ldb: Int) {
        _ = LAPACKE_dgetrs(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int32(n), Int32(nrhs),
                           lu, Int32(lda), pivots, b, Int32(ldb))
    }

    /// Least-squares / minimum-norm solution of `A·X = B` by SVD (LAPACK `dgelsd`).
    /// `a` is `m×n` (destroyed), `b` is `max(m,n)×nrhs` and receives `X` in its first `n` rows.
    /// Returns the effective rank.
    public static func leastSquares(m: Int, n: Int, nrhs: Int, a: inout [Double], b: inout [Double],
                                    rcond: Double = -1) -> Int {
        var s = [Double](repeating: 0, count: min(m, n))
        var rank: Int32 = 0
        let ldb = max(1, max(m, n))
        _ = LAPACKE_dgelsd(LAPACK_COL_MAJOR, Int32(m), Int32(n), Int32(nrhs), &a, Int32(max(1, m)),
                           &b, Int32(ldb), &s, rcond, &rank)
        return Int(rank)
    }

    /// Singular values of the `m×n` column-major matrix `a` (destroyed), descending.
    public static func singularValues(m: Int, n: Int, a: inout [Double]) -> [Double] {
        var s = [Double](repeating: 0, count: min(m, n))
        var superb = [Double](repeating: 0, count: max(1, min(m, n)))
        var u = [Double](repeating: 0, count: 1)
        var vt = [Double](repeating: 0, count: 1)
        _ = LAPACKE_dgesvd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "N")),
                           Int32(m), Int32(n), &a, Int32(max(1, m)), &s, &u, 1, &vt, 1, &superb)
        return s
    }
}

extension LinearAlgebra {
    /// Sets the number of BLAS threads (OpenBLAS `openblas_set_num_threads`, looked up at run
    /// time so other BLAS builds still link). Returns `false` when the BLAS has no such control
    /// (Accelerate, reference BLAS), in which case nothing changes.
    @discardableResult
    public static func setThreadCount(_ n: Int) -> Bool {
        #if os(Linux)
        guard let sym = dlsym(nil, "openblas_set_num_threads") else { return false }
        typealias SetThreads = @convention(c) (Int32) -> Void
        unsafeBitCast(sym, to: SetThreads.self)(Int32(max(1, n)))
        return true
        #else
        return false
        #endif
    }

    /// The number of BLAS threads (OpenBLAS `openblas_get_num_threads`), `nil` when unknown.
    public static var threadCount: Int? {
        #if os(Linux)
        guard let sym = dlsym(nil, "openblas_get_num_threads") else { return nil }
        typealias GetThreads = @convention(c) () -> Int32
        return Int(unsafeBitCast(sym, to: GetThreads.self)())
        #else
        return nil
        #endif
    }
}
