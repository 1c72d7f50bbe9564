import MLFluxCore

/// A linear constraint over the variables of one part (net or exchange): `g·x (relation) h`.
struct LinearRow: Sendable {
    var g: [Double]
    var relation: FluxConstraint.Relation
    var h: Double
    var origin: String
}

/// A polytope in the coordinates that remain free after its equalities:
/// `x = origin + directions · z` with `A z ≤ b`, `z ∈ ℝ^dimension`.
///
/// The equalities (given and implicit) are solved by reduced row echelon form, so every
/// coordinate `z_k` is one of the variables, `x[coordinates[k]]`, and the others follow from
/// them: uniform sampling in `z` is uniform on the polytope (the map is affine with a
/// constant Jacobian). Implicit equalities — inequalities that hold with equality at every
/// feasible point, e.g. `a ≤ 1` and `a ≥ 1` from two different constraints — are detected
/// when the largest inscribed ball (Chebyshev radius) is 0, by minimising each row's slack,
/// and eliminated the same way, so the reduced polytope is full-dimensional.
struct ReducedPolytope: Sendable {
    let names: [String]
    /// `n`: number of variables `x`.
    var variableCount: Int { names.count }
    /// `d`: number of coordinates `z`.
    let dimension: Int
    let origin: [Double]
    /// Row-major `[n × d]`.
    let directions: [Double]
    /// `z_k = x[coordinates[k]]`.
    let coordinates: [Int]
    /// Row-major `[rows × d]`.
    let a: [Double]
    let b: [Double]
    var rows: Int { b.count }
    /// Center of the largest ball inside `{A z ≤ b}` in the scaled coordinates (see `init`),
    /// mapped to `z`; its radius in the scaled coordinates (∞ when `d == 0`).
    let chebyshevCenter: [Double]
    let chebyshevRadius: Double
    /// Bounds of every variable over the polytope, with the LP optima (z) that attain them.
    let bounds: [(lower: Double, upper: Double)]
    let extremePoints: [[Double]]

    /// `x` for coordinates `z`. - Complexity: O(n · d).
    func point(_ z: [Double]) -> [Double] {
        var x = origin
        let d = dimension
        if d == 0 { return x }
        for i in 0..<variableCount {
            var s = x[i]
            for k in 0..<d { s += directions[i * d + k] * z[k] }
            x[i] = s
        }
        return x
    }

    /// Whether `A z ≤ b` holds (within `slack` absolute tolerance). - Complexity: O(rows · d).
    func contains(_ z: [Double], slack: Double = 0) -> Bool {
        let d = dimension
        for i in 0..<rows {
            var s = 0.0
            for k in 0..<d { s += a[i * d + k] * z[k] }
            if s > b[i] + slack { return false }
        }
        return true
    }

    /// Every row has a single nonzero coefficient: the polytope is the box `bounds` of its coordinates.
    var isBox: Bool {
        let d = dimension
        return (0..<rows).allSatisfy { i in (0..<d).filter { a[i * d + $0] != 0 }.count == 1 }
    }

    /// Reduces `rows` over variables `names`.
    /// - Throws: `FluxSamplingError.infeasible` naming an irreducible infeasible subset of the
    ///   rows, `.unbounded` naming a variable without a lower or upper bound.
    ///
    /// The variables are scaled first (`x = s ⊙ x'`, `s` from `variableScales`), so that the LPs
    /// and the interior test see coefficients of one magnitude: a growth rate of 0.7 h⁻¹ tied to
    /// drains of 10⁴ µmol/g/h by biomass coefficients would otherwise make the simplex's
    /// tolerances meaningless. Everything stored is mapped back to unscaled `x` and `z`.
    init(names: [String], rows unscaled: [LinearRow]) throws {
        let n = names.count
        let s = Self.variableScales(unscaled, variableCount: n)
        let rows = unscaled.map { r in LinearRow(g: zip(r.g, s).map { $0 * $1 }, relation: r.relation, h: r.h, origin: r.origin) }
        let equalities = rows.filter { $0.relation == .equal }
        let inequalities = rows.filter { $0.relation != .equal }
        func infeasible() -> FluxSamplingError {
            .infeasible(constraints: irreducibleInfeasibleSubset(rows: rows, variableCount: n))
        }

        // Stage 1: the given equalities.
        guard var frame = AffineFrame(variableCount: n, equalities: equalities.map { ($0.g, $0.h) }) else {
            throw infeasible()
        }
        var ineq = try Self.project(inequalities.map { ($0.relation == .lessOrEqual ? $0.g : $0.g.map { -$0 },
                                                      $0.relation == .lessOrEqual ? $0.h : -$0.h) },
                                   frame: frame, onEmpty: infeasible)
        // Stage 2: implicit equalities, until the polytope has an interior.
        var center: [Double] = [], radius = 0.0
        for round in 0..<4 {
            guard let ball = Self.chebyshevBall(ineq, dimension: frame.dimension) else { throw infeasible() }
            (center, radius) = ball
            let scale = max(1, ineq.b.reduce(0) { max($0, abs($1)) })
            if frame.dimension == 0 || radius > 1e-9 * scale { break }
            if round == 3 { throw FluxSamplingError.numericalFailure("the interior of the polytope (\(names.joined(separator: ", ")))") }
            let d = frame.dimension
            let lp = LinearProgram(a: ineq.a, b: ineq.b, rows: ineq.b.count, columns: d)
            var implicit: [([Double], Double)] = []
            for i in 0..<ineq.b.count {
                let row = Array(ineq.a[(i * d)..<((i + 1) * d)])
                if case .optimal(_, let value) = lp.maximize(row.map { -$0 }),
                   ineq.b[i] + value <= 1e-9 * max(1, abs(ineq.b[i])) {
                    implicit.append((row, ineq.b[i]))
                }
            }
            guard !implicit.isEmpty,
                  let inner = AffineFrame(variableCount: d, equalities: implicit) else { throw infeasible() }
            frame = frame.composed(with: inner)
            ineq = try Self.project(ineq.rowsAsPairs, frame: inner, onEmpty: infeasible)
        }

        // Redundant rows (implied by the others) only slow hit-and-run down: drop them.
        let d = frame.dimension
        ineq = Self.withoutRedundantRows(ineq)

        // Bounds of every variable, with the vertices attaining them.
        let lp = LinearProgram(a: ineq.a, b: ineq.b, rows: ineq.b.count, columns: d)
        var bounds: [(lower: Double, upper: Double)] = []
        var extremes: [[Double]] = []
        for i in 0..<n {
            let row = Array(frame.directions[(i * d)..<((i + 1) * d)])
            if row.allSatisfy({ $0 == 0 }) {
                bounds.append((frame.origin[i], frame.origin[i]))
                continue
            }
            var range = (lower: 0.0, upper: 0.0)
            for (sign, direction) in [(1.0, "upper"), (-1.0, "lower")] {
                switch lp.maximize(row.map { sign * $0 }) {
                case .optimal(let z, let value):
                    extremes.append(z)
                    if sign > 0 { range.upper = frame.origin[i] + value } else { range.lower = frame.origin[i] - value }
                case .unbounded:
                    throw FluxSamplingError.unbounded(flux: names[i], direction: direction)
                case .infeasible:
                    throw infeasible()
                case .stalled:
                    throw FluxSamplingError.numericalFailure("the \(direction) bound of '\(names[i])'")
                }
            }
            bounds.append((min(range.lower, range.upper), max(range.lower, range.upper)))
        }

        // Back to unscaled variables: x_i = s_i x'_i and z_k = s_{c_k} z'_k.
        let zs = frame.coordinates.map { s[$0] }
        self.names = names
        dimension = d
        origin = zip(frame.origin, s).map { $0 * $1 }
        directions = (0..<(n * d)).map { frame.directions[$0] * s[$0 / d] / zs[$0 % d] }
        coordinates = frame.coordinates
        a = (0..<ineq.a.count).map { ineq.a[$0] / zs[$0 % d] }
        b = ineq.b
        chebyshevCenter = zip(center, zs).map { $0 * $1 }
        chebyshevRadius = d == 0 ? .infinity : radius
        self.bounds = zip(bounds, s).map { ($0.lower * $1, $0.upper * $1) }
        extremePoints = extremes.map { zip($0, zs).map { $0 * $1 } }
    }

    /// Per-variable scale `s_j`: a power of two near `1 / √(max·min)` of the nonzero |coefficients|
    /// of column `j` (geometric scaling; powers of two scale without round-off), 1 for a column
    /// without coefficients.
    static func variableScales(_ rows: [LinearRow], variableCount n: Int) -> [Double] {
        (0..<n).map { j in
            var lo = Double.infinity, hi = 0.0
            for r in rows where r.g[j] != 0 && r.g[j].isFinite {
                lo = min(lo, abs(r.g[j])); hi = max(hi, abs(r.g[j]))
            }
            guard hi > 0 else { return 1 }
            return Double(sign: .plus, exponent: -Int((lo.exponent + hi.exponent) / 2), significand: 1)
        }
    }

    /// Inequalities `A z ≤ b` in the coordinates of a frame.
    struct Inequalities {
        var a: [Double] = []
        var b: [Double] = []
        let dimension: Int
        var rowsAsPairs: [([Double], Double)] {
            (0..<b.count).map { (Array(a[($0 * dimension)..<(($0 + 1) * dimension)]), b[$0]) }
        }
    }

    /// Substitutes `x = origin + D z` into `g x ≤ h`; rows that become constant are checked and dropped.
    private static func project(_ rows: [([Double], Double)], frame: AffineFrame,
                                onEmpty: () -> FluxSamplingError) throws -> Inequalities {
        let n = frame.variableCount, d = frame.dimension
        var out = Inequalities(dimension: d)
        for (g, h) in rows {
            var p = [Double](repeating: 0, count: d)
            var rhs = h
            for i in 0..<n where g[i] != 0 {
                rhs -= g[i] * frame.origin[i]
                for k in 0..<d { p[k] += g[i] * frame.directions[i * d + k] }
            }
            let gScale = g.reduce(0) { max($0, abs($1)) }
            for k in 0..<d where abs(p[k]) <= 1e-12 * gScale { p[k] = 0 }
            if p.allSatisfy({ $0 == 0 }) {
                if rhs < -1e-9 * max(1, abs(h)) { throw onEmpty() }
                continue
            }
            out.a += p
            out.b.append(rhs)
        }
        return out
    }

    /// Removes each row that the remaining rows imply (max of `a_i z` over them ≤ `b_i`),
    /// one at a time, so that a pair of identical rows loses only one.
    /// - Complexity: one LP per row.
    private static func withoutRedundantRows(_ ineq: Inequalities) -> Inequalities {
        let d = ineq.dimension
        guard d > 0 else { return ineq }
        var rows = ineq.rowsAsPairs
        var i = 0
        while i < rows.count {
            let others = rows.enumerated().filter { $0.offset != i }.map(\.element)
            let lp = LinearProgram(a: others.flatMap(\.0), b: others.map(\.1), rows: others.count, columns: d)
            if case .optimal(_, let value) = lp.maximize(rows[i].0),
               value <= rows[i].1 + 1e-12 * max(1, abs(rows[i].1)) {
                rows.remove(at: i)
            } else {
                i += 1
            }
        }
        return Inequalities(a: rows.flatMap(\.0), b: rows.map(\.1), dimension: d)
    }

    /// Largest ball in `{A z ≤ b}`: maximise r subject to `a_i z + ‖a_i‖ r ≤ b_i`, `0 ≤ r ≤ 10⁶`.
    /// `nil` when the polytope is empty.
    private static func chebyshevBall(_ ineq: Inequalities, dimension d: Int) -> (center: [Double], radius: Double)? {
        let m = ineq.b.count
        if d == 0 { return ineq.b.allSatisfy({ $0 >= -1e-9 * max(1, abs($0)) }) ? ([], .infinity) : nil }
        var a: [Double] = []
        a.reserveCapacity((m + 2) * (d + 1))
        for i in 0..<m {
            let row = ineq.a[(i * d)..<((i + 1) * d)]
            a += row
            a.append(row.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
        a += [Double](repeating: 0, count: d) + [-1]
        a += [Double](repeating: 0, count: d) + [1]
        let lp = LinearProgram(a: a, b: ineq.b + [0, 1e6], rows: m + 2, columns: d + 1)
        var c = [Double](repeating: 0, count: d + 1)
        c[d] = 1
        guard case .optimal(let z, _) = lp.maximize(c) else { return nil }
        return (Array(z[0..<d]), z[d])
    }
}

/// The affine solution set of `E x = f`: `x = origin + directions · z`, `z_k = x[coordinates[k]]`.
struct AffineFrame {
    let variableCount: Int
    let dimension: Int
    let origin: [Double]
    /// Row-major `[variableCount × dimension]`.
    let directions: [Double]
    let coordinates: [Int]

    /// `nil` when the equalities contradict each other.
    /// - Complexity: O(q · n · min(q, n)) for `q` equalities.
    init?(variableCount n: Int, equalities: [([Double], Double)]) {
        let q = equalities.count
        let w = n + 1
        var m = [Double](repeating: 0, count: q * w)
        for (i, (g, h)) in equalities.enumerated() {
            for j in 0..<n { m[i * w + j] = g[j] }
            m[i * w + n] = h
        }
        let scale = max(1e-300, m.reduce(0) { max($0, abs($1)) })
        var pivotColumns: [Int] = []
        var r = 0
        for c in 0..<n where r < q {
            var best = r
            for i in r..<q where abs(m[i * w + c]) > abs(m[best * w + c]) { best = i }
            if abs(m[best * w + c]) <= 1e-10 * scale { continue }
            if best != r { for j in 0..<w { m.swapAt(r * w + j, best * w + j) } }
            let inv = 1 / m[r * w + c]
            for j in 0..<w { m[r * w + j] *= inv }
            for i in 0..<q where i != r {
                let f = m[i * w + c]
                if f != 0 { for j in 0..<w { m[i * w + j] -= f * m[r * w + j] } }
            }
            pivotColumns.append(c)
            r += 1
        }
        let fScale = max(1, equalities.reduce(0) { max($0, abs($1.1)) })
        for i in r..<q where abs(m[i * w + n]) > 1e-9 * fScale { return nil }
        let pivots = Set(pivotColumns)
        let free = (0..<n).filter { !pivots.contains($0) }
        let d = free.count
        var origin = [Double](repeating: 0, count: n)
        var directions = [Double](repeating: 0, count: n * d)
        for (k, c) in free.enumerated() { directions[c * d + k] = 1 }
        for (row, p) in pivotColumns.enumerated() {
            origin[p] = m[row * w + n]
            for (k, c) in free.enumerated() { directions[p * d + k] = -m[row * w + c] }
        }
        variableCount = n
        dimension = d
        self.origin = origin
        self.directions = directions
        coordinates = free
    }

    private init(variableCount: Int, dimension: Int, origin: [Double], directions: [Double], coordinates: [Int]) {
        self.variableCount = variableCount
        self.dimension = dimension
        self.origin = origin
        self.directions = directions
        self.coordinates = coordinates
    }

    /// `x = origin + D (inner.origin + inner.directions · w)`.
    func composed(with inner: AffineFrame) -> AffineFrame {
        let n = variableCount, d = dimension, e = inner.dimension
        var o = origin
        var dirs = [Double](repeating: 0, count: n * e)
        for i in 0..<n {
            for k in 0..<d {
                let v = directions[i * d + k]
                if v == 0 { continue }
                o[i] += v * inner.origin[k]
                for l in 0..<e { dirs[i * e + l] += v * inner.directions[k * e + l] }
            }
        }
        return AffineFrame(variableCount: n, dimension: e, origin: o, directions: dirs,
                           coordinates: inner.coordinates.map { coordinates[$0] })
    }
}

/// An irreducible infeasible subset (deletion filter, Chinneck & Dravnieks 1991): drop each
/// row in turn and keep it dropped when the rest stays infeasible. Equalities count as one row.
/// - Complexity: `rows` LP solves.
func irreducibleInfeasibleSubset(rows: [LinearRow], variableCount n: Int) -> [String] {
    func feasible(_ subset: [LinearRow]) -> Bool {
        var a: [Double] = [], b: [Double] = []
        for r in subset {
            if r.relation != .greaterOrEqual { a += r.g; b.append(r.h) }
            if r.relation != .lessOrEqual { a += r.g.map { -$0 }; b.append(-r.h) }
        }
        if n == 0 { return b.allSatisfy { $0 >= -1e-9 * max(1, abs($0)) } }
        return LinearProgram(a: a, b: b, rows: b.count, columns: n).isFeasible
    }
    var kept = rows
    guard !feasible(kept) else { return rows.map(\.origin) }  // numerically borderline: name all
    var i = 0
    while i < kept.count {
        var trial = kept
        trial.remove(at: i)
        if !feasible(trial) { kept = trial } else { i += 1 }
    }
    return kept.map(\.origin)
}
