import EMU
import LinearAlgebra
import MLFluxCore
import NeuralNetworks

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
    public var maxIterations: Int = 100
    public var randomStarts: Int = 4
    public var seed: UInt64 = 1
    public var temperature: Double = Thermodynamics.bodyTemperature
    /// Continuation for precise data: when the smallest MID σ is below this, the fit first
    /// runs with every σ raised to this floor, then to floors `continuationRatio` times smaller, down to the
    /// data's own σ, each stage starting where the last ended. Steep, narrow valleys of the
    /// VSSR at tiny σ (exact simulated MIDs) are then reached from afar. 0 = off.
    public var continuationStart: Double = 1e-2
    /// Ratio of successive continuation floors.
    public var continuationRatio: Double = 10
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

    /// A Gaussian prior on the free fluxes (e.g. an ANN prediction and its stated σ): the
    /// fit then minimises VSSR + Σ ((p − mean)/σ)² in parameter space (net fluxes as they
    /// are, exchange fluxes in log10), i.e. the maximum a posteriori estimate. Directions
    /// the labeling resolves follow the data; directions it does not keep the prior.
    public struct Prior: Sendable {
        /// Prior means and standard deviations of θ (fixed entries ignored).
        public var mean: [Double]
        public var sd: [Double]
        public init(mean: [Double], sd: [Double]) {
            self.mean = mean
            self.sd = sd
        }
    }

    /// Where one Levenberg–Marquardt run ended: parameters, cost (Σ r²), iterations, and the
    /// residuals and column-major Jacobian there.
    private struct Descent {
        var p: [Double]
        var cost: Double
        var it: Int
        var J: [Double]
        var r: [Double]
    }

    /// The fit of one measurement.
    public struct Fit: Sendable {
        public var prediction: FluxPrediction
        /// Variance-weighted SSR of the labeling alone (prior and penalty terms left out).
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

    /// A standard deviation `sd` of free flux `k` at value `value`, in parameter space:
    /// exchange fluxes through d log10 θ = dθ / (θ ln 10), with θ at least the floor.
    private func parameterSD(_ sd: Double, at value: Double, free k: Int) -> Double {
        isExchange(k) ? sd / (max(value, exchangeFloor) * 2.302_585_092_994_046) : sd
    }

    /// The prior in parameter space: (mean, 1/σ) per parameter.
    private func parameterPrior(_ prior: Prior) -> [(mean: Double, weight: Double)] {
        let means = params(prior.mean)
        return parameters.enumerated().map { i, k in
            let sd = parameterSD(prior.sd[k], at: prior.mean[k], free: k)
            return (means[i], sd.isFinite && sd > 0 ? 1 / sd : 0)
        }
    }

    /// Weighted residuals and their Jacobian in parameter space, or nil for an invalid state.
    /// Residuals: the measured MID entries, (simulated − measured)/σ, then one row per prior
    /// parameter, then one penalty row per flux constraint that `theta` violates.
    private func evaluate(_ p: [Double], measured: MeasuredLabeling, prior: [(mean: Double, weight: Double)],
                          sigmaFloor: Double = 0, jacobian: Bool) -> (r: [Double], J: [Double])? {
        let t = theta(p)
        let state = basis.fluxState(free: t)
        let rows = measured.mask.indices.filter { measured.mask[$0] }
        let w = rows.map { 1 / max(measured.stddev[$0].isFinite ? measured.stddev[$0] : defaultStddev, sigmaFloor) }
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
        let priorRows = zip(p, prior).map { ($0 - $1.mean) * $1.weight }
        if !jacobian {
            guard let lab = try? simulator.simulate(state) else { return nil }
            return (zip(rows, w).map { (lab.values[$0] - measured.values[$0]) * $1 } + priorRows + penalty, [])
        }
        guard let (lab, jac) = try? simulator.simulate(state, basis: basis) else { return nil }
        let r = zip(rows, w).map { (lab.values[$0] - measured.values[$0]) * $1 } + priorRows + penalty
        let P = parameters.count, m = r.count, offset = rows.count + priorRows.count
        var J = [Double](repeating: 0, count: m * P)   // column-major m × P
        for (c, k) in parameters.enumerated() {
            let scale = isExchange(k) ? t[k] * 2.302_585_092_994_046 : 1
            for (i, row) in rows.enumerated() { J[i + m * c] = jac[row, k] * scale * w[i] }
            if !prior.isEmpty { J[rows.count + c + m * c] = prior[c].weight }
            for (j, v) in violated.enumerated() {
                J[offset + j + m * c] = penaltyWeight * v.2 * basis.freeConstraints[v.0].coefficients[k] * scale
            }
        }
        return (r, J)
    }

    /// Fits one measurement from the given starting free-flux vectors; with a `prior`, the
    /// maximum a posteriori estimate (its covariance then includes the prior).
    /// `nil` when no start reaches a valid flux state or `check(measured)` fails (nothing
    /// measured, a non-finite value, a σ below `MeasuredLabeling.minimumStddev`).
    public func fit(_ measured: MeasuredLabeling, starts: [[Double]] = [], prior: Prior? = nil) -> Fit? {
        guard (try? check(measured)) != nil else { return nil }
        let prior = prior.map(parameterPrior) ?? []
        var candidates = starts.map(params)
        if candidates.isEmpty {
            let pb = paramBounds
            candidates.append(pb.map { ($0.0 + $0.1) / 2 })
            var rng = SplitMix64(seed: seed)
            for _ in 0..<randomStarts { candidates.append(pb.map { $0.0 + ($0.1 - $0.0) * Double.random(in: 0..<1, using: &rng) }) }
        }
        var best: Descent?
        let floors = continuationFloors(measured)
        for start in candidates {
            var from = start
            var f: Descent?
            var iterations = 0
            for (stage, floor) in floors.enumerated() {
                // A start already inside this stage's valley (VSSR within the entries' count) skips
                // it: an ANN start usually fits the MIDs far better than 1e-2.
                if stage < floors.count - 1,
                   let r = evaluate(from, measured: measured, prior: prior, sigmaFloor: floor, jacobian: false)?.r,
                   r.reduce(0, { $0 + $1 * $1 }) <= Double(r.count) { continue }
                // Every stage converges fully: stopping intermediate stages early (relative
                // decrease < 1e-4) was 30 % faster but left more fits in side valleys.
                guard let g = levenbergMarquardt(from: from, measured: measured, prior: prior, sigmaFloor: floor) else { break }
                iterations += g.it
                from = g.p
                f = g
            }
            if var f, f.cost < (best?.cost ?? .infinity) {
                f.it = iterations
                best = f
            }
        }
        guard let best else { return nil }
        // Linearised covariance of the parameters: (JᵀJ)⁻¹.
        let P = parameters.count, m = best.r.count
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
        let solved = info == 0 && LinearAlgebra.luSolve(n: P, nrhs: P, lu: jtj, lda: P, pivots: piv, b: &inverse, ldb: P)
        let t = theta(best.p)
        var se = [Double](repeating: 0, count: basis.count)
        for (i, k) in parameters.enumerated() {
            let sp = solved ? max(inverse[i + P * i], 0).squareRoot() : .infinity
            se[k] = isExchange(k) ? t[k] * 2.302_585_092_994_046 * sp : sp
        }
        let dataRows = measured.mask.filter { $0 }.count
        let vssr = best.r[..<dataRows].reduce(0) { $0 + $1 * $1 }
        return Fit(prediction: FluxPrediction(free: t, freeSE: se, basis: basis, network: network, temperature: temperature),
                   vssr: vssr, iterations: best.it)
    }

    /// A free flux `value` moved by a standard normal draw times `sd` (exchange fluxes in
    /// log10, at least 0.1 decade, so the draw is relative), clamped to the bounds.
    public func perturbed(_ value: Double, sd: Double, free k: Int, using rng: inout SplitMix64) -> Double {
        let z = rng.nextGaussian()
        let v = isExchange(k)
            ? pow10(log10(max(value, exchangeFloor)) + z * max(parameterSD(sd, at: value, free: k), 0.1))
            : value + z * sd
        return min(max(v, bounds[k].lower), bounds[k].upper)
    }

    /// σ floors of the continuation stages, the last one 0 (the data's own σ).
    private func continuationFloors(_ measured: MeasuredLabeling) -> [Double] {
        let sigmas = measured.mask.indices.filter { measured.mask[$0] }
            .map { measured.stddev[$0].isFinite ? measured.stddev[$0] : defaultStddev }
        guard continuationStart > 0, let smallest = sigmas.min(), smallest < continuationStart else { return [0] }
        var floors: [Double] = []
        var f = continuationStart
        while f > smallest * 1.5 { floors.append(f); f /= continuationRatio }
        return floors + [0]
    }

    private func levenbergMarquardt(from start: [Double], measured: MeasuredLabeling,
                                    prior: [(mean: Double, weight: Double)], sigmaFloor: Double) -> Descent? {
        let pb = paramBounds, P = parameters.count
        var p = zip(start, pb).map { min(max($0, $1.0), $1.1) }
        var first = evaluate(p, measured: measured, prior: prior, sigmaFloor: sigmaFloor, jacobian: true)
        if first == nil, let interior {
            // Pull the start towards the interior point until its flux state is valid.
            let q = params(interior)
            var alpha = 0.5
            while first == nil && alpha > 1e-3 {
                p = zip(start, q).map { $1 + alpha * ($0 - $1) }
                p = zip(p, pb).map { min(max($0, $1.0), $1.1) }
                first = evaluate(p, measured: measured, prior: prior, sigmaFloor: sigmaFloor, jacobian: true)
                alpha /= 2
            }
            if first == nil { p = q; first = evaluate(p, measured: measured, prior: prior, sigmaFloor: sigmaFloor, jacobian: true) }
        }
        guard var cur = first else { return nil }
        var cost = cur.r.reduce(0) { $0 + $1 * $1 }
        var lambda = 1e-3
        var it = 0
        while it < maxIterations {
            it += 1
            let m = cur.r.count
            // Marquardt scaling D² = diag(JᵀJ): the squared column norms.
            let d2 = (0..<P).map { c in (0..<m).reduce(0.0) { $0 + cur.J[$1 + m * c] * cur.J[$1 + m * c] } }
            var improved = false
            for _ in 0..<12 {
                // The damped step solves [J; √λ·D] s ≈ [−r; 0] by SVD rather than the normal
                // equations, whose squared condition number loses the weakly resolved
                // directions when σ is tiny (exact simulated MIDs).
                var aug = [Double](repeating: 0, count: (m + P) * P)
                for c in 0..<P {
                    for i in 0..<m { aug[i + (m + P) * c] = cur.J[i + m * c] }
                    aug[m + c + (m + P) * c] = (lambda * max(d2[c], 1e-12)).squareRoot()
                }
                var rhs = cur.r.map { -$0 } + [Double](repeating: 0, count: P)
                guard LinearAlgebra.leastSquares(m: m + P, n: P, nrhs: 1, a: &aug, b: &rhs) != nil else {
                    lambda *= 10; continue
                }
                let step = Array(rhs[0..<P])
                guard step.allSatisfy(\.isFinite) else { lambda *= 10; continue }
                let trial = (0..<P).map { min(max(p[$0] + step[$0], pb[$0].0), pb[$0].1) }
                if let next = evaluate(trial, measured: measured, prior: prior, sigmaFloor: sigmaFloor, jacobian: false) {
                    let c = next.r.reduce(0) { $0 + $1 * $1 }
                    if c < cost {
                        let relative = (cost - c) / max(cost, 1e-300)
                        p = trial
                        cost = c
                        lambda = max(lambda / 3, 1e-9)
                        improved = true
                        guard let j = evaluate(p, measured: measured, prior: prior, sigmaFloor: sigmaFloor, jacobian: true) else { return nil }
                        cur = j
                        if relative < 1e-12 { return Descent(p: p, cost: cost, it: it, J: cur.J, r: cur.r) }
                        break
                    }
                }
                lambda *= 4
            }
            if !improved { break }
        }
        return Descent(p: p, cost: cost, it: it, J: cur.J, r: cur.r)
    }
}


#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) private func pow10(_ x: Double) -> Double { pow(10, x) }
