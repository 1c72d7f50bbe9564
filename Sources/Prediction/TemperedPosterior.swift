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
    /// After tempering: rounds of `finalSweeps` sweeps at β = 1 until every free flux's split
    /// R-hat across the populations is at most 1.01 and its ESS at least `minESS`, at most
    /// `maxFinalRounds` rounds (default 200: 1,000 sweeps, about 50 s for glycolysis on two
    /// cores) and, when `maxSeconds` is set, no round begun after that many seconds from the
    /// start of `sample` (a time limit makes where sampling stops depend on the machine).
    public var finalSweeps = 5
    public var minESS = 400.0
    public var maxFinalRounds = 200
    public var maxSeconds: Double? = nil

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
        /// Sweeps at β = 1 after the tempering (to reach R-hat ≤ 1.01 and ESS ≥ `minESS`).
        public var finalSweeps: Int
    }

    /// Samples the posterior of `measured` (complete labeling; no fitted flux scale). The
    /// proposal's centre is `proposal` (the fit's parameters, mean and column-major d × d
    /// covariance), by default the network's for `measured`; `prepared`, when given, is the
    /// proposal itself (`ImportancePosterior.prepare` for the same input). `progress` gets β ×
    /// 1000 summed over the populations during the tempering; `sweepProgress` the sweeps done
    /// at β = 1 and the most there can be, after each round.
    /// - Throws: `ImportancePosterior.ImportanceError` when the proposal is unusable or none of
    ///   its draws lies inside the polytope with a finite posterior density.
    public func sample(_ measured: MeasuredLabeling, proposal: (mean: [Double], covariance: [Double])? = nil,
                       prepared: ImportancePosterior.Prepared? = nil,
                       progress: (@Sendable (Int, Int) -> Void)? = nil,
                       sweepProgress: ((Int, Int) -> Void)? = nil) throws -> FluxPosterior.Result {
        let clock = Date()
        let posterior = importance.posterior, mfa = posterior.mfa
        try mfa.check(measured)
        let problem = mfa.problem(measured, fluxes: mfa.fluxMeasurements)
        guard !problem.scaled else {
            throw ImportancePosterior.ImportanceError.unsupported("fluxes in the network's unit (measured fluxes without a fitted scale)")
        }
        guard particles >= 2, populations >= 1 else {
            throw ImportancePosterior.ImportanceError.unsupported("at least 2 particles in at least 1 population")
        }
        let (mixture, fit) = try prepared.map { ($0.mixture, $0.fit) }
            ?? importance.mixture(measured, proposal: proposal ?? importance.proposalGaussian(measured))
        let logTarget = posterior.logDensity(problem)
        let counter = ProgressCounter(), total = 1000 * populations
        let settings = self
        let tempered = ParallelRows.map(count: populations, threads: posterior.threads) { c -> Population? in
            var last = 0
            var p = Population(seed: SplitMix64.mix(posterior.seed &+ 0x3_5000 &+ UInt64(c)))
            guard p.start(settings.particles, mixture: mixture, logTarget: logTarget) else { return nil }
            p.temper(settings, mixture: mixture, logTarget: logTarget) { beta in
                let now = Int(1000 * beta)
                counter.add(now - last)
                last = now
                progress?(counter.value, total)
            }
            return p
        }.map { (try? $0.get()) ?? nil }
        guard tempered.allSatisfy({ $0 != nil }) else { throw ImportancePosterior.ImportanceError.noWeight }
        var done = tempered.map { $0! }
        // At β = 1: more sweeps, in rounds, until the populations agree (R-hat) and their
        // particles have decorrelated (ESS), or `maxFinalRounds`.
        var rHat = [Double](repeating: .nan, count: mfa.basis.count), ess = rHat
        var rounds = 0
        while true {
            for (j, k) in mfa.parameters.enumerated() {
                let perPopulation = done.map { $0.x.map { $0[j] } }
                rHat[k] = MCMCDiagnostics.splitRHat(perPopulation)
                ess[k] = MCMCDiagnostics.effectiveSampleSize(perPopulation)
            }
            let worstR = rHat.filter { !$0.isNaN }.max() ?? 1, worstESS = ess.filter { !$0.isNaN }.min() ?? .infinity
            if (worstR <= 1.01 && worstESS >= minESS) || rounds >= maxFinalRounds { break }
            if let maxSeconds, Date().timeIntervalSince(clock) >= maxSeconds { break }
            let current = done
            done = ParallelRows.map(count: populations, threads: posterior.threads) { c -> Population in
                var p = current[c]
                p.move(settings, beta: 1, mixture: mixture, logTarget: logTarget, sweeps: settings.finalSweeps)
                return p
            }.map { try! $0.get() }
            rounds += 1
            sweepProgress?(rounds * finalSweeps, maxFinalRounds * finalSweeps)
        }
        let diagnostics = Diagnostics(particles: particles * populations, populations: populations,
                                      stages: done.map(\.stages).max() ?? 0, simulations: done.reduce(0) { $0 + $1.simulations },
                                      initialESS: done[0].initialESS,
                                      acceptance: Double(done.reduce(0) { $0 + $1.accepted }) / Double(max(done.reduce(0) { $0 + $1.moves }, 1)),
                                      finalSweeps: rounds * finalSweeps)
        return FluxPosterior.Result(draws: done.flatMap { $0.x.map { mfa.theta($0) } }, chains: populations, rHat: rHat, ess: ess,
                                    acceptance: done.map { Double($0.accepted) / Double(max($0.moves, 1)) }, swapRate: [], fit: fit,
                                    seconds: Date().timeIntervalSince(clock), tempering: diagnostics)
    }

    /// One population: its particles (the fit's parameters) with their log posterior and log
    /// proposal densities, its random state, its walk scale and its counts.
    struct Population: Sendable {
        var x: [[Double]] = []
        var lp: [Double] = []
        var lq: [Double] = []
        var rng: SplitMix64
        var scale = 0.0
        var stages = 0
        var simulations = 0
        var initialESS = Double.nan
        var accepted = 0
        var moves = 0

        init(seed: UInt64) { rng = SplitMix64(seed: seed) }

        /// `n` proposal draws inside the support (redrawn until the posterior density is finite);
        /// false when 1000·n draws do not give them.
        mutating func start(_ n: Int, mixture: ProposalMixture, logTarget: ([Double]) -> Double) -> Bool {
            var tries = 0
            while x.count < n {
                guard tries < 1000 * n else { return false }
                tries += 1
                let y = mixture.draw(using: &rng)
                let v = logTarget(y)
                simulations += 1
                guard v.isFinite else { continue }
                x.append(y); lp.append(v); lq.append(mixture.logDensity(y))
            }
            scale = 2.38 / Double(x[0].count).squareRoot()
            initialESS = weights(1).ess
            return true
        }

        /// Kish ESS of the weights exp(s·ℓᵢ), ℓ = log π − log q, and the normalised weights.
        func weights(_ s: Double) -> (ess: Double, w: [Double]) {
            let l = zip(lp, lq).map { s * ($0 - $1) }
            let top = l.max()!
            var w = l.map { exp($0 - top) }
            let sum = w.reduce(0, +)
            w = w.map { $0 / sum }
            return (1 / w.reduce(0) { $0 + $1 * $1 }, w)
        }

        /// Tempers from β = 0 to 1: each step to the β that keeps `essShare` of the effective
        /// sample size (or to 1), resampling, moves. `progress` gets β after each step.
        mutating func temper(_ settings: TemperedPosterior, mixture: ProposalMixture, logTarget: ([Double]) -> Double,
                             progress: (Double) -> Void) {
            let n = Double(x.count)
            var beta = 0.0
            while beta < 1 {
                var next = 1.0
                if weights(1 - beta).ess < settings.essShare * n {
                    var lo = 0.0, hi = 1 - beta
                    for _ in 0..<60 {
                        let mid = (lo + hi) / 2
                        if weights(mid).ess >= settings.essShare * n { lo = mid } else { hi = mid }
                    }
                    next = beta + max(lo, 1e-9)
                }
                let w = weights(next - beta).w
                beta = min(next, 1)
                stages += 1
                let index = ImportancePosterior.systematicResample(w, using: &rng)
                x = index.map { x[$0] }; lp = index.map { lp[$0] }; lq = index.map { lq[$0] }
                move(settings, beta: beta, mixture: mixture, logTarget: logTarget, sweeps: nil)
                progress(beta)
            }
        }

        /// Metropolis sweeps over every particle, invariant for π_β ∝ q^(1−β)·π^β: random walks
        /// with the population's covariance, and jumps along the difference of two members of
        /// the population as it was before the sweeps (fixed meanwhile, so the jump's
        /// distribution is symmetric). `sweeps` of them, or (nil) until 1 − Π(1 − acceptance)
        /// reaches `moveTarget` within `minMoves`…`maxMoves`.
        mutating func move(_ settings: TemperedPosterior, beta: Double, mixture: ProposalMixture, logTarget: ([Double]) -> Double,
                           sweeps: Int?) {
            let n = x.count, d = x[0].count
            let snapshot = x
            let mean = (0..<d).map { j in x.reduce(0) { $0 + $1[j] } / Double(n) }
            var cov = [Double](repeating: 0, count: d * d)
            for p in x { for c in 0..<d { for r in 0..<d { cov[r + d * c] += (p[r] - mean[r]) * (p[c] - mean[c]) / Double(n) } } }
            let spread = (0..<d).map { max(cov[$0 + d * $0], 1e-24).squareRoot() }
            let factor = ProposalMixture.Centre(mean: mean, covariance: (0..<(d * d)).map {
                $0 % (d + 1) == 0 ? cov[$0] + 1e-12 * spread[$0 / d] * spread[$0 / d] + 1e-24 : cov[$0]
            })?.factor
            var stay = 1.0, k = 0
            while true {
                if let sweeps { if k >= sweeps { break } }
                else if k >= settings.maxMoves || (k >= settings.minMoves && 1 - stay >= settings.moveTarget) { break }
                var acceptedNow = 0, walks = 0, walksAccepted = 0
                for i in 0..<n {
                    var y = x[i]
                    let jump = factor == nil || Double(rng.next() >> 11) * 0x1p-53 < settings.jumpShare
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
                    let vq = beta < 1 ? mixture.logDensity(y) : lq[i]
                    let logRatio = beta < 1 ? (1 - beta) * (vq - lq[i]) + beta * (vp - lp[i]) : vp - lp[i]
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
            }
        }
    }
}
