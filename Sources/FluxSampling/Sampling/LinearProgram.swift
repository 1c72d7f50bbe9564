/// A small dense linear program over free variables: maximise `c·z` subject to `A z ≤ b`,
/// `z ∈ ℝ^d` unrestricted in sign.
///
/// Solved by the two-phase tableau simplex: every free variable is split as `z = z⁺ − z⁻`,
/// every row gets a slack, rows with `b < 0` are negated and get an artificial variable.
/// Phase 1 minimises the sum of the artificials (a positive optimum means no feasible
/// point), phase 2 the objective. Entering column: largest reduced cost (Dantzig), switching
/// to Bland's rule after a run of degenerate pivots, so that degenerate vertices (flux
/// bounds meeting at a point are common) cannot make it cycle.
///
/// The polytopes of flux sampling are small (CCM: about 20 variables, 100 rows), so a dense
/// tableau is simpler and fast enough: one solve is O(iterations · rows · (2d + rows)).
struct LinearProgram: Sendable {
    /// Row-major `[rows × columns]`.
    let a: [Double]
    let b: [Double]
    let rows: Int
    let columns: Int

    enum Outcome: Equatable {
        case optimal(point: [Double], value: Double)
        case infeasible
        case unbounded
        /// The iteration cap was hit (numerically troubled problem).
        case stalled
    }

    init(a: [Double], b: [Double], rows: Int, columns: Int) {
        precondition(a.count == rows * columns && b.count == rows, "LP shape mismatch")
        self.a = a
        self.b = b
        self.rows = rows
        self.columns = columns
    }

    /// Maximises `c·z` (`c.count == columns`).
    func maximize(_ c: [Double]) -> Outcome {
        precondition(c.count == columns)
        var t = Tableau(self)
        return t.solve(objective: c)
    }

    /// Whether some `z` satisfies `A z ≤ b`.
    var isFeasible: Bool {
        maximize([Double](repeating: 0, count: columns)) != .infeasible
    }
}

/// The simplex tableau `[B⁻¹A | B⁻¹b]` with a reduced-cost row.
private struct Tableau {
    let m: Int, d: Int
    /// Columns: z⁺ (d), z⁻ (d), slacks (m), artificials (k).
    let n: Int
    let firstArtificial: Int
    var t: [Double]  // m × (n + 1), last column = right-hand side
    var reduced: [Double]  // n + 1, last entry = −objective value
    var basis: [Int]
    let scale: Double

    var stride: Int { n + 1 }

    init(_ lp: LinearProgram) {
        m = lp.rows
        d = lp.columns
        let negative = lp.b.filter { $0 < 0 }.count
        firstArtificial = 2 * d + m
        n = firstArtificial + negative
        t = [Double](repeating: 0, count: m * (n + 1))
        reduced = [Double](repeating: 0, count: n + 1)
        basis = [Int](repeating: 0, count: m)
        let rowScale = (0..<lp.rows).map { i in Self.rowScale(lp.a[(i * lp.columns)..<((i + 1) * lp.columns)]) }
        scale = max(1, (0..<lp.rows).reduce(0.0) { max($0, abs(lp.b[$1]) * rowScale[$1]) })
        var art = firstArtificial
        let w = n + 1
        for i in 0..<m {
            let sign: Double = (lp.b[i] < 0 ? -1 : 1) * rowScale[i]
            for j in 0..<d {
                let v = sign * lp.a[i * d + j]
                t[i * w + j] = v
                t[i * w + d + j] = -v
            }
            t[i * w + 2 * d + i] = sign < 0 ? -1 : 1
            t[i * w + n] = sign * lp.b[i]
            if sign < 0 {
                t[i * w + art] = 1
                basis[i] = art
                art += 1
            } else {
                basis[i] = 2 * d + i
            }
        }
    }

    /// Row equilibration: a power of two near 1 / (largest |coefficient|), exact to apply, so
    /// that the pivot tolerances mean the same on a row of flux bounds (coefficients 1) and one
    /// of biomass coefficients (10⁴–10⁵); the feasible set and the optimum are unchanged.
    static func rowScale(_ row: ArraySlice<Double>) -> Double {
        let top = row.reduce(0.0) { max($0, abs($1)) }
        guard top > 0, top.isFinite else { return 1 }
        return Double(sign: .plus, exponent: -Int(top.exponent), significand: 1)
    }

    mutating func solve(objective c: [Double]) -> LinearProgram.Outcome {
        // Phase 1: maximise −Σ artificials.
        if firstArtificial < n {
            var cost = [Double](repeating: 0, count: n)
            for j in firstArtificial..<n { cost[j] = -1 }
            setObjective(cost)
            switch iterate(allowArtificial: true) {
            case .unbounded: return .stalled  // the phase-1 objective is bounded: only round-off gets here
            case .stalled: return .stalled
            case .optimal: break
            }
            if -reduced[n] < -1e-9 * scale { return .infeasible }
            // Drive artificials at zero out of the basis where a real column can replace them.
            for i in 0..<m where basis[i] >= firstArtificial {
                if let j = (0..<firstArtificial).max(by: { abs(t[i * stride + $0]) < abs(t[i * stride + $1]) }),
                   abs(t[i * stride + j]) > 1e-9 {
                    pivot(row: i, column: j)
                }
            }
        }
        // Phase 2.
        var cost = [Double](repeating: 0, count: n)
        for j in 0..<d {
            cost[j] = c[j]
            cost[d + j] = -c[j]
        }
        setObjective(cost)
        switch iterate(allowArtificial: false) {
        case .unbounded: return .unbounded
        case .stalled: return .stalled
        case .optimal: break
        }
        var z = [Double](repeating: 0, count: d)
        for i in 0..<m {
            let j = basis[i]
            if j < d { z[j] += t[i * stride + n] } else if j < 2 * d { z[j - d] -= t[i * stride + n] }
        }
        return .optimal(point: z, value: zip(c, z).reduce(0) { $0 + $1.0 * $1.1 })
    }

    /// Reduced costs `r_j = cost_j − Σ_i cost_{basis[i]} T[i, j]` and the objective value.
    mutating func setObjective(_ cost: [Double]) {
        for j in 0..<n { reduced[j] = cost[j] }
        reduced[n] = 0
        for i in 0..<m {
            let cb = cost[basis[i]]
            if cb == 0 { continue }
            for j in 0...n { reduced[j] -= cb * t[i * stride + j] }
        }
    }

    private enum Step { case optimal, unbounded, stalled }

    private mutating func iterate(allowArtificial: Bool) -> Step {
        let limit = allowArtificial ? n : firstArtificial
        let tol = 1e-10
        var degenerate = 0
        var iterations = 0
        while true {
            iterations += 1
            if iterations > 50 * (m + n) + 1000 { return .stalled }
            // Entering column.
            var q = -1
            if degenerate < 50 {
                var best = tol
                for j in 0..<limit where reduced[j] > best { best = reduced[j]; q = j }
            } else {
                for j in 0..<limit where reduced[j] > tol { q = j; break }
            }
            if q < 0 { return .optimal }
            // Ratio test (ties: smallest basic index, Bland).
            var p = -1
            var ratio = Double.infinity
            for i in 0..<m {
                let aiq = t[i * stride + q]
                if aiq > 1e-9 {
                    let r = max(t[i * stride + n], 0) / aiq
                    if r < ratio - 1e-12 || (abs(r - ratio) <= 1e-12 && p >= 0 && basis[i] < basis[p]) {
                        ratio = r
                        p = i
                    }
                }
            }
            if p < 0 { return .unbounded }
            degenerate = ratio <= 1e-12 ? degenerate + 1 : 0
            pivot(row: p, column: q)
        }
    }

    mutating func pivot(row p: Int, column q: Int) {
        let w = stride
        let m = self.m
        t.withUnsafeMutableBufferPointer { t in
            let inv = 1 / t[p * w + q]
            for j in 0..<w { t[p * w + j] *= inv }
            t[p * w + q] = 1
            for i in 0..<m where i != p {
                let f = t[i * w + q]
                if f == 0 { continue }
                for j in 0..<w { t[i * w + j] -= f * t[p * w + j] }
                t[i * w + q] = 0
            }
            let f = reduced[q]
            if f != 0 {
                for j in 0..<w { reduced[j] -= f * t[p * w + j] }
                reduced[q] = 0
            }
        }
        basis[p] = q
    }
}
