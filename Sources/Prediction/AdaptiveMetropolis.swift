import Foundation
import LinearAlgebra
import MLFluxCore

/// Random-walk Metropolis with a Gaussian proposal adapted to the target (Haario, Saksman &
/// Tamminen 2001; Andrieu & Thoms 2008): during burn-in the proposal covariance is
/// re-estimated every `adaptEvery` steps from the chain so far (plus a ridge of 1e-4 × the
/// initial covariance's diagonal, so a chain that barely moved cannot collapse it), and
/// its global scale (from 2.38²/d, optimal for a Gaussian target) follows a Robbins–Monro
/// rule towards an acceptance rate of 0.234 — needed when the optimum sits on bounds and
/// many proposals leave the support. After burn-in both are frozen, so the kept draws are
/// an ordinary (reversible, valid) Metropolis chain of the target.
///
/// The target is any log density in ℝ^d; `-∞` (e.g. outside a polytope) is never accepted.
public struct AdaptiveMetropolis: Sendable {
    /// Steps between covariance updates during burn-in.
    public var adaptEvery = 100
    public init() {}

    /// One chain's kept draws (row-major `[count × d]`) and its acceptance rate after burn-in.
    public struct Chain: Sendable {
        public var draws: [Double]
        public var count: Int
        public var dimension: Int
        public var acceptance: Double
        /// Draw `i` of coordinate `j`.
        public subscript(i: Int, j: Int) -> Double { draws[i * dimension + j] }
        /// Coordinate `j` of every draw.
        public func coordinate(_ j: Int) -> [Double] { (0..<count).map { draws[$0 * dimension + j] } }
    }

    /// Runs `burnIn` adapting steps and then `samples` kept steps from `start` (log density
    /// finite there). `covariance` (d×d column-major) is the initial proposal shape (e.g. a
    /// Laplace approximation); `progress` gets the number of steps done (every 1 %).
    public func run(logDensity: (_ x: [Double]) -> Double, start: [Double], covariance: [Double],
                    burnIn: Int, samples: Int, seed: UInt64, progress: ((Int) -> Void)? = nil) -> Chain {
        let d = start.count
        var rng = SplitMix64(seed: seed)
        var x = start, fx = logDensity(start)
        precondition(fx.isFinite, "the start must have a finite log density")
        var logScale = log(2.38 * 2.38 / Double(d))
        var shape = covariance
        var base = Self.factor(shape, d: d, scale: 1) ?? Self.identity(d, scale: 1e-4)
        let ridge = (0..<d).map { max(covariance[$0 + d * $0], 1e-300) * 1e-4 }
        var moves = 0
        // Running mean and co-moment of the burn-in chain (Welford), for the adaptation.
        var mean = x, comoment = [Double](repeating: 0, count: d * d), seen = 1
        var kept: [Double] = []
        kept.reserveCapacity(samples * d)
        var accepted = 0
        let total = burnIn + samples, tick = max(total / 100, 1)
        for step in 0..<total {
            let z = (0..<d).map { _ in rng.nextGaussian() }
            var y = x
            let stepScale = exp(0.5 * logScale)
            for c in 0..<d where z[c] != 0 { for r in c..<d { y[r] += stepScale * base[r + d * c] * z[c] } }
            let fy = logDensity(y)
            var accept = false
            if fy.isFinite {
                let ratio = fy - fx
                accept = ratio >= 0 || log(max(Double(rng.next() >> 11) * 0x1p-53, 1e-300)) < ratio
            }
            if accept {
                x = y
                fx = fy
                if step >= burnIn { accepted += 1 } else { moves += 1 }
            }
            if step < burnIn {
                // Robbins–Monro on the log scale: acceptance towards 0.234.
                logScale += (accept ? 0.766 : -0.234) / Double(step + 1).squareRoot()
                seen += 1
                let n = Double(seen)
                var delta = x
                for j in 0..<d { delta[j] -= mean[j]; mean[j] += delta[j] / n }
                for c in 0..<d { for r in 0..<d { comoment[r + d * c] += delta[r] * (x[c] - mean[c]) } }
                if moves > 2 * d, (step + 1) % adaptEvery == 0 {
                    var cov = comoment.map { $0 / (n - 1) }
                    for j in 0..<d { cov[j + d * j] += ridge[j] }
                    if let f = Self.factor(cov, d: d, scale: 1) {
                        // Keep the step length: the new shape replaces the old at equal trace.
                        let old = (0..<d).reduce(0.0) { $0 + shape[$1 + d * $1] }
                        let new = (0..<d).reduce(0.0) { $0 + cov[$1 + d * $1] }
                        if old > 0, new > 0 { logScale += log(old / new) }
                        shape = cov
                        base = f
                    }
                }
            } else {
                kept += x
            }
            if let progress, (step + 1) % tick == 0 { progress(step + 1) }
        }
        return Chain(draws: kept, count: samples, dimension: d, acceptance: Double(accepted) / Double(max(samples, 1)))
    }

    /// Lower Cholesky factor of `scale`·cov, or nil when cov is not positive definite.
    static func factor(_ cov: [Double], d: Int, scale: Double) -> [Double]? {
        var a = cov.map { $0 * scale }
        return LinearAlgebra.choleskyLower(n: d, a: &a) ? a : nil
    }

    static func identity(_ d: Int, scale: Double) -> [Double] {
        var a = [Double](repeating: 0, count: d * d)
        for j in 0..<d { a[j + d * j] = scale.squareRoot() }
        return a
    }
}

/// Convergence diagnostics of several chains of one scalar (Gelman et al., *Bayesian Data
/// Analysis*, 3rd ed., §11.4–11.5; the split-chain form Stan reports).
public enum MCMCDiagnostics {
    /// Split R-hat: each chain halved, then √(var⁺/W) with W the mean within-half variance and
    /// var⁺ = (n−1)/n·W + B/n. Near 1 when the chains agree; > 1.01 suggests running longer.
    public static func splitRHat(_ chains: [[Double]]) -> Double {
        let halves = split(chains)
        guard halves.count >= 2, let n = halves.first?.count, n >= 2 else { return .nan }
        let means = halves.map { $0.reduce(0, +) / Double(n) }
        let grand = means.reduce(0, +) / Double(means.count)
        let b = Double(n) / Double(means.count - 1) * means.reduce(0) { $0 + ($1 - grand) * ($1 - grand) }
        let w = zip(halves, means).reduce(0.0) { acc, e in
            acc + e.0.reduce(0) { $0 + ($1 - e.1) * ($1 - e.1) } / Double(n - 1)
        } / Double(halves.count)
        guard w > 0 else { return b > 0 ? .infinity : 1 }
        let varPlus = Double(n - 1) / Double(n) * w + b / Double(n)
        return (varPlus / w).squareRoot()
    }

    /// Effective sample size of all chains together: N / (1 + 2 Σ ρ_t), the autocorrelations
    /// ρ_t from the multi-chain variogram, summed over Geyer's initial positive and monotone
    /// sequence of pair sums.
    public static func effectiveSampleSize(_ chains: [[Double]]) -> Double {
        let m = chains.count
        guard m >= 1, let n = chains.first?.count, n >= 4, chains.allSatisfy({ $0.count == n }) else { return .nan }
        let means = chains.map { $0.reduce(0, +) / Double(n) }
        let w = zip(chains, means).reduce(0.0) { acc, e in
            acc + e.0.reduce(0) { $0 + ($1 - e.1) * ($1 - e.1) } / Double(n - 1)
        } / Double(m)
        let grand = means.reduce(0, +) / Double(m)
        let b = m > 1 ? Double(n) / Double(m - 1) * means.reduce(0) { $0 + ($1 - grand) * ($1 - grand) } : 0
        let varPlus = Double(n - 1) / Double(n) * w + b / Double(n)
        guard varPlus > 0 else { return Double(m * n) }
        func rho(_ t: Int) -> Double {
            var v = 0.0
            for c in chains { for i in 0..<(n - t) { let d = c[i + t] - c[i]; v += d * d } }
            v /= Double(m * (n - t))
            return 1 - v / (2 * varPlus)
        }
        var sum = 0.0, previous = Double.infinity
        var t = 0
        while t + 1 < n {
            // Pair sums Γ_k = ρ_{2k} + ρ_{2k+1}: positive and non-increasing (Geyer 1992).
            var pair = (t == 0 ? 1 : rho(t)) + rho(t + 1)
            if pair <= 0 { break }
            pair = min(pair, previous)
            previous = pair
            sum += pair
            t += 2
        }
        let tau = max(-1 + 2 * sum, 1e-12)
        return Double(m * n) / tau
    }

    static func split(_ chains: [[Double]]) -> [[Double]] {
        chains.flatMap { c -> [[Double]] in
            let h = c.count / 2
            return [Array(c[(c.count - 2 * h)..<(c.count - h)]), Array(c[(c.count - h)...])]
        }
    }
}
