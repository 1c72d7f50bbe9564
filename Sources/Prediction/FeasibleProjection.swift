import LinearAlgebra
import MLFluxCore

/// The nearest feasible free-flux vector to a prediction that leaves the flux polytope.
///
/// A network's mean is not constrained: from noisy MIDs it can put a small one-way flux
/// (glycolysis: the 0.049 effluxes) below 0, which no flux state allows and the simulator
/// refuses. `project` moves θ to the point of the polytope (`basis.freeConstraints`, fixed
/// entries kept) nearest in the metric of the prediction's own standard errors,
/// `min Σ ((θ_k − θ̂_k)/s_k)²` — the least-distance problem in `z = (θ − θ̂)/s` (Lawson–Hanson
/// `leastDistance`). Inequalities are met with a margin of 1e-10·max(1, |b|), so round-off
/// never leaves a one-way flux at −1e-16. A feasible θ̂ is returned unchanged.
/// - Complexity: one NNLS with one variable per constraint; only when θ̂ is infeasible.
enum FeasibleProjection {
    static func project(_ theta: [Double], scale: [Double], basis: FreeFluxBasis) -> [Double] {
        // NNLS on rows of very different scales meets the constraints only approximately:
        // repeat from the improved point, then fall back to the plain Euclidean metric.
        var current = theta
        for metric in [scale, [Double](repeating: 1, count: scale.count)] {
            for _ in 0..<4 {
                guard basis.freeConstraints.contains(where: { !$0.isSatisfied(by: current, tolerance: 0) }) else { return current }
                guard let next = step(current, scale: metric, basis: basis) else { break }
                current = next
            }
        }
        return current
    }

    /// One least-distance solve from `theta`, or nil when it fails.
    static func step(_ theta: [Double], scale: [Double], basis: FreeFluxBasis) -> [Double]? {
        let constraints = basis.freeConstraints
        let free = (0..<basis.count).filter { basis.fixed[$0] == nil }
        let n = free.count
        guard n > 0 else { return nil }
        let s = free.map { k in max(scale[k].isFinite ? scale[k] : 0, 1e-6 * max(1, abs(theta[k]))) }
        var rows: [(g: [Double], h: Double)] = []
        for c in constraints {
            let g = (0..<n).map { c.coefficients[free[$0]] * s[$0] }
            let slack = c.constant - c.lhs(theta)
            let margin = 1e-10 * max(1, abs(c.constant))
            switch c.relation {
            case .greaterOrEqual: rows.append((g, slack + margin))
            case .lessOrEqual: rows.append((g.map { -$0 }, -slack + margin))
            case .equal:
                rows.append((g, slack))
                rows.append((g.map { -$0 }, -slack))
            }
        }
        let k = rows.count
        var gm = [Double](repeating: 0, count: k * n)
        for (i, r) in rows.enumerated() { for j in 0..<n { gm[i + k * j] = r.g[j] } }
        guard case .solved(let z) = LinearAlgebra.leastDistance(n: n, k: k, g: gm, h: rows.map(\.h)) else { return nil }
        var out = theta
        for (j, kk) in free.enumerated() { out[kk] += s[j] * z[j] }
        return out
    }
}
