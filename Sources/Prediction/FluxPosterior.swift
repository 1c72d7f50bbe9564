import FluxSampling
import Foundation
import LinearAlgebra
import MLFluxCore

/// Bayesian 13C-MFA: samples the posterior of the free fluxes given measured MIDs (and
/// measured fluxes) by Markov chain Monte Carlo.
///
/// Likelihood: Gaussian, exp(−VSSR/2) with the data's σ (the least-squares fit's
/// residuals, EMU simulation). Prior: uniform over the flux polytope in the fit's
/// parameters — net free fluxes uniform, exchange free fluxes uniform in log10 between
/// `exchangeFloor` and their upper bound (every decade equally likely a priori) — or, with
/// `exchangePrior`, exchange free fluxes distributed as a flux sampler draws them. Sampler:
/// adaptive Metropolis (`AdaptiveMetropolis`) in those parameters, several chains started
/// from over-dispersed points around the least-squares optimum, the proposal shaped by the
/// Laplace approximation there (regularised by the prior's widths along directions the data
/// do not determine); each chain a parallel-tempering ladder (`ladder`) with history jumps
/// (`historyJumps`); chains run on `threads` threads. Draws outside the polytope have prior
/// 0 and are never accepted.
public struct FluxPosterior: Sendable {
    public var mfa: LeastSquaresMFA
    public var chains = 4
    /// Kept draws per chain, after `burnIn` adapting steps.
    public var samples = 5000
    public var burnIn = 5000
    public var seed: UInt64 = 1
    public var threads = 1
    /// Share of steps that are history jumps (`AdaptiveMetropolis.historyJumps`).
    /// 0.8: on the glycolysis bundle (4 × 30,000 steps, three seeds) the worst flux's ESS was
    /// 475–714 with R-hat ≤ 1.010, against 318–744 and R-hat up to 1.019 at 0.2.
    public static let defaultHistoryJumps = 0.8
    public var historyJumps = FluxPosterior.defaultHistoryJumps
    /// Inverse temperatures of each chain's parallel-tempering walkers (`AdaptiveMetropolis.ladder`).
    /// Five walkers down to β = 0.25: on the glycolysis bundle an exchange flux's posterior is
    /// a narrow peak beside a plateau several decades wide, which one walker crosses so rarely
    /// that 4 × 60,000 steps leave R-hat 1.15 and ESS 30; with this ladder (neighbour swaps
    /// accepted ~60 %) 4 × 30,000 steps reach R-hat < 1.01 and ESS > 400.
    public static let defaultLadder = [1, 0.7, 0.5, 0.35, 0.25]
    public var ladder = FluxPosterior.defaultLadder
    /// The prior of the free exchange fluxes. nil: uniform in log10 between the fit's floor and
    /// each upper bound. Settings: the distribution `FluxSpaceSampler` draws them from with
    /// these settings (`ExchangeFluxPrior`, e.g. `mixed` as the shipped networks' training
    /// data), so the posterior is the one a network trained on such data approximates. Net free
    /// fluxes stay uniform over the polytope either way.
    public var exchangePrior: SamplerSettings? = nil

    public init(mfa: LeastSquaresMFA) { self.mfa = mfa }

    /// log prior density of parameters `p` (exchange fluxes as log10) beyond the default
    /// prior's constant: Σ log(f(x)·x·ln 10) over the exchange parameters, x = 10^p, f the
    /// `exchangePrior` density per flux unit (the factor x·ln 10 is dx/dp); 0 without one,
    /// −∞ outside its support.
    static func logPrior(_ p: [Double], _ priors: [(Int, ExchangeFluxPrior)]?) -> Double {
        guard let priors else { return 0 }
        var s = 0.0
        for (i, prior) in priors {
            let x = pow(10, p[i])
            s += log(prior.density(x) * x * 2.302_585_092_994_046)
        }
        return s.isNaN ? -.infinity : s
    }

    /// The `exchangePrior` of each exchange parameter (index into the fit's parameters), or nil.
    func exchangePriors() -> [(Int, ExchangeFluxPrior)]? {
        guard let exchangePrior else { return nil }
        return mfa.parameters.enumerated().compactMap { i, k in
            k >= mfa.basis.freeNet.count
                ? (i, ExchangeFluxPrior(lower: mfa.bounds[k].lower, upper: mfa.bounds[k].upper, settings: exchangePrior)) : nil
        }
    }

    /// The unnormalised log posterior density of parameters `p` (the fit's: net free fluxes as
    /// they are, exchange free fluxes in log10): −VSSR/2 of `problem` plus the log prior; −∞
    /// outside the polytope or where the state cannot be simulated.
    func logDensity(_ problem: LeastSquaresMFA.Problem) -> @Sendable ([Double]) -> Double {
        let model = mfa, priors = exchangePriors()
        return { p in
            let prior = Self.logPrior(p, priors)
            guard prior > -.infinity, model.violation(at: p) <= 1e-12,
                  let r = model.evaluate(p, problem, jacobian: false)?.r else { return -.infinity }
            var s = 0.0
            for i in 0..<problem.dataCount { s += r[i] * r[i] }
            return -0.5 * s + prior
        }
    }

    public struct Result: Sendable {
        /// Free fluxes θ of every kept draw, chains one after another (`chains × samples` rows).
        public var draws: [[Double]]
        public var chains: Int
        /// Split R-hat and effective sample size per free flux (NaN for fixed ones).
        public var rHat: [Double]
        public var ess: [Double]
        /// Acceptance rate of each chain after burn-in.
        public var acceptance: [Double]
        /// Accepted share of each chain's tempering swaps after burn-in (NaN without tempering).
        public var swapRate: [Double]
        /// The least-squares fit the chains started around (nil: importance sampling, no fit).
        public var fit: LeastSquaresMFA.Fit?
        public var seconds: Double
        /// Importance sampling (`ImportancePosterior`): its weights' diagnostics; nil for MCMC.
        public var importance: ImportancePosterior.Diagnostics? = nil
        /// Sequential Monte Carlo (`TemperedPosterior`): its diagnostics; nil otherwise.
        public var tempering: TemperedPosterior.Diagnostics? = nil

        /// Largest split R-hat and smallest ESS over the free fluxes (NaN entries, fixed fluxes, skipped).
        public var convergence: (rHat: Double, ess: Double) {
            (rHat.filter { !$0.isNaN }.max() ?? .nan, ess.filter { !$0.isNaN }.min() ?? .nan)
        }

        /// Every free flux's split R-hat at most 1.01 and its ESS at least `minESS` (Vehtari et al. 2021).
        public func converged(minESS: Double) -> Bool {
            let (r, e) = convergence
            return r <= 1.01 && e >= minESS
        }
    }

    /// - Parameter progress: steps done over all chains, and the total.
    /// - Throws: `MeasurementError` for unusable data, `FitError.noValidStart` when no
    ///   least-squares start reaches a valid state.
    public func sample(_ measured: MeasuredLabeling, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Result {
        let clock = Date()
        try mfa.check(measured)
        guard let fit = mfa.fit(measured), let problem = fit.problem else { throw FitError.noValidStart }
        let relative = fit.prediction.free.map { $0 / (fit.scale?.value ?? 1) }
        let center = mfa.params(relative)
        let d = center.count
        let bounds = mfa.paramBounds
        let logDensity = self.logDensity(problem)
        guard logDensity(center).isFinite else { throw FitError.noValidStart }
        let covariance = laplaceCovariance(at: center, problem: problem, bounds: bounds)
        let factor = AdaptiveMetropolis.factor(covariance, d: d, scale: 1)
        let total = chains * (burnIn + samples)
        let counter = ProgressCounter()
        let outcomes = ParallelRows.map(count: chains, threads: threads) { c -> AdaptiveMetropolis.Chain in
            // Over-dispersed start: the optimum plus twice a Laplace draw, kept inside the polytope.
            var rng = SplitMix64(seed: SplitMix64.mix(seed &+ UInt64(c)))
            var start = center
            if let factor {
                // Twice a Laplace draw, shrunk until inside (an optimum on bounds leaves little room).
                for attempt in 0..<200 {
                    let spread = 2 * pow(0.5, Double(attempt / 20))
                    let z = (0..<d).map { _ in spread * rng.nextGaussian() }
                    var y = center
                    for col in 0..<d { for row in col..<d { y[row] += factor[row + d * col] * z[col] } }
                    if logDensity(y).isFinite { start = y; break }
                }
            }
            var last = 0
            var sampler = AdaptiveMetropolis()
            sampler.historyJumps = historyJumps
            sampler.ladder = ladder
            return sampler.run(logDensity: logDensity, start: start, covariance: covariance,
                                            burnIn: burnIn, samples: samples, seed: SplitMix64.mix(seed &+ 0x1000 &+ UInt64(c))) { done in
                counter.add(done - last)
                last = done
                progress?(counter.value, total)
            }
        }
        let runs = try outcomes.map { try $0.get() }
        var draws: [[Double]] = []
        draws.reserveCapacity(chains * samples)
        for run in runs { for i in 0..<run.count { draws.append(mfa.theta((0..<d).map { run[i, $0] })) } }
        var rHat = [Double](repeating: .nan, count: mfa.basis.count), ess = rHat
        for (j, k) in mfa.parameters.enumerated() {
            let perChain = runs.map { $0.coordinate(j) }
            rHat[k] = MCMCDiagnostics.splitRHat(perChain)
            ess[k] = MCMCDiagnostics.effectiveSampleSize(perChain)
        }
        if let s = fit.scale?.value { draws = draws.map { $0.map { $0 * s } } }
        return Result(draws: draws, chains: chains, rHat: rHat, ess: ess, acceptance: runs.map(\.acceptance), swapRate: runs.map(\.swapRate), fit: fit,
                      seconds: Date().timeIntervalSince(clock))
    }

    /// A draw of the free fluxes θ from the prior the posterior uses — uniform over the polytope
    /// in the fit's parameters (net free fluxes uniform, exchange free fluxes uniform in log10
    /// between the floor and their bounds, or from `exchangePrior`) — by rejection from the
    /// parameters' box; nil when `tries` box draws all leave the polytope. Truths drawn so make
    /// the credible intervals' coverage nominal by construction when the sampler is right
    /// (simulation-based calibration).
    public func priorDraw(using rng: inout SplitMix64, tries: Int = 100_000) -> [Double]? {
        let bounds = mfa.paramBounds, priors = exchangePriors() ?? []
        for _ in 0..<tries {
            var p = bounds.map { $0.0 + ($0.1 - $0.0) * Double(rng.next() >> 11) * 0x1p-53 }
            for (i, prior) in priors {
                let u = (Double(rng.next() >> 11) + 0.5) * 0x1p-53
                p[i] = min(max(log10(max(prior.value(u), mfa.exchangeFloor)), bounds[i].0), bounds[i].1)
            }
            if mfa.violation(at: p) <= 1e-12 { return mfa.theta(p) }
        }
        return nil
    }

    /// `count` draws from the prior (`priorDraw`), or fewer when none can be had. Where box
    /// rejection fails (a polytope too thin for its box: glycolysis) and an `exchangePrior` is
    /// set, the prior is that sampler's own distribution — hit-and-run over the polytope, the
    /// way `dataset generate` draws training states: one chain of at least 1,024 kept points
    /// from which `count` are picked at random. (One short chain per draw would start each at
    /// the polytope's Chebyshev centre and not get far from it along its long directions.)
    public func priorDraws(count: Int, using rng: inout SplitMix64) -> [[Double]] {
        var out: [[Double]] = []
        while out.count < count, let x = priorDraw(using: &rng) { out.append(x) }
        guard out.count < count, let settings = exchangePrior,
              let sampler = try? FluxSpaceSampler(network: mfa.network, basis: mfa.basis, settings: settings) else { return out }
        var chain = sampler.sample(count: max(count - out.count, 1024), using: &rng)
            .filter { mfa.violation(at: mfa.params($0)) <= 1e-12 }
        for i in chain.indices.dropLast() { chain.swapAt(i, i + Int(rng.next() % UInt64(chain.count - i))) }
        return out + chain.prefix(count - out.count)
    }

    /// (JᵀJ + P)⁻¹ at `p`: the Laplace covariance of the data, with P = diag(12/width²) — the
    /// precision of a uniform prior over each parameter's range — so directions the data do
    /// not determine get the prior's width instead of ∞; or with a given prior precision
    /// (column-major d × d, e.g. of draws over the polytope, which knows its thin directions).
    func laplaceCovariance(at p: [Double], problem: LeastSquaresMFA.Problem, bounds: [(Double, Double)],
                           priorPrecision: [Double]? = nil) -> [Double] {
        let d = p.count
        var a = [Double](repeating: 0, count: d * d)
        for j in 0..<d {
            let w = bounds[j].1 - bounds[j].0
            a[j + d * j] = w > 0 && w.isFinite ? 12 / (w * w) : 1
        }
        if let priorPrecision, priorPrecision.count == d * d { a = priorPrecision }
        if let (r, J) = mfa.evaluate(p, problem, jacobian: true) {
            let m = r.count, rows = problem.dataCount
            for c in 0..<d { for b in 0..<d {
                var s = 0.0
                for i in 0..<rows { s += J[i + m * b] * J[i + m * c] }
                a[b + d * c] += s
            } }
        }
        return Self.symmetricInverse(a, d: d) ?? (0..<(d * d)).map { i in i % (d + 1) == 0 ? 1 / a[i] : 0 }
    }

    /// The inverse of a symmetric d × d matrix (LU; symmetrised against round-off), or nil when singular.
    static func symmetricInverse(_ a: [Double], d: Int) -> [Double]? {
        var inverse = [Double](repeating: 0, count: d * d)
        for j in 0..<d { inverse[j + d * j] = 1 }
        var lu = a
        var pivots = [Int32](repeating: 0, count: d)
        guard LinearAlgebra.luFactor(n: d, a: &lu, lda: d, pivots: &pivots) == 0,
              LinearAlgebra.luSolve(n: d, nrhs: d, lu: lu, lda: d, pivots: pivots, b: &inverse, ldb: d),
              inverse.allSatisfy(\.isFinite) else { return nil }
        for c in 0..<d { for r in 0..<c { let v = (inverse[r + d * c] + inverse[c + d * r]) / 2; inverse[r + d * c] = v; inverse[c + d * r] = v } }
        return inverse
    }
}

/// A thread-safe running total (progress over parallel chains).
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ n: Int) { lock.lock(); total += n; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return total }
}
