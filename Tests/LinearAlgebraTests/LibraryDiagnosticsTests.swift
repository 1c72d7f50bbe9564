import CLAPACK
import Foundation
import LAPACKDiagnostics
import XCTest
@testable import LinearAlgebra
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// BLAS/LAPACK report illegal arguments with printf on standard output (OpenBLAS's
/// `xerbla_`, LAPACKE's `LAPACKE_xerbla`), which corrupted mlflux's JSON. The facade keeps
/// such input away from the libraries, and the LAPACKDiagnostics handlers, interposed over
/// the shared libraries' own, send any report that still happens to standard error.
final class LibraryDiagnosticsTests: XCTestCase {
    /// Runs `body` with file descriptors 1 and 2 redirected to temporary files; returns what
    /// was written to each.
    func captured(_ body: () -> Void) throws -> (stdout: String, stderr: String) {
        fflush(nil)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("la-diag-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outPath = dir.appendingPathComponent("out").path, errPath = dir.appendingPathComponent("err").path
        let savedOut = dup(1), savedErr = dup(2)
        let o = open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600), e = open(errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        dup2(o, 1); dup2(e, 2)
        body()
        fflush(nil)
        dup2(savedOut, 1); dup2(savedErr, 2)
        close(o); close(e); close(savedOut); close(savedErr)
        return (String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
                String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }

    /// Infinite or NaN entries make the facade fail cleanly; LAPACK is never called.
    func testNonFiniteInputIsRejectedBeforeLAPACK() throws {
        let before = LinearAlgebra.diagnosticCount
        let io = try captured {
            var a: [Double] = [.infinity, 1, 1, 1], b: [Double] = [1, 1]
            XCTAssertNil(LinearAlgebra.leastSquares(m: 2, n: 2, nrhs: 1, a: &a, b: &b))
            XCTAssertTrue(b.allSatisfy(\.isNaN), "a failed solve leaves no plausible-looking step: \(b)")
            var c: [Double] = [1, 2, 3, 4], d: [Double] = [.nan, 0]
            XCTAssertNil(LinearAlgebra.leastSquares(m: 2, n: 2, nrhs: 1, a: &c, b: &d))
            var e: [Double] = [1, .nan, 2, 1]
            XCTAssertNil(LinearAlgebra.singularValues(m: 2, n: 2, a: &e))
            var f: [Double] = [2, 1, .infinity, 1]
            var piv = [Int32](repeating: 0, count: 2)
            XCTAssertEqual(LinearAlgebra.luFactor(n: 2, a: &f, lda: 2, pivots: &piv), -1)
            var g: [Double] = [1, 2]
            XCTAssertEqual(LinearAlgebra.luFactor(n: 2, a: &g, lda: 1, pivots: &piv), -1, "lda < n")
            let h: [Double] = [1, 0, 0, 1]; var rhs: [Double] = [1, .infinity]
            XCTAssertFalse(LinearAlgebra.luSolve(n: 2, nrhs: 1, lu: h, lda: 2, pivots: [1, 2], b: &rhs, ldb: 2))
            var big: [Double] = [], bb: [Double] = []
            XCTAssertNil(LinearAlgebra.leastSquares(m: Int(Int32.max) + 1, n: 1, nrhs: 1, a: &big, b: &bb))
        }
        XCTAssertEqual(io.stdout, "")
        XCTAssertEqual(io.stderr, "")
        XCTAssertEqual(LinearAlgebra.diagnosticCount, before, "no illegal-argument report")
    }

    /// Illegal arguments sent to the libraries directly: every report lands on standard
    /// error as mlflux's one line, none on standard output — which proves the handlers are
    /// interposed over the shared OpenBLAS/LAPACKE ones.
    func testLibraryReportsGoToStandardErrorNotStandardOutput() throws {
        #if !os(Linux)
        throw XCTSkip("the handlers interpose over OpenBLAS/LAPACKE on Linux; Accelerate keeps its own")
        #endif
        let before = LinearAlgebra.diagnosticCount
        let io = try captured {
            // dgelsd scales by the matrix norm: an infinite entry makes DLASCL reject its
            // scale factor (xerbla_ from inside LAPACK; the σ = 1e-160 failure).
            var a: [Double] = [.infinity, 1, 1, 1], b: [Double] = [1, 1], s: [Double] = [0, 0]
            var rank: Int32 = 0
            _ = LAPACKE_dgelsd(LAPACK_COL_MAJOR, 2, 2, 1, &a, 2, &b, 2, &s, -1, &rank)
            // LAPACK's argument check (xerbla_): lda < n.
            var c: [Double] = [1, 2, 3, 4]
            var piv: [Int32] = [0, 0]
            _ = LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, 2, 2, &c, 1, &piv)
            // LAPACKE's own argument check (LAPACKE_xerbla): no such matrix layout.
            _ = LAPACKE_dgetrf(0, 2, 2, &c, 2, &piv)
            // A BLAS argument check: a negative dimension.
            var x: [Double] = [1], y: [Double] = [0]
            cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, -1, 1, 1, 1, x, 1, x, 1, 0, &y, 1)
        }
        XCTAssertFalse(io.stdout.contains("On entry to"), "LAPACK printed on stdout: \(io.stdout)")
        XCTAssertFalse(io.stdout.contains("Wrong parameter"), "LAPACKE printed on stdout: \(io.stdout)")
        XCTAssertEqual(io.stdout, "")
        XCTAssertTrue(io.stderr.contains("linear-algebra routine DLASCL rejected argument"), io.stderr)
        XCTAssertTrue(io.stderr.contains("routine DGETRF rejected argument 4"), io.stderr)
        XCTAssertTrue(io.stderr.contains("routine LAPACKE_dgetrf rejected argument 1"), io.stderr)
        XCTAssertTrue(io.stderr.contains("DGEMM"), io.stderr)
        XCTAssertGreaterThanOrEqual(LinearAlgebra.diagnosticCount - before, 4)
    }
}
