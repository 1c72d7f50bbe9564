import FluxSampling
import Foundation
import LinearAlgebra
import MLFluxCore

/// The amortized posterior, corrected by importance sampling: the ANN's per-prediction
/// distribution is the proposal, and each proposed flux vector is weighted by the Bayesian
/// posterior of `FluxPosterior` (the same likelihood, exp(−VSSR/2) with the data's σ and
/// censored zeros, and the same prior) over the proposal's density — neural importance
/// sampling (Dax et al., Phys. Rev. Lett. 130, 171403, 2023). Where the network's Gaussian
/// is close to the posterior, a few thousand simulations (no chains, no burn-in) give the
/// posterior's shape — bounds of the polytope, skewed exchange fluxes — that the Gaussian
/// alone cannot state; where it is not, the effective sample size says so.
///
/// Coordinates are the fit's parameters (net free fluxes as they are, exchange free fluxes in
/// log10), in which the network's targets are affine, so its Gaussian carries over exactly.
/// Proposal: a defensive mixture of multivariate Student-t distributions (`tailDegrees`) around
/// the network's mean, with its calibrated covariance scaled by each `components` factor, so
/// the weights stay bounded where the posterior's tails are heavier than the network's — and,
/// with `laplaceShare`, the same around the least-squares optimum reached from the network's
/// mean with the Laplace covariance there (the MCMC's proposal shape).
/// Weights are truncated at w̄·√N (Ionides 2008, truncated importance sampling), and the
/// weighted proposals resampled systematically into `proposals` equally weighted draws.
public struct ImportancePosterior: Sendable {
    /// The likelihood and prior (and `threads`, `seed`).
    public var posterior: FluxPosterior
    /// The network whose per-prediction distribution is the proposal (unless `sample` is given one).
    public var ann: ANNPredictor?
    /// Proposed flux vectors (each one EMU simulation).
    public var proposals = 4000
    /// Degrees of freedom of the Student-t components.
    public var tailDegrees = 5.0
    /// Mixture weight and covariance scale (of σ) of each component.
    public var components: [(weight: Double, scale: Double)] = [(0.7, 1.0), (0.3, 2.0)]
    /// Share of the proposal centred on the Laplace approximation (the least-squares optimum
    /// reached from the network's mean, `FluxPosterior`'s proposal covariance there) instead of
    /// on the network's Gaussian: a network's free-flux covariance does not state the
    /// near-deterministic combinations that keep fluxes fixed by mass balance inside the
    /// polytope (glycolysis: free fluxes ~1000, derived ones ~1), so its draws mostly leave it.
    /// 0: the network alone, no fit.
    public var laplaceShare = 0.5

    /// Draws over the flux polytope (the sampler of `posterior.exchangePrior`, or the bundle's
    /// automatic one) whose covariance narrows the proposal along the polytope's thin
    /// directions; 0: none.
    public var priorDraws = 2000

    /// The inverse covariance of `priorDraws` draws over the polytope in the fit's parameters,
    /// or nil (no draws, a sampler that cannot start, a singular covariance).
    func priorPrecision() -> [Double]? {
        let mfa = posterior.mfa
        guard priorDraws > 1, let sampler = try? FluxSpaceSampler(network: mfa.network, basis: mfa.basis,
                                                                  settings: posterior.exchangePrior ?? .automatic(for: mfa.basis)) else { return nil }
        var rng = SplitMix64(seed: SplitMix64.mix(posterior.seed &+ 0x2_5000))
        let draws = sampler.sample(count: priorDraws, using: &rng).map { mfa.params($0) }
        guard let d = draws.first?.count, d > 0 else { return nil }
        let n = Double(draws.count)
        let mean = (0..<d).map { j in draws.reduce(0) { $0 + $1[j] } / n }
        var cov = [Double](repeating: 0, count: d * d)
        for x in draws { for c in 0..<d { for r in 0..<d { cov[r + d * c] += (x[r] - mean[r]) * (x[c] - mean[c]) / (n - 1) } } }
        return FluxPosterior.symmetricInverse(cov, d: d)
    }

    /// `p` moved into the parameters' box (a start for the fit).
    func clampedToBounds(_ p: [Double]) -> [Double] {
        zip(p, posterior.mfa.paramBounds).map { min(max($0, $1.0), $1.1) }
    }

    public init(posterior: FluxPosterior, ann: ANNPredictor?) {
        self.posterior = posterior
        self.ann = ann
    }

    /// What the weights say about the proposal.
    public struct Diagnostics: Sendable, Equatable, Codable {
        public var proposals: Int
        /// Kish's effective sample size (Σw)²/Σw² of the truncated weights.
        public var effectiveSampleSize: Double
        /// Share of proposals inside the polytope with a finite posterior density.
        public var insideShare: Double
        /// The largest normalised weight.
        public var largestWeight: Double
    }

    public enum ImportanceError: Error, CustomStringConvertible, Equatable {
        case unsupported(String)
        case noWeight
        public var description: String {
            switch self {
            case .unsupported(let why): return "importance sampling needs \(why)"
            case .noWeight: return "importance sampling: no proposed flux vector lies inside the flux polytope with a finite posterior density"
            }
        }
    }

    /// The network's Gaussian in the fit's parameters: mean and covariance (column-major d × d)
    /// over `posterior.mfa.parameters`.
    func proposalGaussian(_ measured: MeasuredLabeling) throws -> (mean: [Double], covariance: [Double]) {
        let mfa = posterior.mfa
        guard let ann else { throw ImportanceError.unsupported("a network or a given proposal") }
        let (net, mean, cov) = try ann.targetDistribution(measured: measured)
        let outputs = net.members[0].transform.outputs
        let d = mfa.parameters.count
        guard d > 0, mfa.dilutionCount == 0 else { throw ImportanceError.unsupported("free fluxes to sample and no diluted pools") }
        let index = mfa.parameters.map { k in outputs.firstIndex { $0.free == k } }
        guard index.allSatisfy({ $0 != nil }) else {
            throw ImportanceError.unsupported("a network that predicts every free flux the fit varies")
        }
        let t = outputs.count
        var m = [Double](repeating: 0, count: d), c = [Double](repeating: 0, count: d * d)
        for (i, j) in index.enumerated() {
            let o = outputs[j!]
            m[i] = mean[j!] * o.scale + o.offset
            for (i2, j2) in index.enumerated() { c[i + d * i2] = cov[j! * t + j2!] * o.scale * outputs[j2!].scale }
        }
        return (m, c)
    }

    /// The proposal for `measured`: the mixture of Student-t components around `proposal` (the
    /// fit's parameters: mean and column-major d × d covariance over `posterior.mfa.parameters`)
    /// and, with `laplaceShare`, around the least-squares optimum reached from its mean (and
    /// that fit); both narrowed by the polytope's own covariance (`priorDraws`): (C⁻¹ + Σ_prior⁻¹)⁻¹.
    func mixture(_ measured: MeasuredLabeling, proposal: (mean: [Double], covariance: [Double])) throws -> (ProposalMixture, LeastSquaresMFA.Fit?) {
        let mfa = posterior.mfa
        let (mean, cov) = proposal
        let d = mean.count
        guard d == mfa.parameters.count, cov.count == d * d, (mean + cov).allSatisfy(\.isFinite) else {
            throw ImportanceError.unsupported("a finite proposal over the \(mfa.parameters.count) parameters the fit varies")
        }
        var centres: [ProposalMixture.Centre] = []
        let priorPrecision = self.priorPrecision()
        let shaped = priorPrecision.flatMap { pp in
            FluxPosterior.symmetricInverse(cov, d: d).flatMap { FluxPosterior.symmetricInverse(zip($0, pp).map { $0 + $1 }, d: d) }
        } ?? cov
        guard let annCentre = ProposalMixture.Centre(mean: mean, covariance: shaped) else {
            throw ImportanceError.unsupported("a positive definite proposal covariance")
        }
        centres.append(annCentre)
        var fit: LeastSquaresMFA.Fit? = nil
        if laplaceShare > 0, let f = mfa.fit(measured, starts: [mfa.theta(clampedToBounds(mean))]), let p = f.problem {
            let centre = mfa.params(f.prediction.free)
            if let c = ProposalMixture.Centre(mean: centre, covariance: posterior.laplaceCovariance(at: centre, problem: p, bounds: mfa.paramBounds,
                                                                                                   priorPrecision: priorPrecision)) {
                centres.append(c)
                fit = f
            }
        }
        // Components: every centre × every (weight, scale); the Laplace centre gets `laplaceShare`.
        var comps: [ProposalMixture.Component] = []
        let scaleTotal = components.reduce(0) { $0 + $1.weight }
        for c in centres.indices {
            let share = centres.count == 1 ? 1 : (c == 0 ? 1 - laplaceShare : laplaceShare)
            for k in components { comps.append(.init(centre: c, weight: share * k.weight / scaleTotal, scale: k.scale)) }
        }
        return (ProposalMixture(centres: centres, components: comps, tailDegrees: tailDegrees), fit)
    }

    /// The proposal for one input, built once (a least-squares fit and draws over the
    /// polytope) for `sample` here and in `TemperedPosterior`, which build it themselves when
    /// not given one.
    public struct Prepared: Sendable {
        let mixture: ProposalMixture
        let fit: LeastSquaresMFA.Fit?
    }

    /// The proposal for `measured` around `proposal` (default: the network's Gaussian).
    public func prepare(_ measured: MeasuredLabeling, proposal: (mean: [Double], covariance: [Double])? = nil) throws -> Prepared {
        let (mixture, fit) = try self.mixture(measured, proposal: proposal ?? proposalGaussian(measured))
        return Prepared(mixture: mixture, fit: fit)
    }

    /// Samples the posterior of `measured` (complete labeling; no fitted flux scale). The
    /// proposal's centre is `proposal`'s mean and covariance (the fit's parameters, column-major
    /// d × d over `posterior.mfa.parameters`), by default the network's for `measured`;
    /// `prepared`, when given, is the proposal itself (from `prepare` for the same input).
    public func sample(_ measured: MeasuredLabeling, proposal: (mean: [Double], covariance: [Double])? = nil,
                       prepared: Prepared? = nil,
                       progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> FluxPosterior.Result {
        let clock = Date()
        let mfa = posterior.mfa
        try mfa.check(measured)
        let problem = mfa.problem(measured, fluxes: mfa.fluxMeasurements)
        guard !problem.scaled else { throw ImportanceError.unsupported("fluxes in the network's unit (measured fluxes without a fitted scale)") }
        let (mixture, fit) = try prepared.map { ($0.mixture, $0.fit) } ?? self.mixture(measured, proposal: proposal ?? proposalGaussian(measured))
        let logDensity = posterior.logDensity(problem)
        var rng = SplitMix64(seed: SplitMix64.mix(posterior.seed &+ 0x1_5000))
        let draws = (0..<proposals).map { _ in mixture.draw(using: &rng) }
        let counter = ProgressCounter(), proposed = draws
        let logTarget = ParallelRows.map(count: proposed.count, threads: posterior.threads) { i -> Double in
            let v = logDensity(proposed[i])
            counter.add(1)
            if i % 64 == 0 { progress?(counter.value, proposed.count) }
            return v
        }.map { (try? $0.get()) ?? -.infinity }
        let logWeights = zip(logTarget, draws).map { $0.isFinite ? $0 - mixture.logDensity($1) : -.infinity }
        guard let top = logWeights.filter(\.isFinite).max() else { throw ImportanceError.noWeight }
        var w = logWeights.map { $0.isFinite ? exp($0 - top) : 0 }
        let cap = w.reduce(0, +) / Double(w.count) * Double(w.count).squareRoot()
        w = w.map { min($0, cap) }
        let sum = w.reduce(0, +)
        w = w.map { $0 / sum }
        let diagnostics = Diagnostics(proposals: draws.count, effectiveSampleSize: 1 / w.reduce(0) { $0 + $1 * $1 },
                                      insideShare: Double(logWeights.filter(\.isFinite).count) / Double(draws.count),
                                      largestWeight: w.max() ?? 0)
        // Systematic resampling into equally weighted draws.
        let kept = Self.systematicResample(w, using: &rng).map { mfa.theta(draws[$0]) }
        var ess = [Double](repeating: .nan, count: mfa.basis.count)
        for k in mfa.parameters { ess[k] = diagnostics.effectiveSampleSize }
        return FluxPosterior.Result(draws: kept, chains: 1, rHat: [Double](repeating: .nan, count: mfa.basis.count), ess: ess,
                                    acceptance: [], swapRate: [], fit: fit, seconds: Date().timeIntervalSince(clock),
                                    importance: diagnostics)
    }

    /// Systematic resampling: `weights.count` indices, index i about weights[i]·n times (the
    /// weights sum to 1), in ascending order (descendants of one draw side by side).
    static func systematicResample(_ weights: [Double], using rng: inout SplitMix64) -> [Int] {
        let n = weights.count
        let u0 = Double(rng.next() >> 11) * 0x1p-53
        var kept: [Int] = []
        kept.reserveCapacity(n)
        var cumulative = 0.0, i = 0
        for k in 0..<n {
            let target = (Double(k) + u0) / Double(n)
            while i < n - 1, cumulative + weights[i] <= target { cumulative += weights[i]; i += 1 }
            kept.append(i)
        }
        return kept
    }
}
