import Foundation
import LinearAlgebra
import MLFluxCore

/// Where one constrained Levenberg–Marquardt descent ended: parameters, cost (Σ r²),
/// iterations, the residuals and column-major Jacobian there, and why it stopped.
struct Descent {
    var p: [Double]
    var cost: Double
    var it: Int
    var J: [Double]
    var r: [Double]
    var converged: Bool
    var reason: String
}

extension LeastSquaresMFA {
    /// The constraints in parameter space at `p`, linearised: rows `G` (k × P, column-major)
    /// and `h` such that a step `d` keeps them when `G·d ≥ h`. Every flux constraint
    /// `g·θ ⋛ c` of the basis (bounds of dependent fluxes, one-way net ≥ 0, exchange ≥ 0)
    /// plus the box of each parameter. Net-flux constraints are linear in the parameters,
    /// so for them the linearisation is exact.
    func linearisedConstraints(at p: [Double]) -> (g: [Double], h: [Double], k: Int) {
        let t = theta(p)
        let ps = (0..<basis.count).filter { basis.fixed[$0] == nil }
        var rows: [[Double]] = [], h: [Double] = []
        let padding = [Double](repeating: 0, count: p.count - ps.count)   // dilution shares: boxes only
        for con in basis.freeConstraints + pinned {
            let grad = ps.map { con.coefficients[$0] * chain($0, t) } + padding
            guard grad.contains(where: { $0 != 0 }) else { continue }
            let value = con.lhs(t) - con.constant
            switch con.relation {
            case .greaterOrEqual: rows.append(grad); h.append(-value)
            case .lessOrEqual: rows.append(grad.map { -$0 }); h.append(value)
            case .equal:
                rows.append(grad); h.append(-value)
                rows.append(grad.map { -$0 }); h.append(value)
            }
        }
        for (i, b) in paramBounds.enumerated() {
            var up = [Double](repeating: 0, count: p.count), down = up
            up[i] = 1; down[i] = -1
            rows.append(up); h.append(b.0 - p[i])
            rows.append(down); h.append(p[i] - b.1)
        }
        let k = rows.count, P = p.count
        var g = [Double](repeating: 0, count: k * P)
        for (c, row) in rows.enumerated() { for j in 0..<P { g[c + k * j] = row[j] } }
        return (g, h, k)
    }

    /// The largest violation of the flux constraints and parameter boxes at `p` (0 when
    /// feasible), scaled by the constraint's coefficient norm.
    func violation(at p: [Double]) -> Double {
        let t = theta(p)
        var worst = 0.0
        for con in basis.freeConstraints + pinned {
            // Relative to the constraint's size: the constrained step solves to ~1e-12 relative.
            let norm = max(con.coefficients.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-300) * max(1, abs(con.constant))
            let v = (con.lhs(t) - con.constant) / norm
            switch con.relation {
            case .greaterOrEqual: worst = max(worst, -v)
            case .lessOrEqual: worst = max(worst, v)
            case .equal: worst = max(worst, abs(v))
            }
        }
        for (x, b) in zip(p, paramBounds) { worst = max(worst, (b.0 - x) / max(1, abs(b.0)), (x - b.1) / max(1, abs(b.1))) }
        return worst
    }

    /// The nearest feasible point to `p` (least-distance projection onto the linearised
    /// constraints, repeated for the exchange constraints that are not linear in log10 θ),
    /// or `nil` when the constraints cannot be met.
    func project(_ p: [Double]) -> [Double]? {
        var q = p
        for _ in 0..<5 {
            if violation(at: q) <= 1e-10 { return q }
            let (g, h, k) = linearisedConstraints(at: q)
            guard case .solved(let d) = LinearAlgebra.leastDistance(n: q.count, k: k, g: g, h: h.map { $0 + 1e-12 }) else { return nil }
            q = zip(q, d).map { $0 + $1 }
        }
        return violation(at: q) <= 1e-8 ? q : nil
    }

    /// Levenberg–Marquardt from `start` inside the flux constraints: each step solves
    /// `min ‖J·d + r‖² + λ‖D·d‖²` (D² = diag JᵀJ) subject to the linearised constraints,
    /// by inequality-constrained least squares. λ follows the gain ratio (Nielsen's rule).
    /// Stops at a minimum (an accepted step lowers the cost by less than 1e-12 relative, or no
    /// damping finds a lower point), or after `maxIterations`.
    func constrainedDescent(from start: [Double], _ problem: Problem, sigmaFloor: Double) -> Descent? {
        guard var p = project(start) ?? interior.flatMap({ project(params($0)) }) else { return nil }
        var first = evaluate(p, problem, sigmaFloor: sigmaFloor, jacobian: true)
        if first == nil, let interior, let q = project(params(interior)) {
            // Pull the start towards the interior point until its flux state is valid.
            var alpha = 0.5
            while first == nil && alpha > 1e-3 {
                p = zip(p, q).map { $1 + alpha * ($0 - $1) }
                first = evaluate(p, problem, sigmaFloor: sigmaFloor, jacobian: true)
                alpha /= 2
            }
            if first == nil { p = q; first = evaluate(p, problem, sigmaFloor: sigmaFloor, jacobian: true) }
        }
        guard var current = first else { return nil }
        let P = p.count
        var cost = current.r.reduce(0) { $0 + $1 * $1 }
        var lambda = 1e-3, nu = 2.0
        var it = 0
        var reason = "iteration limit"
        var converged = false
        var working: [Int] = []          // active constraints of the last step (warm start)
        // Round-off floor: MID entries are exact to ~1e-15, so a cost below Σ (1e-15/σ)² is an exact fit.
        // Censored entries at 0 add their floor (2·ln 2 each at μ = 0).
        let floor = problem.censoring?.costFloor ?? 0
        let roundOff = problem.sigma.reduce(0) { $0 + pow(1e-15 / max($1, sigmaFloor), 2) } + floor * (1 + 1e-12)
        var recent: [Double] = [cost]    // cost after each accepted step (stagnation test)
        while it < maxIterations {
            if cost <= roundOff {
                converged = true
                reason = "exact fit: residuals at round-off"
                break
            }
            it += 1
            let m = current.r.count
            let d2 = (0..<P).map { c in (0..<m).reduce(0.0) { $0 + current.J[$1 + m * c] * current.J[$1 + m * c] } }
            let scale = max(d2.max() ?? 1, 1e-300)
            var e = [Double](repeating: 0, count: (m + P) * P)
            for c in 0..<P {
                for i in 0..<m { e[i + (m + P) * c] = current.J[i + m * c] }
                e[m + c + (m + P) * c] = (lambda * max(d2[c], 1e-12 * scale)).squareRoot()
            }
            let f = current.r.map { -$0 } + [Double](repeating: 0, count: P)
            let (g, h, k) = linearisedConstraints(at: p)
            guard case .solved(var step) = LinearAlgebra.activeSetLeastSquares(m: m + P, n: P, e: e, f: f, k: k, g: g, h: h,
                                                                                  start: nil, working: &working) else {
                lambda *= 10
                if lambda > 1e16 { reason = "constrained step could not be solved"; break }
                continue
            }
            // Predicted decrease of the linear model.
            var model = current.r
            for c in 0..<P where step[c] != 0 { for i in 0..<m { model[i] += current.J[i + m * c] * step[c] } }
            let predicted = cost - model.reduce(0) { $0 + $1 * $1 }
            if !(predicted > 0) {
                // The damped model sees no decrease: only a smaller λ could; at a tiny λ this is a minimum.
                if lambda < 1e-9 { converged = true; reason = "minimum: no step predicts a decrease"; break }
                lambda = max(lambda / 100, 1e-10)
                continue
            }
            // Geodesic acceleration (Transtrum & Sethna 2012): a second-order correction along the
            // curved valleys of sloppy fits, where plain steps crawl.
            if geodesicAcceleration, let a = acceleration(p: p, step: step, current: current, problem: problem,
                                                          sigmaFloor: sigmaFloor, damping: e, m: m, P: P, constraints: (g, h, k)) {
                step = zip(step, a).map { $0 + $1 }
            }
            // Exchange constraints are not linear in log10 θ: a step that leaves them by their
            // curvature is projected back (a second-order correction); failing that, shortened.
            var trial = zip(p, step).map { $0 + $1 }
            if violation(at: trial) > 1e-9, let q = project(trial) { trial = q }
            var shrink = 0
            while violation(at: trial) > 1e-9 && shrink < 30 {
                step = step.map { $0 / 2 }
                trial = zip(p, step).map { $0 + $1 }
                shrink += 1
            }
            let next = violation(at: trial) <= 1e-9 ? evaluate(trial, problem, sigmaFloor: sigmaFloor, jacobian: false) : nil
            let trialCost = next.map { $0.r.reduce(0) { $0 + $1 * $1 } } ?? .infinity
            let rho = (cost - trialCost) / predicted
            if rho > 1e-4 {
                let relative = (cost - trialCost) / max(cost, 1e-300)
                guard let j = evaluate(trial, problem, sigmaFloor: sigmaFloor, jacobian: true) else {
                    reason = "invalid flux state"; break
                }
                p = trial
                cost = trialCost
                current = j
                lambda *= max(1.0 / 3, 1 - pow(2 * rho - 1, 3))
                nu = 2
                recent.append(cost)
                // Stagnation: ten accepted steps together lowered the cost by less than 1e-9 relative
                // (round-off level for exact data, or a crawl that no longer pays).
                if recent.count > 10, (recent[recent.count - 11] - cost) <= 1e-9 * recent[recent.count - 11] {
                    converged = true
                    reason = "minimum: ten steps lowered the objective by less than 1e-9"
                    break
                }
                // A small decrease under heavy damping only means a short step; at small λ it is a minimum.
                if relative < 1e-12 && lambda < 1e-4 {
                    converged = true
                    reason = "minimum: relative decrease below 1e-12"
                    break
                }
            } else {
                lambda *= nu
                nu *= 2
                if lambda > 1e16 {
                    converged = true
                    reason = "minimum: no step lowers the objective"
                    break
                }
            }
        }
        return Descent(p: p, cost: cost, it: it, J: current.J, r: current.r, converged: converged, reason: reason)
    }
}

extension LeastSquaresMFA {
    /// The geodesic acceleration of a Levenberg–Marquardt step `step` (the velocity): the
    /// second directional derivative of the residuals r'' ≈ (2/h)·((r(p + h·δ) − r(p))/h − J·δ)
    /// (h = 0.1), then `a` from the same damped, constrained least-squares problem with
    /// right-hand side −r''/2 and the constraints shifted by the step, so p + δ + a keeps the
    /// linearised constraints. `nil` when the correction is not small beside the step
    /// (2‖a‖ > 0.75‖δ‖: the quadratic model is not to be trusted) or cannot be computed.
    func acceleration(p: [Double], step: [Double], current: (r: [Double], J: [Double]), problem: Problem,
                      sigmaFloor: Double, damping e: [Double], m: Int, P: Int,
                      constraints: (g: [Double], h: [Double], k: Int)) -> [Double]? {
        let h = 0.1
        let probe = zip(p, step).map { $0 + h * $1 }
        guard violation(at: probe) <= 1e-9,
              let rp = evaluate(probe, problem, sigmaFloor: sigmaFloor, jacobian: false)?.r, rp.count == m else { return nil }
        var rhs = [Double](repeating: 0, count: m + P)
        for i in 0..<m {
            var jd = 0.0
            for c in 0..<P where step[c] != 0 { jd += current.J[i + m * c] * step[c] }
            let second = (2 / h) * ((rp[i] - current.r[i]) / h - jd)
            rhs[i] = -0.5 * second
        }
        let (g, hc, k) = constraints
        var shifted = hc
        for row in 0..<k {
            var gd = 0.0
            for c in 0..<P { gd += g[row + k * c] * step[c] }
            shifted[row] = hc[row] - gd
        }
        var working: [Int] = []
        guard case .solved(let a) = LinearAlgebra.activeSetLeastSquares(m: m + P, n: P, e: e, f: rhs, k: k, g: g, h: shifted,
                                                                           start: [Double](repeating: 0, count: P),
                                                                           working: &working) else { return nil }
        // ‖·‖ in the damping metric D (the bottom rows of `e` are √λ·D).
        func norm(_ v: [Double]) -> Double {
            var s = 0.0
            for c in 0..<P { let d = e[m + c + (m + P) * c]; s += d * d * v[c] * v[c] }
            return s.squareRoot()
        }
        let nv = norm(step)
        guard nv > 0, 2 * norm(a) <= 0.75 * nv, a.allSatisfy(\.isFinite) else { return nil }
        return a
    }
}

@inline(__always) func pow10(_ x: Double) -> Double { pow(10, x) }
