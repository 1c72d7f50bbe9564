import Foundation
import LinearAlgebra
import MLFluxCore

/// The amortized posterior, corrected by sequential Monte Carlo: particles start from the
/// network's proposal (`ImportancePosterior`'s mixture) and are carried to the Bayesian
/// posterior of `FluxPosterior` through tempered targets π_β ∝ q^(1−β)·π^β, β from 0 to 1
/// (Del Moral, Doucet & Jasra 2006; the tempering steps chosen so that each keeps `essShare`
/// of the particles' effective sample size, Jasra et al. 2011). After each step the particles
/// are resampled and moved by Metropolis steps that leave π_β invariant — random walks shaped
/// by the population's covariance, and differential-evolution jumps between members of the
/// population as it was after resampling (ter Braak 2006), which follow a thin polytope or a
/// curved posterior — until nearly every particle has moved (`moveTarget`).
///
/// Where importance sampling alone needs the proposal close to the posterior (its weights
/// collapse in 16 dimensions when it is not — the glycolysis bundle), the tempering only
/// needs the proposal to overlap it, and the moves do the rest. Draws are in the same
/// coordinates as the MCMC's (net free fluxes as they are, exchange free fluxes in log10) and
/// the same posterior: the censored likelihood with the data's σ and the `exchangePrior`.
///
/// `populations` independent populations run on `posterior.threads` threads; split R-hat and
/// ESS are computed across them as across MCMC chains, each population's particles in
/// resampling order (descendants of one particle side by side, so their likeness counts as
/// autocorrelation).
public struct TemperedPosterior: Sendable {
    /// The proposal (network, Laplace share, polytope shaping) and the posterior (likelihood,
    /// prior, `threads`, `seed`).
    public var importance: ImportancePosterior
    /// Particles per population (each move of each particle is one EMU simulation).
    public var particles = 1000
    /// Independent populations (R-hat across them).
    public var populations = 4
    /// Share of the effective sample size kept by each tempering step.
    public var essShare = 0.5
    /// Moves after each step until 1 − Π(1 − acceptance) reaches this share, at least
    /// `minMoves` and at most `maxMoves`.
    public var moveTarget = 0.95
    public var minMoves = 2
    public var maxMoves = 40
    /// Share of the moves that are differential-evolution jumps (the rest random walks).
    public var jumpShare = 0.5

    public init(importance: ImportancePosterior) { self.importance = importance }

    /// What the tempering did.
    public struct Diagnostics: Sendable, Equatable, Codable {
        /// Particles over all populations.
        public var particles: Int
        public var populations: Int
        /// Tempering steps (largest over the populations).
        public var stages: Int
        /// Posterior density evaluations (EMU simulations) over all populations.
        public var simulations: Int
        /// Kish effective sample size of the first population's proposal draws weighted
        /// straight to the posterior (β = 1 in one step): what importance sampling alone gets.
        public var initialESS: Double
        /// Mean acceptance rate of the moves.
        public var acceptance: Double
    }

    /// One population's result.
    struct Population: Sendable {
        var draws: [[Double]]
        var stages: Int
        var simulations: Int
        var initialESS: Double
        var accepted: Int
        var moves: Int
    }

    /// Samples the posterior of `measured` (complete labeling; no fitted flux scale). The
    /// proposal's centre is `proposal` (the fit's parameters, mean and column-major d × d
    /// covariance), by default the network's for `measured`.
    /// - Throws: `ImportancePosterior.ImportanceError` when the proposal is unusable or none of
    ///   its draws lies inside the polytope with a finite posterior density.
    public func sample(_ measured: MeasuredLabeling, proposal: (mean: [Double], covariance: [Double])? = nil,
                       progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> FluxPosterior.Result {
        let clock = Date()
        let posterior = importance.posterior, mfa = posterior.mfa
        try mfa.check(measured)
        let problem = mfa.problem(measured, fluxes: mfa.fluxMeasurements)
        guard !problem.scaled else {
            throw ImportancePosterior.ImportanceError.unsupported("fluxes in the network's unit (measured fluxes without a fitted scale)")
        }
        let (mixture, fit) = try importance.mixture(measured, proposal: proposal ?? importance.proposalGaussian(measured))
        let logTarget = posterior.logDensity(problem)
        let counter = ProgressCounter(), total = 1000 * populations
        let settings = self
        let runs = ParallelRows.map(count: populations, threads: posterior.threads) { c -> Population? in
            var last = 0
            return settings.population(mixture: mixture, logTarget: logTarget, seed: SplitMix64.mix(posterior.seed &+ 0x3_5000 &+ UInt64(c))) { beta in
                let now = Int(1000 * beta)
                counter.add(now - last)
                last = now
                progress?(counter.value, total)
            }
        }.map { (try? $0.get()) ?? nil }
        guard runs.allSatisfy({ $0 != nil }) else { throw ImportancePosterior.ImportanceError.noWeight }
        let done = runs.map { $0! }
        let d = mfa.parameters.count
        var rHat = [Double](repeating: .nan, count: mfa.basis.count), ess = rHat
        for (j, k) in mfa.parameters.enumerated() {
            let perPopulation = done.map { $0.draws.map { $0[j] } }
            rHat[k] = MCMCDiagnostics.splitRHat(perPopulation)
            ess[k] = MCMCDiagnostics.effectiveSampleSize(perPopulation)
        }
        let diagnostics = Diagnostics(particles: particles * populations, populations: populations,
                                      stages: done.map(\.stages).max() ?? 0, simulations: done.reduce(0) { $0 + $1.simulations },
                                      initialESS: done[0].initialESS,
                                      acceptance: Double(done.reduce(0) { $0 + $1.accepted }) / Double(max(done.reduce(0) { $0 + $1.moves }, 1)))
        precondition(done.allSatisfy { $0.draws.allSatisfy { $0.count == d } })
        return FluxPosterior.Result(draws: done.flatMap { $0.draws.map { mfa.theta($0) } }, chains: populations, rHat: rHat, ess: ess,
                                    acceptance: done.map { Double($0.accepted) / Double(max($0.moves, 1)) }, swapRate: [], fit: fit,
                                    seconds: Date().timeIntervalSince(clock), tempering: diagnostics)
    }

    /// Runs one population from `mixture` to the posterior; nil when no proposal draw (of
    /// 1000 per particle) lies inside the support. `progress` gets β after each step.
    func population(mixture: ProposalMixture, logTarget: ([Double]) -> Double, seed: UInt64,
                    progress: (Double) -> Void) -> Population? {
        var rng = SplitMix64(seed: seed)
        let n = particles
        var x: [[Double]] = [], lq: [Double] = [], lp: [Double] = []
        var simulations = 0, tries = 0
        while x.count < n {
            guard tries < 1000 * n else { return nil }
            tries += 1
            let y = mixture.draw(using: &rng)
            let v = logTarget(y)
            simulations += 1
            guard v.isFinite else { continue }
            x.append(y); lp.append(v); lq.append(mixture.logDensity(y))
        }
        let d = x[0].count
        /// Kish ESS of weights exp(s·ℓᵢ), ℓ = log π − log q, and the normalised weights.
        func weights(_ s: Double) -> (ess: Double, w: [Double]) {
            let l = zip(lp, lq).map { s * ($0 - $1) }
            let top = l.max()!
            var w = l.map { exp($0 - top) }
            let sum = w.reduce(0, +)
            w = w.map { $0 / sum }
            return (1 / w.reduce(0) { $0 + $1 * $1 }, w)
        }
        let initialESS = weights(1).ess
        var beta = 0.0, stages = 0, accepted = 0, moves = 0
        var scale = 2.38 / Double(d).squareRoot()
        while beta < 1 {
            // The next β: 1 if it keeps `essShare` of the particles, else the β that keeps exactly that.
            var next = 1.0
            if weights(1 - beta).ess < essShare * Double(n) {
                var lo = 0.0, hi = 1 - beta
                for _ in 0..<60 {
                    let mid = (lo + hi) / 2
                    if weights(mid).ess >= essShare * Double(n) { lo = mid } else { hi = mid }
                }
                next = beta + max(lo, 1e-9)
            }
            let w = weights(next - beta).w
            beta = min(next, 1)
            stages += 1
            let index = ImportancePosterior.systematicResample(w, using: &rng)
            x = index.map { x[$0] }; lp = index.map { lp[$0] }; lq = index.map { lq[$0] }
            // Moves invariant for π_β: random walks with the population's covariance, and jumps
            // between two members of the population as resampled (fixed during this step, so
            // the jump's distribution is symmetric).
            let snapshot = x
            let mean = (0..<d).map { j in x.reduce(0) { $0 + $1[j] } / Double(n) }
            var cov = [Double](repeating: 0, count: d * d)
            for p in x { for c in 0..<d { for r in 0..<d { cov[r + d * c] += (p[r] - mean[r]) * (p[c] - mean[c]) / Double(n) } } }
            let spread = (0..<d).map { max(cov[$0 + d * $0], 1e-24).squareRoot() }
            let factor = ProposalMixture.Centre(mean: mean, covariance: (0..<(d * d)).map { $0 % (d + 1) == 0 ? cov[$0] + 1e-12 * spread[$0 / d] * spread[$0 / d] + 1e-24 : cov[$0] })?.factor
            var stay = 1.0, k = 0
            repeat {
                var acceptedNow = 0, walks = 0, walksAccepted = 0
                for i in 0..<n {
                    var y = x[i]
                    let jump = factor == nil || Double(rng.next() >> 11) * 0x1p-53 < jumpShare
                    if jump {
                        let a = Int(rng.next() % UInt64(n))
                        var b = Int(rng.next() % UInt64(n - 1)); if b >= a { b += 1 }
                        let gamma = rng.next() % 10 == 0 ? 1 : 2.38 / (2 * Double(d)).squareRoot()
                        for j in 0..<d { y[j] += gamma * (snapshot[a][j] - snapshot[b][j]) + 1e-4 * spread[j] * rng.nextGaussian() }
                    } else {
                        walks += 1
                        let z = (0..<d).map { _ in rng.nextGaussian() }
                        for col in 0..<d { for row in col..<d { y[row] += scale * factor![row + d * col] * z[col] } }
                    }
                    let vp = logTarget(y)
                    simulations += 1
                    guard vp.isFinite else { continue }
                    let vq = mixture.logDensity(y)
                    let logRatio = (1 - beta) * (vq - lq[i]) + beta * (vp - lp[i])
                    if log(Double(rng.next() >> 11) * 0x1p-53) < logRatio {
                        x[i] = y; lp[i] = vp; lq[i] = vq
                        acceptedNow += 1
                        if !jump { walksAccepted += 1 }
                    }
                }
                accepted += acceptedNow
                moves += n
                stay *= 1 - Double(acceptedNow) / Double(n)
                // The walk's scale follows its acceptance towards 0.234 (fixed within a sweep).
                if walks > 0 { scale *= exp(Double(walksAccepted) / Double(walks) - 0.234) }
                k += 1
            } while k < maxMoves && (k < minMoves || 1 - stay < moveTarget)
            progress(beta)
        }
        return Population(draws: x, stages: stages, simulations: simulations, initialESS: initialESS, accepted: accepted, moves: moves)
    }
}
