import CLAPACK
import LAPACKDiagnostics
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
    /// (LAPACK `dgetrf`). Returns `0` on success, `i > 0` when `U[i-1, i-1]` is exactly zero,
    /// and `-1` without calling LAPACK when `a` holds a NaN or infinity or the sizes are not
    /// valid LAPACK sizes (LAPACK would report those on standard output).
    @inlinable
    public static func luFactor(n: Int, a: UnsafeMutablePointer<Double>, lda: Int,
                                pivots: UnsafeMutablePointer<Int32>) -> Int {
        guard let n32 = lapackSize(n), let lda32 = lapackSize(lda), lda >= max(1, n),
              allFinite(a, rows: n, columns: n, leading: lda) else { return -1 }
        return Int(LAPACKE_dgetrf(LAPACK_COL_MAJOR, n32, n32, a, lda32, pivots))
    }

    /// Solves `A·X = B` in place in `b` (`n×nrhs`, column-major, leading dimension `ldb`)
    /// with the factors from `luFactor` (LAPACK `dgetrs`, no transpose). Returns `false`, with
    /// `b` untouched, when a size is not valid or `b` holds a NaN or infinity.
    @inlinable @discardableResult
    public static func luSolve(n: Int, nrhs: Int, lu: UnsafePointer<Double>, lda: Int,
                               pivots: UnsafePointer<Int32>, b: UnsafeMutablePointer<Double>, ldb: Int) -> Bool {
        guard let n32 = lapackSize(n), let nrhs32 = lapackSize(nrhs), let lda32 = lapackSize(lda),
              let ldb32 = lapackSize(ldb), lda >= max(1, n), ldb >= max(1, n),
              allFinite(UnsafeMutablePointer(mutating: lu), rows: n, columns: n, leading: lda),
              allFinite(b, rows: n, columns: nrhs, leading: ldb) else { return false }
        return LAPACKE_dgetrs(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), n32, nrhs32,
                              lu, lda32, pivots, b, ldb32) == 0
    }

    /// In-place Cholesky factorisation `A = L·Lᵀ` of the symmetric positive definite `n×n`
    /// column-major matrix `a` (LAPACK `dpotrf`, lower triangle; the strict upper triangle is
    /// zeroed). Returns `false` — `a` then unspecified — when `a` is not positive definite,
    /// holds a NaN or infinity, or `n` is not a valid LAPACK size.
    public static func choleskyLower(n: Int, a: inout [Double]) -> Bool {
        guard a.count == n * n, let n32 = lapackSize(n), n > 0,
              a.withUnsafeMutableBufferPointer({ allFinite($0.baseAddress!, rows: n, columns: n, leading: n) }) else { return false }
        let info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "L")), n32, &a, n32)
        guard info == 0 else { return false }
        for c in 0..<n { for r in 0..<c { a[r + n * c] = 0 } }
        return true
    }

    /// Least-squares / minimum-norm solution of `A·X = B` by SVD (LAPACK `dgelsd`).
    /// `a` is `m×n` (destroyed), `b` is `max(m,n)×nrhs` and receives `X` in its first `n` rows.
    /// Returns the effective rank, or `nil` — with `b` set to NaN — when `a` or `b` holds a
    /// NaN or infinity, a size is not a valid LAPACK size, or the SVD did not converge.
    /// Non-finite input never reaches LAPACK (its scaling routine would reject it and
    /// print on standard output).
    @discardableResult
    public static func leastSquares(m: Int, n: Int, nrhs: Int, a: inout [Double], b: inout [Double],
                                    rcond: Double = -1) -> Int? {
        let ldb = max(1, max(m, n))
        guard let m32 = lapackSize(m), let n32 = lapackSize(n), let nrhs32 = lapackSize(nrhs),
              let ldb32 = lapackSize(ldb), a.count >= m * n, b.count >= ldb * nrhs,
              a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite), !rcond.isNaN else {
            for i in b.indices { b[i] = .nan }
            return nil
        }
        if m == 0 || n == 0 || nrhs == 0 { return 0 }
        var s = [Double](repeating: 0, count: min(m, n))
        var rank: Int32 = 0
        let info = LAPACKE_dgelsd(LAPACK_COL_MAJOR, m32, n32, nrhs32, &a, Int32(max(1, m)),
                                  &b, ldb32, &s, rcond, &rank)
        guard info == 0 else {
            for i in b.indices { b[i] = .nan }
            return nil
        }
        return Int(rank)
    }

    /// Singular values of the `m×n` column-major matrix `a` (destroyed), descending; `nil`
    /// when `a` holds a NaN or infinity, a size is not valid, or the SVD did not converge.
    public static func singularValues(m: Int, n: Int, a: inout [Double]) -> [Double]? {
        guard let m32 = lapackSize(m), let n32 = lapackSize(n), a.count >= m * n,
              a.allSatisfy(\.isFinite) else { return nil }
        if m == 0 || n == 0 { return [] }
        var s = [Double](repeating: 0, count: min(m, n))
        var superb = [Double](repeating: 0, count: max(1, min(m, n)))
        var u = [Double](repeating: 0, count: 1)
        var vt = [Double](repeating: 0, count: 1)
        let info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "N")),
                                  m32, n32, &a, Int32(max(1, m)), &s, &u, 1, &vt, 1, &superb)
        return info == 0 ? s : nil
    }

    /// Eigenvalues (ascending) and orthonormal eigenvectors (column-major `n×n`, column `k`
    /// for eigenvalue `k`) of the symmetric `n×n` matrix `a` (column-major; its lower triangle
    /// is read), by LAPACK's divide and conquer (`dsyevd`); `nil` for a NaN or infinity, an
    /// invalid size, or no convergence.
    public static func symmetricEigen(n: Int, a: [Double]) -> (values: [Double], vectors: [Double])? {
        guard let n32 = lapackSize(n), a.count >= n * n, a.allSatisfy(\.isFinite) else { return nil }
        if n == 0 { return ([], []) }
        var v = Array(a[0..<(n * n)])
        var w = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "L")), n32, &v, n32, &w)
        return info == 0 ? (w, v) : nil
    }

    /// `n` as a LAPACK integer (32-bit), or `nil` when negative or too large.
    @inlinable @usableFromInline
    static func lapackSize(_ n: Int) -> Int32? {
        n >= 0 ? Int32(exactly: n) : nil
    }

    /// `true` when the `rows×columns` column-major block at `a` (leading dimension `leading`)
    /// holds no NaN or infinity.
    @inlinable @usableFromInline
    static func allFinite(_ a: UnsafeMutablePointer<Double>, rows: Int, columns: Int, leading: Int) -> Bool {
        for c in 0..<columns {
            for r in 0..<rows where !a[r + leading * c].isFinite { return false }
        }
        return true
    }
}

extension LinearAlgebra {
    /// Illegal-argument reports of BLAS/LAPACK caught so far in this process. The handlers
    /// (`xerbla_`, `LAPACKE_xerbla`, `cblas_xerbla`, in the LAPACKDiagnostics target) write
    /// them to standard error — the libraries' own handlers print to standard output.
    public static var diagnosticCount: Int { Int(mlflux_linear_algebra_diagnostic_count()) }

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
