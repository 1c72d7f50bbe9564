import CLAPACK

/// Least squares under linear inequality constraints, after Lawson & Hanson, *Solving
/// Least Squares Problems* (1974), chapters 23 (NNLS) and 23.4 (LDP, LSI) — the subproblem
/// solver SLSQP uses. Matrices are column-major `[Double]`.
extension LinearAlgebra {
    /// The outcome of a constrained least-squares solve.
    public enum ConstrainedSolution: Equatable, Sendable {
        case solved([Double])
        /// No point satisfies the constraints.
        case infeasible
        /// Non-finite input, a rank-deficient `E`, or no convergence within the iteration cap.
        case failed
    }

    /// Non-negative least squares: `min ‖A·x − b‖` subject to `x ≥ 0` (Lawson–Hanson active set).
    /// `a` is `m×n`. Returns `nil` on non-finite input or when the active set cycles beyond `3n` steps.
    /// - Complexity: O(n) outer steps, each an unconstrained solve on the passive columns, O(m·n²).
    public static func nonNegativeLeastSquares(m: Int, n: Int, a: [Double], b: [Double]) -> [Double]? {
        guard a.count >= m * n, b.count >= m, a.allSatisfy(\.isFinite), b.allSatisfy(\.isFinite) else { return nil }
        var x = [Double](repeating: 0, count: n)
        var passive = [Bool](repeating: false, count: n)
        let scale = max(a.reduce(0) { max($0, abs($1)) }, 1e-300) * max(b.reduce(0) { max($0, abs($1)) }, 1e-300)
        let tolerance = 1e-12 * scale * Double(max(m, n))
        func gradient() -> [Double] {   // w = Aᵀ(b − A·x)
            var residual = Array(b[0..<m])
            for j in 0..<n where x[j] != 0 { for i in 0..<m { residual[i] -= a[i + m * j] * x[j] } }
            return (0..<n).map { j in (0..<m).reduce(0) { $0 + a[$1 + m * j] * residual[$1] } }
        }
        func solvePassive() -> [Double]? {   // unconstrained LS on the passive columns
            let cols = (0..<n).filter { passive[$0] }
            var sub = [Double](repeating: 0, count: m * cols.count)
            for (c, j) in cols.enumerated() { for i in 0..<m { sub[i + m * c] = a[i + m * j] } }
            var rhs = Array(b[0..<m]) + [Double](repeating: 0, count: max(0, cols.count - m))
            guard leastSquares(m: m, n: cols.count, nrhs: 1, a: &sub, b: &rhs) != nil else { return nil }
            var z = [Double](repeating: 0, count: n)
            for (c, j) in cols.enumerated() { z[j] = rhs[c] }
            return z
        }
        var steps = 0
        var w = gradient()
        while steps < 3 * n + 10 {
            guard let t = (0..<n).filter({ !passive[$0] && w[$0] > tolerance }).max(by: { w[$0] < w[$1] }) else { break }
            passive[t] = true
            steps += 1
            while true {
                guard var z = solvePassive() else { return nil }
                if (0..<n).allSatisfy({ !passive[$0] || z[$0] > 0 }) { x = z; break }
                var alpha = 1.0
                for j in 0..<n where passive[j] && z[j] <= 0 {
                    let denominator = x[j] - z[j]
                    if denominator > 0 { alpha = min(alpha, x[j] / denominator) }
                }
                for j in 0..<n { x[j] += alpha * (z[j] - x[j]) }
                for j in 0..<n where passive[j] && x[j] <= 1e-14 * max(1, abs(z[j])) { passive[j] = false; x[j] = 0 }
                steps += 1
                if steps > 3 * n + 10 { return nil }
            }
            w = gradient()
        }
        return x
    }

    /// Least distance: `min ‖z‖` subject to `G·z ≥ h`; `g` is `k×n`. By NNLS on
    /// `[Gᵀ; hᵀ]·u ≈ [0; 1]`: with residual `ρ`, `z = −ρ[0..<n] / ρ[n]`; `ρ = 0` means infeasible.
    public static func leastDistance(n: Int, k: Int, g: [Double], h: [Double]) -> ConstrainedSolution {
        if k == 0 { return .solved([Double](repeating: 0, count: n)) }
        var e = [Double](repeating: 0, count: (n + 1) * k)
        for c in 0..<k {
            for j in 0..<n { e[j + (n + 1) * c] = g[c + k * j] }
            e[n + (n + 1) * c] = h[c]
        }
        var f = [Double](repeating: 0, count: n + 1)
        f[n] = 1
        guard let u = nonNegativeLeastSquares(m: n + 1, n: k, a: e, b: f) else { return .failed }
        var rho = f.map { -$0 }
        for c in 0..<k where u[c] != 0 { for i in 0...n { rho[i] += e[i + (n + 1) * c] * u[c] } }
        let norm = rho.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 1e-12, abs(rho[n]) > 1e-14 else { return .infeasible }
        return .solved((0..<n).map { -rho[$0] / rho[n] })
    }

    /// Inequality-constrained least squares: `min ‖E·x − f‖` subject to `G·x ≥ h`, with `e`
    /// `m×n` of full column rank (m ≥ n) and `g` `k×n`. QR of `E` turns it into a least-distance
    /// problem in `z = R·x − Q₁ᵀf`.
    public static func inequalityLeastSquares(m: Int, n: Int, e: [Double], f: [Double],
                                              k: Int, g: [Double], h: [Double]) -> ConstrainedSolution {
        guard m >= n, n > 0, e.count >= m * n, f.count >= m, g.count >= k * n, h.count >= k,
              let m32 = lapackSize(m), let n32 = lapackSize(n),
              e.allSatisfy(\.isFinite), f.allSatisfy(\.isFinite), g.allSatisfy(\.isFinite), h.allSatisfy(\.isFinite)
        else { return .failed }
        var qr = Array(e[0..<(m * n)])
        var tau = [Double](repeating: 0, count: n)
        guard LAPACKE_dgeqrf(LAPACK_COL_MAJOR, m32, n32, &qr, m32, &tau) == 0 else { return .failed }
        var qf = Array(f[0..<m])
        guard LAPACKE_dormqr(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "L")), Int8(UInt8(ascii: "T")), m32, 1, n32,
                             qr, m32, tau, &qf, m32) == 0 else { return .failed }
        let diagonal = (0..<n).map { abs(qr[$0 + m * $0]) }
        guard let largest = diagonal.max(), largest > 0, diagonal.allSatisfy({ $0 > 1e-14 * largest }) else { return .failed }
        // R⁻¹·v by back substitution (R is the upper triangle of `qr`).
        func solveR(_ v: [Double]) -> [Double] {
            var x = v
            for i in stride(from: n - 1, through: 0, by: -1) {
                var s = x[i]
                for j in (i + 1)..<n { s -= qr[i + m * j] * x[j] }
                x[i] = s / qr[i + m * i]
            }
            return x
        }
        let f1 = Array(qf[0..<n])
        let unconstrained = solveR(f1)
        if k == 0 { return .solved(unconstrained) }
        // Most steps satisfy every constraint unconstrained: then that exact solution is the answer.
        if (0..<k).allSatisfy({ c in (0..<n).reduce(0) { $0 + g[c + k * $1] * unconstrained[$1] } >= h[c] }) {
            return .solved(unconstrained)
        }
        // Ĝ = G·R⁻¹ (k×n): row by row, Ĝᵢ solves Rᵀ·Ĝᵢᵀ = Gᵢᵀ by forward substitution.
        var gHat = [Double](repeating: 0, count: k * n)
        for c in 0..<k {
            for j in 0..<n {
                var s = g[c + k * j]
                for i in 0..<j { s -= qr[i + m * j] * gHat[c + k * i] }
                gHat[c + k * j] = s / qr[j + m * j]
            }
        }
        // ĥ = h − Ĝ·f₁
        let hHat = (0..<k).map { c in h[c] - (0..<n).reduce(0) { $0 + gHat[c + k * $1] * f1[$1] } }
        switch leastDistance(n: n, k: k, g: gHat, h: hHat) {
        case .solved(let z): return .solved(solveR(zip(z, f1).map { $0 + $1 }))
        case .infeasible: return .infeasible
        case .failed: return .failed
        }
    }
}
