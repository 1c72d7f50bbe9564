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
/// Mixed in with probability `historyJumps`: differential-evolution jumps from the chain's
/// own past (DE-MC_ZS, ter Braak & Vrugt 2008, with DREAM's random subspaces, Vrugt et al.
/// 2009): y = x + γ(z₁ − z₂) + ε on a random subset of the coordinates, z₁, z₂ two states
/// of an archive of every `archiveEvery`-th burn-in state, γ = 2.38/√(2k) for k moved
/// coordinates and γ = 1 on every fifth jump (from one mode's region to another's), ε a tiny
/// Gaussian. The differences of past states carry the target's scales wherever it is not
/// Gaussian. The archive is frozen after burn-in, so the jump is symmetric (z₁, z₂ swap).
///
/// Parallel tempering (Geyer 1991; Earl & Deem 2005) with `ladder` inverse temperatures
/// β₀ = 1 > β₁ > …: one walker per β samples π^β (each with its own adaptation), and after
/// every step neighbours swap states with probability min(1, π(xⱼ)^βᵢ π(xᵢ)^βⱼ / …) —
/// the pairs (0,1), (2,3), … after even steps, (1,2), (3,4), … after odd ones.
/// Hot walkers flatten the target and cross between a narrow peak and a wide plateau (an
/// exchange flux the data bound from one side only) that a single walker crosses rarely;
/// only the β = 1 walker's states are kept. The support must be bounded for π^β with β < 1
/// to be a proper density.
///
/// The target is any log density in ℝ^d; `-∞` (e.g. outside a polytope) is never accepted.
public struct AdaptiveMetropolis: Sendable {
    /// Steps between covariance updates during burn-in.
    public var adaptEvery = 100
    /// Probability that a step is a history jump (once the archive holds 4·d states); 0 = plain adaptive Metropolis.
    public var historyJumps = 0.0
    /// Burn-in steps between states kept in the history archive.
    public var archiveEvery = 10
    /// Inverse temperatures of the parallel-tempering walkers, the first 1 (the target), descending; `[1]` = no tempering.
    public var ladder: [Double] = [1]
    public init() {}

    /// One chain's kept draws (row-major `[count × d]`) and its acceptance rate after burn-in.
    public struct Chain: Sendable {
        public var draws: [Double]
        public var count: Int
        public var dimension: Int
        public var acceptance: Double
        /// Accepted share of the tempering swaps after burn-in (NaN without tempering).
        public var swapRate: Double = .nan
        /// Draw `i` of coordinate `j`.
        public subscript(i: Int, j: Int) -> Double { draws[i * dimension + j] }
        /// Coordinate `j` of every draw.
        public func coordinate(_ j: Int) -> [Double] { (0..<count).map { draws[$0 * dimension + j] } }
    }

    /// Runs `burnIn` adapting steps and then `samples` kept steps from `start` (log density
    /// finite there). `covariance` (d×d column-major) is the initial proposal shape (e.g. a
    /// Laplace approximation; a walker at β starts from covariance/β); `progress` gets the
    /// number of steps done (every 1 %).
    public func run(logDensity: (_ x: [Double]) -> Double, start: [Double], covariance: [Double],
                    burnIn: Int, samples: Int, seed: UInt64, progress: ((Int) -> Void)? = nil) -> Chain {
        let d = start.count
        var rng = SplitMix64(seed: seed)
        let f0 = logDensity(start)
        precondition(f0.isFinite, "the start must have a finite log density")
        precondition(ladder.first == 1 && zip(ladder, ladder.dropFirst()).allSatisfy { $0 > $1 && $1 > 0 },
                     "the ladder descends from 1")
        var walkers = ladder.map { Walker(start: start, value: f0, covariance: covariance, beta: $0) }
        for i in walkers.indices { walkers[i].rescale(1 / ladder[i]) }
        var kept: [Double] = []
        kept.reserveCapacity(samples * d)
        var accepted = 0, swaps = 0, swapTries = 0
        let total = burnIn + samples, tick = max(total / 100, 1)
        for step in 0..<total {
            let adapting = step < burnIn
            for i in walkers.indices {
                let moved = walkers[i].step(logDensity, adapting: adapting, step: step, settings: self, using: &rng)
                if i == 0, moved, !adapting { accepted += 1 }
            }
            // Deterministic even–odd swaps (Syed et al. 2022, non-reversible parallel tempering):
            // every pair (i, i+1) with i of this step's parity, so a state travels the whole
            // ladder in ~N steps, not a random walk's ~N².
            for i in stride(from: step % 2, to: walkers.count - 1, by: 2) {
                let j = i + 1
                let ratio = (walkers[i].beta - walkers[j].beta) * (walkers[j].value - walkers[i].value)
                let swap = ratio >= 0 || log(max(Double(rng.next() >> 11) * 0x1p-53, 1e-300)) < ratio
                if swap { (walkers[i].x, walkers[j].x) = (walkers[j].x, walkers[i].x); (walkers[i].value, walkers[j].value) = (walkers[j].value, walkers[i].value) }
                if !adapting { swapTries += 1; if swap { swaps += 1 } }
            }
            if !adapting { kept += walkers[0].x }
            if let progress, (step + 1) % tick == 0 { progress(step + 1) }
        }
        return Chain(draws: kept, count: samples, dimension: d, acceptance: Double(accepted) / Double(max(samples, 1)),
                     swapRate: walkers.count > 1 ? Double(swaps) / Double(max(swapTries, 1)) : .nan)
    }

    /// One walker of π^β: its state and its adaptive proposal.
    struct Walker {
        var x: [Double]
        /// log π(x), untempered.
        var value: Double
        let beta: Double
        var logScale: Double
        var shape: [Double]
        var base: [Double]
        var ridge: [Double]
        var moves = 0
        // Running mean and co-moment of the burn-in states (Welford), for the adaptation.
        var mean: [Double]
        var comoment: [Double]
        var seen = 1
        var archive: [[Double]] = []

        init(start: [Double], value: Double, covariance: [Double], beta: Double) {
            let d = start.count
            x = start
            self.value = value
            self.beta = beta
            logScale = log(2.38 * 2.38 / Double(d))
            shape = covariance
            base = AdaptiveMetropolis.factor(covariance, d: d, scale: 1) ?? AdaptiveMetropolis.identity(d, scale: 1e-4)
            ridge = (0..<d).map { max(covariance[$0 + d * $0], 1e-300) * 1e-4 }
            mean = start
            comoment = [Double](repeating: 0, count: d * d)
        }

        /// Widens the initial proposal by `factor` (variance): a hot walker's target is wider.
        mutating func rescale(_ factor: Double) {
            guard factor != 1 else { return }
            let d = x.count
            shape = shape.map { $0 * factor }
            ridge = ridge.map { $0 * factor }
            base = AdaptiveMetropolis.factor(shape, d: d, scale: 1) ?? base
        }

        /// One Metropolis step on π^β (random walk or history jump), and during burn-in the
        /// adaptation; `true` when the proposal was accepted.
        mutating func step(_ logDensity: ([Double]) -> Double, adapting: Bool, step: Int, settings: AdaptiveMetropolis,
                           using rng: inout SplitMix64) -> Bool {
            let d = x.count
            var y = x
            let jump = settings.historyJumps > 0 && archive.count >= 4 * d
                && Double(rng.next() >> 11) * 0x1p-53 < settings.historyJumps
            if jump {
                AdaptiveMetropolis.historyJump(from: x, to: &y, archive: archive, diagonal: shape, using: &rng)
            } else {
                let z = (0..<d).map { _ in rng.nextGaussian() }
                let stepScale = exp(0.5 * logScale)
                for c in 0..<d where z[c] != 0 { for r in c..<d { y[r] += stepScale * base[r + d * c] * z[c] } }
            }
            let fy = logDensity(y)
            var accept = false
            if fy.isFinite {
                let ratio = beta * (fy - value)
                accept = ratio >= 0 || log(max(Double(rng.next() >> 11) * 0x1p-53, 1e-300)) < ratio
            }
            if accept {
                x = y
                value = fy
                if adapting { moves += 1 }
            }
            guard adapting else { return accept }
            // Robbins–Monro on the log scale (random-walk steps): acceptance towards 0.234.
            if !jump { logScale += (accept ? 0.766 : -0.234) / Double(step + 1).squareRoot() }
            if (step + 1) % settings.archiveEvery == 0 { archive.append(x) }
            seen += 1
            let n = Double(seen)
            var delta = x
            for j in 0..<d { delta[j] -= mean[j]; mean[j] += delta[j] / n }
            for c in 0..<d { for r in 0..<d { comoment[r + d * c] += delta[r] * (x[c] - mean[c]) } }
            if moves > 2 * d, (step + 1) % settings.adaptEvery == 0 {
                var cov = comoment.map { $0 / (n - 1) }
                for j in 0..<d { cov[j + d * j] += ridge[j] }
                if let f = AdaptiveMetropolis.factor(cov, d: d, scale: 1) {
                    // Keep the step length: the new shape replaces the old at equal trace.
                    let old = (0..<d).reduce(0.0) { $0 + shape[$1 + d * $1] }
                    let new = (0..<d).reduce(0.0) { $0 + cov[$1 + d * $1] }
                    if old > 0, new > 0 { logScale += log(old / new) }
                    shape = cov
                    base = f
                }
            }
            return accept
        }
    }

    /// y = x + γ(z₁ − z₂) + ε on a random subspace (each coordinate with probability 1/3, 2/3
    /// or 1, at least one); ε ~ N(0, (10⁻⁴·σⱼ)²) with σⱼ² the proposal shape's diagonal.
    static func historyJump(from x: [Double], to y: inout [Double], archive: [[Double]], diagonal shape: [Double],
                            using rng: inout SplitMix64) {
        let d = x.count
        let crossover = Double(1 + Int(rng.next() % 3)) / 3
        var moved = (0..<d).filter { _ in Double(rng.next() >> 11) * 0x1p-53 < crossover }
        if moved.isEmpty { moved = [Int(rng.next() % UInt64(d))] }
        let a = Int(rng.next() % UInt64(archive.count))
        var b = Int(rng.next() % UInt64(archive.count - 1))
        if b >= a { b += 1 }
        let gamma = rng.next() % 5 == 0 ? 1 : 2.38 / (2 * Double(moved.count)).squareRoot()
        for j in moved {
            y[j] = x[j] + gamma * (archive[a][j] - archive[b][j]) + 1e-4 * shape[j + d * j].squareRoot() * rng.nextGaussian()
        }
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
