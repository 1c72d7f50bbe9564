import CLAPACK

extension LinearAlgebra {
    /// Inequality-constrained least squares by a primal active-set method (Nocedal & Wright,
    /// *Numerical Optimization*, §16.5): `min ‖E·d − f‖` subject to `G·d ≥ h`, from a feasible
    /// `start`. Each iteration solves the problem on the working set's null space (QR of the
    /// working constraints, then an SVD least-squares solve), steps to the first blocking
    /// constraint, and drops a working constraint whose multiplier is negative. Unlike the
    /// least-distance route (`inequalityLeastSquares`), it works in the original variables, so
    /// an ill-conditioned `E` (a damped Gauss–Newton step on sloppy fluxes) keeps the
    /// constraints to round-off. `e` is `m×n`, `g` is `k×n`, column-major.
    /// Returns `.failed` on non-finite input, an infeasible `start`, or no convergence in `3(k+n)` steps.
    public static func activeSetLeastSquares(m: Int, n: Int, e: [Double], f: [Double], k: Int, g: [Double], h: [Double],
                                             start: [Double]? = nil) -> ConstrainedSolution {
        var working: [Int] = []
        return activeSetLeastSquares(m: m, n: n, e: e, f: f, k: k, g: g, h: h, start: start, working: &working)
    }

    /// As above, warm-started: `working` holds constraints to try as active first (those not
    /// active at `start` are ignored) and receives the final working set — a sequence of
    /// similar problems (the steps of one descent) then mostly needs one solve each.
    public static func activeSetLeastSquares(m: Int, n: Int, e: [Double], f: [Double], k: Int, g: [Double], h: [Double],
                                             start: [Double]?, working initial: inout [Int]) -> ConstrainedSolution {
        guard n > 0, e.count >= m * n, f.count >= m, g.count >= k * n, h.count >= k,
              e.allSatisfy(\.isFinite), f.allSatisfy(\.isFinite), g.allSatisfy(\.isFinite), h.allSatisfy(\.isFinite)
        else { return .failed }
        var d = start ?? [Double](repeating: 0, count: n)
        func row(_ c: Int, _ x: [Double]) -> Double { (0..<n).reduce(0) { $0 + g[c + k * $1] * x[$1] } }
        let rowNorm = (0..<k).map { c in max((0..<n).reduce(0) { $0 + g[c + k * $1] * g[c + k * $1] }.squareRoot(), 1e-300) }
        let tolerance = 1e-12
        guard (0..<k).allSatisfy({ row($0, d) - h[$0] >= -1e-9 * rowNorm[$0] * max(1, abs(h[$0])) }) else { return .failed }
        // Warm start: the given constraints that are active at the start, while independent.
        var working: [Int] = []
        for c in initial where c < k && !working.contains(c) && abs(row(c, d) - h[c]) <= 1e-10 * rowNorm[c] * max(1, abs(h[c])) {
            if working.count + 1 < n, nullSpace(n: n, rows: (working + [c]).map { w in (0..<n).map { g[w + k * $0] } })
                .map({ _ in independent(working + [c], n: n, g: g, k: k) }) == true {
                working.append(c)
            }
        }
        defer { initial = working }
        func residual() -> [Double] {   // E·d − f
            (0..<m).map { i in (0..<n).reduce(-f[i]) { $0 + e[i + m * $1] * d[$1] } }
        }
        for _ in 0..<(3 * (k + n) + 10) {
            // Null space Z of the working constraints (n × (n − w)).
            let w = working.count
            var z: [Double]
            if w == 0 {
                z = [Double](repeating: 0, count: n * n)
                for i in 0..<n { z[i + n * i] = 1 }
            } else {
                guard w < n, let basis = nullSpace(n: n, rows: working.map { c in (0..<n).map { g[c + k * $0] } }) else {
                    // As many working constraints as unknowns: the point is a vertex; test the multipliers.
                    if let drop = negativeMultiplier(m: m, n: n, e: e, r: residual(), working: working, g: g, k: k) {
                        working.remove(at: drop); continue
                    }
                    return .solved(d)
                }
                z = basis
            }
            let free = z.count / n
            // u = argmin ‖(E·Z)·u + (E·d − f)‖, step s = Z·u.
            var ez = [Double](repeating: 0, count: m * free)
            for c in 0..<free { for i in 0..<m { ez[i + m * c] = (0..<n).reduce(0) { $0 + e[i + m * $1] * z[$1 + n * c] } } }
            var rhs = residual().map { -$0 } + [Double](repeating: 0, count: max(0, free - m))
            guard leastSquares(m: m, n: free, nrhs: 1, a: &ez, b: &rhs) != nil else { return .failed }
            let s = (0..<n).map { i in (0..<free).reduce(0) { $0 + z[i + n * $1] * rhs[$1] } }
            let size = s.reduce(0) { max($0, abs($1)) }, scale = max(d.reduce(0) { max($0, abs($1)) }, 1)
            if size <= tolerance * scale {
                if let drop = negativeMultiplier(m: m, n: n, e: e, r: residual(), working: working, g: g, k: k) {
                    working.remove(at: drop); continue
                }
                return .solved(d)
            }
            // Longest step along s that keeps every constraint outside the working set.
            var alpha = 1.0, blocking: Int? = nil
            for c in 0..<k where !working.contains(c) {
                let gs = row(c, s)
                guard gs < -tolerance * rowNorm[c] * size else { continue }
                let limit = max((h[c] - row(c, d)) / gs, 0)
                if limit < alpha { alpha = limit; blocking = c }
            }
            for i in 0..<n { d[i] += alpha * s[i] }
            if let b = blocking { working.append(b) }
        }
        return .failed
    }

    /// `true` when the constraint rows `cs` are linearly independent (QR of their transpose
    /// has no tiny diagonal entry).
    static func independent(_ cs: [Int], n: Int, g: [Double], k: Int) -> Bool {
        let w = cs.count
        guard w <= n, let n32 = lapackSize(n), let w32 = lapackSize(w) else { return false }
        var a = [Double](repeating: 0, count: n * w)
        for (c, con) in cs.enumerated() { for i in 0..<n { a[i + n * c] = g[con + k * i] } }
        let norms = (0..<w).map { c in (0..<n).reduce(0) { $0 + a[$1 + n * c] * a[$1 + n * c] }.squareRoot() }
        var tau = [Double](repeating: 0, count: w)
        guard LAPACKE_dgeqrf(LAPACK_COL_MAJOR, n32, w32, &a, n32, &tau) == 0 else { return false }
        return (0..<w).allSatisfy { abs(a[$0 + n * $0]) > 1e-10 * max(norms[$0], 1e-300) }
    }

    /// An orthonormal basis of the null space of the `rows` (each of length `n`), as the
    /// trailing columns of Q in the QR factorisation of their transpose; `nil` when the rows
    /// leave no null space.
    static func nullSpace(n: Int, rows: [[Double]]) -> [Double]? {
        let w = rows.count
        guard w < n, let n32 = lapackSize(n), let w32 = lapackSize(w) else { return nil }
        var a = [Double](repeating: 0, count: n * n)   // Gᵀ in the first w columns, n×n for dorgqr
        for (c, r) in rows.enumerated() { for i in 0..<n { a[i + n * c] = r[i] } }
        var tau = [Double](repeating: 0, count: n)
        guard LAPACKE_dgeqrf(LAPACK_COL_MAJOR, n32, w32, &a, n32, &tau) == 0 else { return nil }
        guard LAPACKE_dorgqr(LAPACK_COL_MAJOR, n32, n32, w32, &a, n32, tau) == 0 else { return nil }
        return Array(a[(n * w)..<(n * n)])
    }

    /// Index (into `working`) of the working constraint with the most negative Lagrange
    /// multiplier at the current point, or `nil` when all are ≥ 0 (a KKT point). The
    /// multipliers solve `G_Wᵀ·μ = Eᵀ·r` with `r = E·d − f` (least squares).
    static func negativeMultiplier(m: Int, n: Int, e: [Double], r: [Double], working: [Int], g: [Double], k: Int) -> Int? {
        guard !working.isEmpty else { return nil }
        let w = working.count
        var gw = [Double](repeating: 0, count: n * w)
        for (c, con) in working.enumerated() { for j in 0..<n { gw[j + n * c] = g[con + k * j] } }
        var grad = (0..<n).map { j in (0..<m).reduce(0) { $0 + e[$1 + m * j] * r[$1] } } + [Double](repeating: 0, count: max(0, w - n))
        guard leastSquares(m: n, n: w, nrhs: 1, a: &gw, b: &grad) != nil else { return nil }
        let scale = max(grad.reduce(0) { max($0, abs($1)) }, 1e-300)
        var worst: Int? = nil, value = -1e-12 * scale
        for c in 0..<w where grad[c] < value { value = grad[c]; worst = c }
        return worst
    }
}
