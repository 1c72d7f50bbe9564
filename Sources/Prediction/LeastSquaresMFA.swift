import EMU
import LinearAlgebra
import MLFluxCore

/// Classic 13C-MFA: the free fluxes that minimise the variance-weighted sum of squared
/// MID residuals, VSSR = Σ ((simulated − measured)/σ)², by Levenberg–Marquardt with
/// box bounds, using the simulator's analytic Jacobian (forward sensitivities).
///
/// Parameters: free net fluxes as they are; free exchange fluxes as log10(max(θ, floor)),
/// so steps are relative across decades. Starts: `starts` (e.g. an ANN prediction — the
/// hybrid strategy) or, when none, the centre of the bounds plus `randomStarts` seeded
/// points; the best fit wins. Standard errors come from the linearised covariance
/// (JᵀWJ)⁻¹ with σ = the given standard deviations or `defaultStddev`.
public struct LeastSquaresMFA: Sendable {
    public let simulator: EMUSimulator
    public let basis: FreeFluxBasis
    public let network: MetabolicNetwork
    /// Bounds of every free flux (θ order); fixed free fluxes keep their value.
    public let bounds: [(lower: Double, upper: Double)]
    public var exchangeFloor: Double = 1e-4
    public var defaultStddev: Double = 0.01
    public var maxIterations: Int = 60
    public var randomStarts: Int = 4
    public var seed: UInt64 = 1
    public var temperature: Double = Thermodynamics.bodyTemperature
    /// A feasible free-flux vector: starts whose flux state is invalid (e.g. a dependent
    /// efflux below 0) are pulled towards it until valid.
    public var interior: [Double]?
    /// Weight of the penalty residuals that keep the fit inside the flux constraints
    /// (`basis.freeConstraints`: bounds of dependent fluxes, one-way net ≥ 0): each violated
    /// constraint adds `penaltyWeight · violation` to the residuals.
    public var penaltyWeight: Double = 1e4

    public init(simulator: EMUSimulator, basis: FreeFluxBasis, network: MetabolicNetwork,
                bounds: [(lower: Double, upper: Double)], interior: [Double]? = nil) {
        precondition(bounds.count == basis.count)
        self.interior = interior
        self.simulator = simulator
        self.basis = basis
        self.network = network
        self.bounds = bounds
    }

    /// The fit of one measurement.
    public struct Fit: Sendable {
        public var prediction: FluxPrediction
        public var vssr: Double
        public var iterations: Int
    }

    private var parameters: [Int] { (0..<basis.count).filter { basis.fixed[$0] == nil } }
    private func isExchange(_ k: Int) -> Bool { k >= basis.freeNet.count }

    private func theta(_ p: [Double]) -> [Double] {
        var t = [Double](repeating: 0, count: basis.count)
        for (k, v) in basis.fixed { t[k] = v }
        for (i, k) in parameters.enumerated() { t[k] = isExchange(k) ? pow10(p[i]) : p[i] }
        return t
    }

    private func params(_ t: [Double]) -> [Double] {
        parameters.enumerated().map { i, k in
            let v = min(max(t[k], bounds[k].lower), bounds[k].upper)
            return isExchange(k) ? log10(max(v, exchangeFloor)) : v
        }
    }

    private var paramBounds: [(Double, Double)] {
        parameters.map { k in
            isExchange(k) ? (log10(max(bounds[k].lower, exchangeFloor)), log10(max(bounds[k].upper, exchangeFloor)))
                          : (bounds[k].lower, bounds[k].upper)
        }
    }

    /// Weighted residuals and their Jacobian in parameter space, or nil for an invalid state.
    /// Residuals: the measured MID entries, (simulated − measured)/σ, then one penalty row
    /// per flux constraint that `theta` violates.
    private func evaluate(_ p: [Double], measured: MeasuredLabeling, jacobian: Bool) -> (r: [Double], J: [Double])? {
        let t = theta(p)
        let state = basis.fluxState(free: t)
        let rows = measured.mask.indices.filter { measured.mask[$0] }
        let w = rows.map { 1 / (measured.stddev[$0].isFinite ? measured.stddev[$0] : defaultStddev) }
        // Violated constraints: (constraint index, signed violation > 0 when outside).
        var violated: [(Int, Double, Double)] = []   // (index, violation, sign of d violation / d lhs)
        for (c, con) in basis.freeConstraints.enumerated() {
            let v = con.lhs(t) - con.constant
            switch con.relation {
            case .lessOrEqual where v > 0: violated.append((c, v, 1))
            case .greaterOrEqual where v < 0: violated.append((c, -v, -1))
            case .equal where v != 0: violated.append((c, abs(v), v > 0 ? 1 : -1))
            default: break
            }
        }
        let penalty = violated.map { penaltyWeight * $0.1 }
        if !jacobian {
            guard let lab = try? simulator.simulate(state) else { return nil }
            return (zip(rows, w).map { (lab.values[$0] - measured.values[$0]) * $1 } + penalty, [])
        }
        guard let (lab, jac) = try? simulator.simulate(state, basis: basis) else { return nil }
        let r = zip(rows, w).map { (lab.values[$0] - measured.values[$0]) * $1 } + penalty
        let P = parameters.count, m = r.count
        var J = [Double](repeating: 0, count: m * P)   // column-major m × P
        for (c, k) in parameters.enumerated() {
            let scale = isExchange(k) ? t[k] * 2.302_585_092_994_046 : 1
            for (i, row) in rows.enumerated() { J[i + m * c] = jac[row, k] * scale * w[i] }
            for (j, v) in violated.enumerated() {
                J[rows.count + j + m * c] = penaltyWeight * v.2 * basis.freeConstraints[v.0].coefficients[k] * scale
            }
        }
        return (r, J)
    }

    /// Fits one measurement from the given starting free-flux vectors.
    public func fit(_ measured: MeasuredLabeling, starts: [[Double]] = []) -> Fit? {
        var candidates = starts.map(params)
        if candidates.isEmpty {
            let pb = paramBounds
            candidates.append(pb.map { ($0.0 + $0.1) / 2 })
            var rng = SplitMix64(seed: seed)
            for _ in 0..<randomStarts { candidates.append(pb.map { $0.0 + ($0.1 - $0.0) * Double.random(in: 0..<1, using: &rng) }) }
        }
        var best: (p: [Double], cost: Double, it: Int, J: [Double], m: Int)?
        for start in candidates {
            if let f = levenbergMarquardt(from: start, measured: measured), f.cost < (best?.cost ?? .infinity) { best = f }
        }
        guard let best else { return nil }
        // Linearised covariance of the parameters: (JᵀJ)⁻¹.
        let P = parameters.count, m = best.m
        var jtj = [Double](repeating: 0, count: P * P)
        best.J.withUnsafeBufferPointer { jp in
            jtj.withUnsafeMutableBufferPointer { c in
                LinearAlgebra.gemm(transA: true, m: P, n: P, k: m, a: jp.baseAddress!, lda: m, b: jp.baseAddress!, ldb: m,
                                   c: c.baseAddress!, ldc: P)
            }
        }
        var inverse = [Double](repeating: 0, count: P * P)
        for i in 0..<P { inverse[i + P * i] = 1; jtj[i + P * i] += 1e-12 * max(jtj[i + P * i], 1) }
        var piv = [Int32](repeating: 0, count: P)
        let info = LinearAlgebra.luFactor(n: P, a: &jtj, lda: P, pivots: &piv)
        if info == 0 { LinearAlgebra.luSolve(n: P, nrhs: P, lu: jtj, lda: P, pivots: piv, b: &inverse, ldb: P) }
        let t = theta(best.p)
        var se = [Double](repeating: 0, count: basis.count)
        for (i, k) in parameters.enumerated() {
            let sp = info == 0 ? max(inverse[i + P * i], 0).squareRoot() : .infinity
            se[k] = isExchange(k) ? t[k] * 2.302_585_092_994_046 * sp : sp
        }
        return Fit(prediction: FluxPrediction(free: t, freeSE: se, basis: basis, network: network, temperature: temperature),
                   vssr: best.cost, iterations: best.it)
    }

    private func levenbergMarquardt(from start: [Double], measured: MeasuredLabeling)
        -> (p: [Double], cost: Double, it: Int, J: [Double], m: Int)? {
        let pb = paramBounds, P = parameters.count
        var p = zip(start, pb).map { min(max($0, $1.0), $1.1) }
        var first = evaluate(p, measured: measured, jacobian: true)
        if first == nil, let interior {
            // Pull the start towards the interior point until its flux state is valid.
            let q = params(interior)
            var alpha = 0.5
            while first == nil && alpha > 1e-3 {
                p = zip(start, q).map { $1 + alpha * ($0 - $1) }
                p = zip(p, pb).map { min(max($0, $1.0), $1.1) }
                first = evaluate(p, measured: measured, jacobian: true)
                alpha /= 2
            }
            if first == nil { p = q; first = evaluate(p, measured: measured, jacobian: true) }
        }
        guard var cur = first else { return nil }
        var cost = cur.r.reduce(0) { $0 + $1 * $1 }
        var lambda = 1e-3
        var it = 0
        while it < maxIterations {
            it += 1
            let m = cur.r.count
            var a = [Double](repeating: 0, count: P * P), g = [Double](repeating: 0, count: P)
            cur.J.withUnsafeBufferPointer { jp in
                a.withUnsafeMutableBufferPointer { c in
                    LinearAlgebra.gemm(transA: true, m: P, n: P, k: m, a: jp.baseAddress!, lda: m, b: jp.baseAddress!, ldb: m,
                                       c: c.baseAddress!, ldc: P)
                }
            }
            for c in 0..<P { for i in 0..<m { g[c] += cur.J[i + m * c] * cur.r[i] } }
            var improved = false
            for _ in 0..<12 {
                var lhs = a
                for i in 0..<P { lhs[i + P * i] += lambda * max(a[i + P * i], 1e-12) }
                var step = g.map { -$0 }
                var piv = [Int32](repeating: 0, count: P)
                guard LinearAlgebra.luFactor(n: P, a: &lhs, lda: P, pivots: &piv) == 0 else { lambda *= 10; continue }
                LinearAlgebra.luSolve(n: P, nrhs: 1, lu: lhs, lda: P, pivots: piv, b: &step, ldb: P)
                let trial = (0..<P).map { min(max(p[$0] + step[$0], pb[$0].0), pb[$0].1) }
                if let next = evaluate(trial, measured: measured, jacobian: false) {
                    let c = next.r.reduce(0) { $0 + $1 * $1 }
                    if c < cost {
                        let relative = (cost - c) / max(cost, 1e-300)
                        p = trial
                        cost = c
                        lambda = max(lambda / 3, 1e-9)
                        improved = true
                        guard let j = evaluate(p, measured: measured, jacobian: true) else { return nil }
                        cur = j
                        if relative < 1e-12 { return (p, cost, it, cur.J, cur.r.count) }
                        break
                    }
                }
                lambda *= 4
            }
            if !improved { break }
        }
        return (p, cost, it, cur.J, cur.r.count)
    }
}


#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) private func pow10(_ x: Double) -> Double { pow(10, x) }
