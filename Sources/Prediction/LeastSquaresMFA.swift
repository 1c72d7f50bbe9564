import Dispatch
import Foundation
import EMU
import LinearAlgebra
import MLFluxCore
import NeuralNetworks

/// Classic 13C-MFA: the free fluxes that minimise the variance-weighted sum of squared
/// residuals, VSSR = Σ ((simulated − measured)/σ)² over the measured MID entries and
/// measured fluxes, subject to the network's flux constraints.
///
/// The optimizer is Levenberg–Marquardt on the analytic EMU Jacobian in which every step
/// solves the damped Gauss–Newton subproblem min ‖J·d + r‖² + λ‖D·d‖² under the flux
/// constraints linearised at the current point (an inequality-constrained least-squares
/// problem, solved exactly by a primal active-set method in the original variables). The
/// constraints on net fluxes are linear in the parameters, so fits stay exactly inside them;
/// no penalty terms.
///
/// Parameters: free net fluxes as they are; free exchange fluxes as log10 θ, so steps are
/// relative across decades, down to `exchangeFloor` (1e-7 by default, far below what any
/// labeling resolves, so no floor sits above a true exchange flux). Starts: `starts` (e.g.
/// an ANN prediction — the hybrid strategy) or `startCount` points from `startSampler` (the
/// flux-space sampler: feasible by construction) or, without one, the centre of the bounds
/// and uniform draws from the box; starts run on `threads` threads and the best fit wins.
/// Standard errors come from the linearised covariance (JᵀJ)⁺ over the directions the data
/// determine, with the bounds as information: each free flux also has the precision of a
/// Gaussian whose ±1σ around the estimate holds 68.27 % of its bounds (`BoundedHalfWidth`), so
/// one the data leave undetermined gets that half-width (infinite when a bound is open) and
/// combinations the data determine keep their precision.
public struct LeastSquaresMFA: Sendable {
    public let simulator: EMUSimulator
    public let basis: FreeFluxBasis
    public let network: MetabolicNetwork
    /// Bounds of every free flux (θ order); fixed free fluxes keep their value.
    public let bounds: [(lower: Double, upper: Double)]
    public var exchangeFloor: Double = 1e-7
    public var defaultStddev: Double = 0.01
    /// Iterations of one descent (per continuation stage).
    public var maxIterations: Int = 200
    /// Random starts when no `starts` are given.
    public var startCount: Int = 5
    public var seed: UInt64 = 1
    /// Worker threads for the starts.
    public var threads: Int = 1
    /// Feasible free-flux vectors `(count, seed)` for the random starts (the flux-space sampler).
    public var startSampler: (@Sendable (Int, UInt64) -> [[Double]])?
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
    /// Extra linear constraints on θ the descent keeps besides `basis.freeConstraints` (the
    /// profile likelihood pins a flux with an equality here).
    var pinned: [FreeFluxConstraint] = []
    /// Measured fluxes every fit uses when `fit` is given none (e.g. a bundle's rates table).
    public var fluxMeasurements: [FluxMeasurementRow] = []
    /// Levenberg–Marquardt steps with geodesic acceleration (Transtrum & Sethna 2012: a
    /// second-order correction along curved valleys; one more residual evaluation and one
    /// more constrained solve per step). Off by default: measured on the noisy CCM fit it
    /// doubled the iterations (225 → 527 for 6 starts); on exact glycolysis data (σ = 1e-7,
    /// 20 starts) exact fits went 14 → 16 of 20 with it, 11 when used only on crawling
    /// descents — trajectories in sloppy valleys, not a robust gain.
    public var geodesicAcceleration = false
    /// `true` when the measured fluxes are in the lab's unit (e.g. mmol/gDW/h) while the
    /// network's fluxes are relative to a fixed reference flux (a bundle: `GLC_IN = 1`).
    /// Labeling does not depend on the scale of all fluxes, so the fit adds one parameter,
    /// the scale s: measured fluxes are compared with s·v, s is the weighted least-squares
    /// optimum at every point (variable projection), and every flux of the result is s·v, in
    /// the measured unit, with the scale's error in its standard error.
    public var fluxScale: Bool = false
    /// MID entries measured at exactly 0 are left-censored (`CensoredMIDs`: the Tobit term
    /// −2·log Φ(−μ/σ) instead of (μ/σ)², and a profiled scale per renormalised MID) —
    /// what clipped, renormalised MIDs need for unbiased fits and calibrated errors. Applies
    /// only when the data contain such entries; `false`: every entry Gaussian.
    public var censorZeros: Bool = true
    /// Labeling-only mixing (pool dilution, `Guides/FluxML.md`): when the simulator has
    /// dilution groups, the fit adds one parameter per group, the share f ∈ [0, 1] of the
    /// pool that the network made (the rest is unlabeled), after the free fluxes; each
    /// starts here.
    public var dilutionStart: Double = 0.9
    /// Number of dilution parameters (`simulator.dilutionGroups`).
    public var dilutionCount: Int { simulator.dilutionGroups.count }

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
        /// The prior is itself a posterior given the same measurement (an ANN's prediction from
        /// these MIDs), so its precision already holds the data's: the MAP's covariance then
        /// takes the larger of the prior's and the data's precision per direction of the basis
        /// that diagonalises both (`LargerPrecision`) instead of their sum (which would count
        /// the data twice and state too small errors); directions the data resolve get the
        /// data's errors, the others the prior's.
        public var conditionedOnData: Bool
        /// The full covariance of θ (row-major `basis.count²`, e.g. `FluxPrediction.freeCovariance`
        /// of a network with a full-covariance head), nil: independent errors `sd`. It is taken
        /// in parameter space by the delta method at `mean` (exchange fluxes: Gaussian in log10
        /// θ, as the network states them), and the prior's residuals are the whitened
        /// `L⁻¹·(p − mean)`, `L·Lᵀ` that covariance. A covariance that is not finite or has no
        /// positive eigenvalue falls back to `sd`.
        public var covariance: [Double]?
        public init(mean: [Double], sd: [Double], covariance: [Double]? = nil, conditionedOnData: Bool = false) {
            self.mean = mean
            self.sd = sd
            self.covariance = covariance
            self.conditionedOnData = conditionedOnData
        }
    }

    /// A prior in parameter space (net fluxes as they are, exchange fluxes in log10) over the
    /// non-fixed free fluxes: residual rows `W·(p − mean)`, `WᵀW` its precision.
    struct ParameterPrior: Sendable {
        var mean: [Double]
        /// `W`, column-major `count × count`: diagonal 1/σ for independent errors (0 where σ is
        /// infinite: no prior on that parameter), the inverse root of the covariance otherwise.
        var whitening: [Double]
        /// The parameters with a prior (positive precision) and, over them, `R = W⁻¹` and `W`
        /// (column-major): what the larger-precision rule needs.
        var covered: [Int]
        var root: [Double]
        var coveredWhitening: [Double]
        var count: Int { mean.count }
        var isEmpty: Bool { mean.isEmpty }
        static let none = ParameterPrior(mean: [], whitening: [], covered: [], root: [], coveredWhitening: [])

        /// `W·(p − mean)` for the first `count` entries of `p`.
        func residuals(_ p: [Double]) -> [Double] {
            let n = count
            return (0..<n).map { i in (0..<n).reduce(0.0) { $0 + whitening[i + n * $1] * (p[$1] - mean[$1]) } }
        }

        /// Independent errors: weight 1/σ per parameter (0: none).
        init(mean: [Double], weights: [Double]) {
            let n = mean.count
            var W = [Double](repeating: 0, count: n * n)
            for i in 0..<n { W[i + n * i] = weights[i] }
            let covered = (0..<n).filter { weights[$0] > 0 }, q = covered.count
            var R = [Double](repeating: 0, count: q * q), Wq = R
            for (a, i) in covered.enumerated() { R[a + q * a] = 1 / weights[i]; Wq[a + q * a] = weights[i] }
            self.init(mean: mean, whitening: W, covered: covered, root: R, coveredWhitening: Wq)
        }

        init(mean: [Double], whitening: [Double], covered: [Int], root: [Double], coveredWhitening: [Double]) {
            self.mean = mean
            self.whitening = whitening
            self.covered = covered
            self.root = root
            self.coveredWhitening = coveredWhitening
        }
    }

    /// How one start ended.
    public struct StartResult: Sendable, Equatable, Codable {
        /// The start's free fluxes (θ).
        public var start: [Double]
        /// The free fluxes (θ) where it ended (empty when it never reached a valid state).
        public var end: [Double]
        /// VSSR of the data (MIDs and measured fluxes) at the end; infinity when it never
        /// reached a valid flux state.
        public var vssr: Double
        public var iterations: Int
        /// `true` when the last descent stopped because no step could lower the objective
        /// any further (a minimum), `false` at the iteration limit or on failure.
        public var converged: Bool
        /// Why the last descent stopped.
        public var reason: String
        /// Wall time of this start, in seconds.
        public var seconds: Double
    }

    /// The fit of one measurement.
    public struct Fit: Sendable {
        public var prediction: FluxPrediction
        /// Variance-weighted SSR of the data (MIDs and measured fluxes; prior terms left out).
        public var vssr: Double
        public var iterations: Int
        /// Independent measurements: MID entries less one per complete MID (it sums to 1), plus measured fluxes.
        public var measurements: Int
        /// Free fluxes the data determine: the numerical rank of the data Jacobian at the fit.
        public var identifiable: Int
        /// Every start's end, in start order (the best is `best`).
        public var starts: [StartResult]
        public var best: Int
        /// What was fitted (data, weights, prior), kept for the profile likelihood.
        var problem: Problem?
        /// The fitted scale s (measured unit per network unit) and its standard error, when
        /// `fluxScale` put the result in the measured fluxes' unit.
        public var scale: (value: Double, se: Double)?
        /// Labeling-only mixing: the fitted share f of each diluted pool (`simulator.dilutionGroups`
        /// order) with its standard error (from the same linearised covariance as the fluxes).
        public var dilution: [DilutionEstimate] = []
        /// Hybrid: `true` when the polished fit ended with a worse VSSR than the ANN's own
        /// prediction (or reached no valid state), so the ANN's prediction was kept as the result.
        public var keptANNPrediction: Bool = false
        /// Hybrid: `true` when the MAP fit failed the χ² test and least squares without the
        /// ANN prior (from the ANN's prediction or the MAP's end) fitted the data better, so
        /// that fit is the result.
        public var priorDropped: Bool = false
        /// MID entries at 0 fitted as censored (`censorZeros`; 0: a Gaussian fit). `vssr` is
        /// then the deviance (censored terms −2·log Φ(−μ/σ)) and follows `devianceReference`.
        public var censoredEntries: Int = 0
        /// The deviance's distribution under the censored model at the fit (nil: χ²(dof)).
        public var devianceReference: DevianceReference?
        /// Degrees of freedom of the χ² test: measurements − identifiable free fluxes.
        public var degreesOfFreedom: Int { max(measurements - identifiable, 0) }
        /// The `p`-quantile of the VSSR's distribution: χ²(dof), or the deviance reference of a
        /// censored fit.
        public func vssrQuantile(_ p: Double) -> Double {
            devianceReference?.quantile(p) ?? ChiSquared.quantile(p, dof: max(degreesOfFreedom, 1))
        }
        /// The χ² 95 % acceptance range of the VSSR: [q(0.025), q(0.975)] of χ²(dof).
        public var acceptance: ClosedRange<Double> { vssrQuantile(0.025)...vssrQuantile(0.975) }
        /// `true` when the VSSR lies in the acceptance range (with no degrees of freedom, when it is ~0).
        public var passesChiSquared: Bool {
            degreesOfFreedom == 0 && devianceReference == nil ? vssr < 1e-6 : acceptance.contains(vssr)
        }
    }

    /// The fitted share f of a diluted pool: the fraction of the measured pool that the network
    /// made (1 − f is unlabeled material that mixes in outside the mass balances).
    public struct DilutionEstimate: Sendable, Codable, Equatable {
        public var pool: String
        public var value: Double
        public var se: Double
    }

    /// Non-fixed free fluxes (the first parameters; the dilution shares follow them).
    var parameters: [Int] { (0..<basis.count).filter { basis.fixed[$0] == nil } }

    /// The dilution shares f of a parameter vector (its last `dilutionCount` entries).
    func dilution(_ p: [Double]) -> [Double] { Array(p[(p.count - dilutionCount)...]) }
    private func isExchange(_ k: Int) -> Bool { k >= basis.freeNet.count }

    func theta(_ p: [Double]) -> [Double] {
        var t = [Double](repeating: 0, count: basis.count)
        for (k, v) in basis.fixed { t[k] = v }
        for (i, k) in parameters.enumerated() { t[k] = isExchange(k) ? pow10(p[i]) : p[i] }
        return t
    }

    /// The parameter vector of free fluxes `t` and dilution shares `dilution` (default: `dilutionStart` each).
    func params(_ t: [Double], dilution: [Double]? = nil) -> [Double] {
        parameters.enumerated().map { i, k in
            let v = min(max(t[k], bounds[k].lower), bounds[k].upper)
            return isExchange(k) ? log10(max(v, exchangeFloor)) : v
        } + (dilution ?? [Double](repeating: dilutionStart, count: dilutionCount)).map { min(max($0, 0), 1) }
    }

    var paramBounds: [(Double, Double)] {
        parameters.map { k in
            isExchange(k) ? (log10(max(bounds[k].lower, exchangeFloor)), log10(max(bounds[k].upper, exchangeFloor)))
                          : (bounds[k].lower, bounds[k].upper)
        } + [(Double, Double)](repeating: (0, 1), count: dilutionCount)
    }

    /// dθ_k / dp for parameter `k` at θ: 1 for net fluxes, θ·ln 10 for exchange fluxes.
    func chain(_ k: Int, _ t: [Double]) -> Double { isExchange(k) ? t[k] * 2.302_585_092_994_046 : 1 }

    /// A standard deviation `sd` of free flux `k` at value `value`, in parameter space:
    /// exchange fluxes through d log10 θ = dθ / (θ ln 10), with θ at least the floor.
    private func parameterSD(_ sd: Double, at value: Double, free k: Int) -> Double {
        isExchange(k) ? sd / (max(value, exchangeFloor) * 2.302_585_092_994_046) : sd
    }

    /// The prior in parameter space: its means, and the whitening of its covariance (dense) or
    /// 1/σ per parameter (independent errors).
    func parameterPrior(_ prior: Prior) -> ParameterPrior {
        let means = Array(params(prior.mean).prefix(parameters.count))
        let n = basis.count, P = parameters.count
        if let cov = prior.covariance, cov.count == n * n, P > 0 {
            // dθ_k/dp at the prior's mean: 1 for net fluxes, θ·ln 10 for exchange fluxes (θ ≥ the floor).
            let g = parameters.map { k in isExchange(k) ? max(prior.mean[k], exchangeFloor) * 2.302_585_092_994_046 : 1 }
            var S = [Double](repeating: 0, count: P * P)
            for (i, k) in parameters.enumerated() {
                for (j, l) in parameters.enumerated() { S[i + P * j] = (cov[k * n + l] + cov[l * n + k]) / 2 / (g[i] * g[j]) }
            }
            if S.allSatisfy(\.isFinite), let (R, W) = LargerPrecision.roots(ofCovariance: S, n: P) {
                return ParameterPrior(mean: means, whitening: W, covered: Array(0..<P), root: R, coveredWhitening: W)
            }
        }
        return ParameterPrior(mean: means, weights: parameters.map { k in
            let sd = parameterSD(prior.sd[k], at: prior.mean[k], free: k)
            return sd.isFinite && sd > 0 ? 1 / sd : 0
        })
    }

    /// What one fit works on: the measured data with their weights and the prior.
    struct Problem: Sendable {
        let measured: MeasuredLabeling
        let rows: [Int]
        let sigma: [Double]
        let fluxes: [FluxMeasurementRow]
        /// Measured fluxes compared with s·v (s fitted), not v: `fluxScale`.
        var scaled = false
        let prior: ParameterPrior
        /// `Prior.conditionedOnData`.
        var priorConditioned = false
        /// Entries at 0 fitted as censored (`censorZeros`), nil: all Gaussian.
        var censoring: CensoredMIDs? = nil
        var dataCount: Int { rows.count + fluxes.count }
    }

    /// Weighted residuals and their Jacobian in parameter space, or nil for an invalid state.
    /// Residuals: the measured MID entries, (simulated − measured)/σ (σ at least `sigmaFloor`),
    /// then the measured fluxes, then one row per prior parameter. With censoring, the MID rows
    /// are `CensoredMIDs.residuals`, and `information` gives the censored rows of J as
    /// observed-information rows (standard errors) instead of the pseudo-residuals' derivative.
    func evaluate(_ p: [Double], _ problem: Problem, sigmaFloor: Double = 0, jacobian: Bool,
                  information: Bool = false) -> (r: [Double], J: [Double])? {
        let t = theta(p)
        let state = simulable(basis.fluxState(free: t))
        let w = problem.sigma.map { 1 / max($0, sigmaFloor) }
        var r: [Double]
        var jac: LabelingJacobian?
        var mu: [Double]
        // Shares within round-off of [0, 1] (constrained steps keep the box to ~1e-9) are clamped.
        let G = dilutionCount, shares = dilution(p).map { min(max($0, 0), 1) }
        if jacobian {
            guard let (lab, j) = try? (G > 0 ? simulator.simulate(state, basis: basis, dilution: shares)
                                            : simulator.simulate(state, basis: basis)) else { return nil }
            mu = lab.values
            jac = j
        } else {
            guard let lab = try? (G > 0 ? simulator.simulate(state, dilution: shares) : simulator.simulate(state)) else { return nil }
            mu = lab.values
        }
        r = problem.censoring?.residuals(simulated: mu, measured: problem.measured.values, rows: problem.rows, weights: w)
            ?? zip(problem.rows, w).map { (mu[$0] - problem.measured.values[$0]) * $1 }
        let s = problem.scaled ? Self.scale(problem.fluxes, state) : 1
        for f in problem.fluxes { r.append((s * f.simulated(state) - f.value) / f.stddev) }
        if !problem.prior.isEmpty { r += problem.prior.residuals(p) }
        guard jacobian, let jac else { return (r, []) }
        let P = p.count, m = r.count, R = problem.rows.count
        var J = [Double](repeating: 0, count: m * P)   // column-major m × P
        let nf = basis.freeNet.count, xf = basis.freeExchange.count
        for (c, k) in parameters.enumerated() {
            let scale = chain(k, t)
            for (i, row) in problem.rows.enumerated() { J[i + m * c] = jac[row, k] * scale * w[i] }
            for (i, f) in problem.fluxes.enumerated() {
                // d(Σ a·v_j)/dθ_k from the kernels: net fluxes depend on free net fluxes only, exchange on exchange.
                let d = f.terms.reduce(0.0) { acc, t in
                    switch (f.kind, isExchange(k)) {
                    case (.exchange, true): return acc + t.coefficient * basis.exchangeKernel[t.reaction * xf + (k - nf)]
                    case (.net, false): return acc + t.coefficient * basis.netKernel[t.reaction * nf + k]
                    default: return acc
                    }
                }
                // Scaled: ∂(s·f)/∂θ at the optimal s (Kaufman's variable-projection Jacobian; the
                // gradient is exact because ∂cost/∂s = 0 there).
                J[R + i + m * c] = s * d * scale / f.stddev
            }
            let q = problem.prior.count
            for i in 0..<q { J[problem.dataCount + i + m * c] = problem.prior.whitening[i + q * c] }
        }
        // Dilution shares: ∂y/∂f from the simulator's columns after the free fluxes; no flux or prior rows.
        for g in 0..<G {
            let c = parameters.count + g
            for (i, row) in problem.rows.enumerated() { J[i + m * c] = jac[row, basis.count + g] * w[i] }
        }
        problem.censoring?.transform(&J, m: m, columns: P, residuals: r, simulated: mu, measured: problem.measured.values,
                                     rows: problem.rows, weights: w, information: information)
        return (r, J)
    }

    /// `state` with one-way net fluxes and exchange fluxes within 1e-9 below 0 set to 0: the
    /// constrained steps keep `≥ 0` to round-off, and the simulator refuses any negative value.
    func simulable(_ state: FluxState) -> FluxState {
        var s = state
        for j in s.net.indices {
            if !network.isBidirectional[j], s.net[j] < 0, s.net[j] > -1e-9 { s.net[j] = 0 }
            if s.exchange[j] < 0, s.exchange[j] > -1e-9 { s.exchange[j] = 0 }
        }
        return s
    }

    /// What a fit of `measured` (and measured `fluxes`, with a `prior`) works on: the measured
    /// entries, their σ (`defaultStddev` where none), censoring when `censorZeros`.
    func problem(_ measured: MeasuredLabeling, fluxes: [FluxMeasurementRow], prior: Prior? = nil) -> Problem {
        let rows = measured.mask.indices.filter { measured.mask[$0] }
        return Problem(measured: measured, rows: rows,
                       sigma: rows.map { measured.stddev[$0].isFinite ? measured.stddev[$0] : defaultStddev },
                       fluxes: fluxes, scaled: fluxScale && !fluxes.isEmpty, prior: prior.map(parameterPrior) ?? .none,
                       priorConditioned: prior?.conditionedOnData ?? false,
                       censoring: censorZeros ? CensoredMIDs(measured: measured, rows: rows) : nil)
    }

    /// Fits one measurement (MIDs and optionally measured fluxes) from the given starting
    /// free-flux vectors, or from `startCount` sampled starts; with a `prior`, the maximum a
    /// posteriori estimate (its covariance then includes the prior).
    /// `nil` when no start reaches a valid flux state or `check(measured)` fails.
    public func fit(_ measured: MeasuredLabeling, fluxes given: [FluxMeasurementRow]? = nil, starts: [[Double]] = [],
                    prior: Prior? = nil) -> Fit? {
        let fluxes = given ?? fluxMeasurements
        guard (try? check(measured)) != nil,
              fluxes.allSatisfy({ f in f.value.isFinite && f.stddev.isFinite && f.stddev > 0
                  && f.terms.allSatisfy { network.reactions.indices.contains($0.reaction) } })
        else { return nil }
        let problem = self.problem(measured, fluxes: fluxes, prior: prior)
        let rows = problem.rows
        let candidates = starts.isEmpty ? randomStarts() : starts
        let floors = continuationFloors(problem.sigma)
        let outcomes = ParallelRows.map(count: candidates.count, threads: threads) { i in
            let clock = DispatchTime.now().uptimeNanoseconds
            let d = descend(from: params(candidates[i]), problem, floors: floors)
            return (d, Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9)
        }
        var results: [StartResult] = [], ends: [Descent?] = []
        for (i, o) in outcomes.enumerated() {
            let (d, seconds) = (try? o.get()) ?? (nil, 0)
            ends.append(d)
            // Censored entries: the deviance (Σ r² less their floor).
            let dataCost = d.map { $0.r[..<problem.dataCount].reduce(0) { $0 + $1 * $1 } - (problem.censoring?.costFloor ?? 0) } ?? .infinity
            results.append(StartResult(start: candidates[i], end: d.map { theta($0.p) } ?? [], vssr: dataCost, iterations: d?.it ?? 0,
                                       converged: d?.converged ?? false, reason: d?.reason ?? "no valid flux state reached",
                                       seconds: seconds))
        }
        guard let bestIndex = ends.indices.filter({ ends[$0] != nil }).min(by: { ends[$0]!.cost < ends[$1]!.cost }),
              var best = ends[bestIndex] else { return nil }
        // Censored entries: standard errors from their observed information, not the pseudo-residuals' slope.
        if problem.censoring != nil, let info = evaluate(best.p, problem, jacobian: true, information: true) { best.J = info.J }
        let t = theta(best.p)
        let state = simulable(basis.fluxState(free: t))
        let scaleColumn = problem.scaled ? scaleJacobianColumn(problem, state, rows: best.r.count) : nil
        let (se, rank, scale, covariance, dilutionSE) = standardErrors(best, problem: problem, theta: t, scaleColumn: scaleColumn)
        let s = problem.scaled ? Self.scale(problem.fluxes, state) : 1
        // Unscaled fits propagate the full covariance of θ (a flux fixed by mass balance gets its
        // true error); a scaled fit, whose errors include the scale's, the standard errors.
        let prediction = covariance.map {
            FluxPrediction(free: t, freeCovariance: $0, basis: basis, network: network, temperature: temperature)
        } ?? FluxPrediction(free: t.map { s * $0 }, freeSE: se, basis: basis, network: network, temperature: temperature)
        var fit = Fit(prediction: prediction,
                      vssr: results[bestIndex].vssr, iterations: best.it, measurements: measured.independentValues + fluxes.count,
                      identifiable: rank, starts: results, best: bestIndex, problem: problem)
        if let scale { fit.scale = (s, scale) }
        let shares = dilution(best.p).map { min(max($0, 0), 1) }
        if let censoring = problem.censoring,
           let lab = try? (dilutionCount > 0 ? simulator.simulate(state, dilution: shares) : simulator.simulate(state)) {
            fit.censoredEntries = censoring.censoredCount
            fit.devianceReference = censoring.reference(simulated: lab.values, rows: rows, weights: problem.sigma.map { 1 / $0 },
                                                        extra: fluxes.count, fitted: rank)
        }
        fit.dilution = zip(simulator.dilutionGroups, zip(dilution(best.p), dilutionSE)).map {
            DilutionEstimate(pool: $0, value: min(max($1.0, 0), 1), se: $1.1)
        }
        return fit
    }

    /// The weighted least-squares scale s ≥ 0 from `state`'s fluxes fᵢ to the measured mᵢ:
    /// argmin Σ ((s·fᵢ − mᵢ)/σᵢ)² = Σ fᵢmᵢ/σᵢ² / Σ fᵢ²/σᵢ² (1 when no measured flux varies).
    public static func scale(_ rows: [FluxMeasurementRow], _ state: FluxState) -> Double {
        var num = 0.0, den = 0.0
        for f in rows {
            let v = f.simulated(state), w = 1 / (f.stddev * f.stddev)
            num += v * f.value * w
            den += v * v * w
        }
        return den > 0 ? max(num / den, 0) : 1
    }

    /// ∂r/∂s of the residual vector (MID rows, flux rows, prior rows): fᵢ/σᵢ on the flux rows.
    private func scaleJacobianColumn(_ problem: Problem, _ state: FluxState, rows m: Int) -> [Double] {
        var column = [Double](repeating: 0, count: m)
        for (i, f) in problem.fluxes.enumerated() { column[problem.rows.count + i] = f.simulated(state) / f.stddev }
        return column
    }

    /// VSSR of the measured MID entries at `state` (σ = the entry's own, else `defaultStddev`),
    /// the data term a fit minimises; nil when the state cannot be simulated.
    public func vssr(of state: FluxState, _ measured: MeasuredLabeling) -> Double? {
        guard let lab = try? simulator.simulate(simulable(state)), lab.values.count == measured.values.count else { return nil }
        let rows = measured.mask.indices.filter { measured.mask[$0] }
        if censorZeros, let censoring = CensoredMIDs(measured: measured, rows: rows) {
            let w = rows.map { 1 / (measured.stddev[$0].isFinite ? measured.stddev[$0] : defaultStddev) }
            return censoring.residuals(simulated: lab.values, measured: measured.values, rows: rows, weights: w)
                .reduce(0) { $0 + $1 * $1 } - censoring.costFloor
        }
        var sum = 0.0
        for i in measured.mask.indices where measured.mask[i] {
            let s = measured.stddev[i].isFinite ? measured.stddev[i] : defaultStddev
            let d = (lab.values[i] - measured.values[i]) / s
            sum += d * d
        }
        return sum
    }

    /// Starting free-flux vectors: `startSampler`'s feasible draws, or the centre of the
    /// bounds and uniform draws from the box.
    func randomStarts() -> [[Double]] { randomStarts(count: startCount) }

    /// `count` starting free-flux vectors drawn as `fit` draws its random starts (with `seed`).
    public func randomStarts(count startCount: Int) -> [[Double]] {
        if let startSampler { return startSampler(max(startCount, 1), seed) }
        let pb = paramBounds
        var out = [pb.map { ($0.0 + $0.1) / 2 }]
        var rng = SplitMix64(seed: seed)
        while out.count < max(startCount, 1) { out.append(pb.map { $0.0 + ($0.1 - $0.0) * Double.random(in: 0..<1, using: &rng) }) }
        return out.map(theta)
    }

    /// One start through the continuation stages.
    private func descend(from start: [Double], _ problem: Problem, floors: [Double]) -> Descent? {
        var from = start
        var result: Descent?
        var iterations = 0
        for (stage, floor) in floors.enumerated() {
            // A start already inside this stage's valley (VSSR within the entries' count) skips
            // it: an ANN start usually fits the MIDs far better than 1e-2.
            if stage < floors.count - 1, let r = evaluate(from, problem, sigmaFloor: floor, jacobian: false)?.r,
               r.reduce(0, { $0 + $1 * $1 }) - (problem.censoring?.costFloor ?? 0) <= Double(r.count) { continue }
            guard var g = constrainedDescent(from: from, problem, sigmaFloor: floor) else { break }
            iterations += g.it
            g.it = iterations
            from = g.p
            result = g
        }
        return result
    }

    /// Standard errors of θ from the linearised covariance of the parameters, (JᵀJ)⁺ over the
    /// directions the data determine (`pseudoInverse`), and the rank of the data part of J. A
    /// free flux without a prior also carries its bounds as information (a Gaussian whose ±1σ
    /// around the estimate holds 68.27 % of them, `BoundedHalfWidth`), so one the data leave
    /// undetermined gets that half-width (∞ if a bound is open).
    ///
    /// With a `scaleColumn` (∂r/∂s of a scaled fit), the covariance is that of (parameters, s)
    /// and the errors are those of s·θ: var = s²·var θ + θ²·var s + 2sθ·cov(θ, s); the third
    /// value is then the scale's standard error. The last value: the standard errors of the
    /// dilution shares (the SD of a uniform share, 1/√12, when the data leave one undetermined).
    private func standardErrors(_ best: Descent, problem: Problem, theta t: [Double],
                                scaleColumn: [Double]? = nil) -> ([Double], Int, Double?, [Double]?, [Double]) {
        let P0 = best.p.count, m = best.r.count, d = problem.dataCount
        let J = best.J + (scaleColumn ?? [])
        let P = P0 + (scaleColumn == nil ? 0 : 1)
        var dataJ = [Double](repeating: 0, count: d * P)
        for c in 0..<P { for i in 0..<d { dataJ[i + d * c] = J[i + m * c] } }
        let conditioned = problem.priorConditioned && !problem.prior.covered.isEmpty
            ? Self.largerPrecision(data: Self.normalMatrix(dataJ, rows: d, columns: P), prior: problem.prior, size: P) : nil
        let sv = LinearAlgebra.singularValues(m: d, n: P, a: &dataJ) ?? []
        let rank = sv.filter { $0 > 1e-8 * (sv.first ?? 0) }.count
        let pb = paramBounds
        // The bounds as information on a parameter without a prior: a Gaussian whose ±1σ around
        // the estimate holds 68.27 % of them (`BoundedHalfWidth`), added to the data's precision.
        // Where the data determine the parameter it changes nothing; where they do not (a flat
        // or nearly flat VSSR, the estimate often at a bound) its variance becomes that
        // half-width² — calibrated when the truth is anywhere inside the bounds — while the
        // combinations the data do determine keep the data's precision (glycolysis: H_IN and
        // H_EX each unresolved, H_IN − H_EX and the fluxes it fixes resolved).
        let priorOn = Set(problem.prior.covered)
        let halfWidth = (0..<P).map { i -> Double in
            i < parameters.count && !priorOn.contains(i)
                ? BoundedHalfWidth.halfWidth(value: best.p[i], lower: pb[i].0, upper: pb[i].1) : .infinity
        }
        let (inverse, determined) = conditioned
            ?? Self.pseudoInverse(Self.withBounds(Self.normalMatrix(J, rows: m, columns: P), halfWidth: halfWidth, size: P), size: P)
        let solved = determined.contains(true) || P == 0
        var se = [Double](repeating: 0, count: basis.count)
        // Still undetermined (an open bound, or a prior's conditioned precision that leaves the
        // parameter out): its bounds only, no correlations — the half-width above, ∞ when a bound
        // is open. A parameter under a prior (the hybrid's MAP) falls back only when its 1σ is
        // wider than its bounds, to the SD of a uniform distribution over them (range/√12).
        var byBounds = [Bool](repeating: false, count: P)
        for (i, k) in parameters.enumerated() {
            var sp = determined[i] ? max(inverse[i + P * i], 0).squareRoot() : .infinity
            let range = pb[i].1 - pb[i].0
            let (limit, fallback) = priorOn.contains(i)
                ? (range, range.isFinite ? range / 12.0.squareRoot() : .infinity)
                : (halfWidth[i] * (1 + 1e-9), halfWidth[i])   // (its own precision caps it at h)
            if !(sp <= limit) {
                sp = fallback
                byBounds[i] = true
            }
            se[k] = sp.isFinite ? chain(k, t) * sp : .infinity
        }
        let dilutionSE = (0..<dilutionCount).map { g -> Double in
            let i = parameters.count + g
            let sp = determined[i] ? max(inverse[i + P * i], 0).squareRoot() : .infinity
            return sp <= 1 ? sp : 1 / 12.0.squareRoot()
        }
        guard scaleColumn != nil else {
            // Covariance of θ (row-major): chain-rule scaled parameter covariance; a free flux
            // known from its bounds only has its variance and no correlations (∞ when
            // unbounded); fixed ones 0.
            guard solved else { return (se, rank, nil, nil, dilutionSE) }
            let n = basis.count
            var cov = [Double](repeating: 0, count: n * n)
            for (i, k) in parameters.enumerated() {
                guard se[k].isFinite else { cov[k * n + k] = .infinity; continue }
                if byBounds[i] { cov[k * n + k] = se[k] * se[k]; continue }
                for (j, l) in parameters.enumerated() where se[l].isFinite && !byBounds[j] {
                    cov[k * n + l] = chain(k, t) * chain(l, t) * inverse[i + P * j]
                }
            }
            return (se, rank, nil, cov, dilutionSE)
        }
        // The scale is the last parameter: errors of s·θ.
        let state = simulable(basis.fluxState(free: t))
        let s = Self.scale(problem.fluxes, state), S = P - 1
        let varS = determined[S] ? max(inverse[S + P * S], 0) : .infinity
        for k in 0..<basis.count {
            guard let i = parameters.firstIndex(of: k) else {
                se[k] = abs(t[k]) * varS.squareRoot()      // a fixed free flux (the reference): θ·σ_s
                continue
            }
            guard se[k].isFinite else { continue }
            let g = chain(k, t)
            let v = s * s * g * g * inverse[i + P * i] + t[k] * t[k] * varS + 2 * s * g * t[k] * inverse[i + P * S]
            se[k] = max(v, 0).squareRoot()
        }
        // The scale is a parameter the data determine (one measured flux suffices).
        return (se, rank, varS.squareRoot(), nil, dilutionSE)
    }

    /// `normal` (a P × P precision, `JᵀJ`) plus the bounds' precision 1/h² on the diagonal for
    /// every parameter with a finite, positive half-width `halfWidth[i]` (`BoundedHalfWidth`).
    static func withBounds(_ normal: [Double], halfWidth: [Double], size P: Int) -> [Double] {
        var precision = normal
        for i in 0..<P where halfWidth[i].isFinite && halfWidth[i] > 0 { precision[i + P * i] += 1 / (halfWidth[i] * halfWidth[i]) }
        return precision
    }

    /// The covariance of the parameters when the prior is itself a posterior given the same data
    /// (`Prior.conditionedOnData`): over the parameters with a prior, the data's precision
    /// `data` (`JᵀJ` of the data rows, `size²`) and the prior's are combined by
    /// `LargerPrecision` (per direction of their joint eigenbasis the larger, instead of the
    /// sum); parameters without a prior (dilution shares, the flux scale) keep the data's
    /// precision and its couplings. With a prior on every parameter the covariance is the
    /// combination's own inverse (every parameter determined); otherwise `pseudoInverse` of the
    /// combined precision. `nil` when LAPACK fails.
    static func largerPrecision(data: [Double], prior: ParameterPrior, size P: Int) -> (inverse: [Double], determined: [Bool])? {
        let I = prior.covered, q = I.count
        var block = [Double](repeating: 0, count: q * q)
        for (b, j) in I.enumerated() { for (a, i) in I.enumerated() { block[a + q * b] = data[i + P * j] } }
        guard let combined = LargerPrecision.combine(data: block, root: prior.root, whitening: prior.coveredWhitening, n: q) else {
            return nil
        }
        if q == P, I == Array(0..<P) { return (combined.covariance, [Bool](repeating: true, count: P)) }
        var precision = data
        for (b, j) in I.enumerated() { for (a, i) in I.enumerated() { precision[i + P * j] = combined.precision[a + q * b] } }
        return pseudoInverse(precision, size: P)
    }

    /// `JᵀJ` (P × P) of a column-major `m × P` matrix `J`.
    static func normalMatrix(_ J: [Double], rows m: Int, columns P: Int) -> [Double] {
        var jtj = [Double](repeating: 0, count: P * P)
        guard m > 0, P > 0 else { return jtj }
        J.withUnsafeBufferPointer { jp in
            jtj.withUnsafeMutableBufferPointer { c in
                LinearAlgebra.gemm(transA: true, m: P, n: P, k: m, a: jp.baseAddress!, lda: m, b: jp.baseAddress!, ldb: m,
                                   c: c.baseAddress!, ldc: P)
            }
        }
        return jtj
    }

    /// The covariance of the parameters, `(JᵀJ)⁺` over the directions the data determine, and
    /// which parameters are determined. `JᵀJ` is first scaled to unit diagonal (parameters of
    /// 10⁻¹ and 10⁴ alike), then split by its eigenvalues: directions below 10⁻¹⁰ of the largest
    /// are the null space; a parameter with more than 10⁻⁶ of its (scaled) unit vector in it —
    /// or no sensitivity at all — is undetermined. Full-rank problems get `(JᵀJ)⁻¹`; in
    /// rank-deficient ones (a 107-reaction network with 11 of 34 free fluxes unidentifiable)
    /// the determined parameters keep finite errors instead of sharing the null space's.
    static func pseudoInverse(_ jtj: [Double], size P: Int) -> (inverse: [Double], determined: [Bool]) {
        var inverse = [Double](repeating: 0, count: P * P)
        let d = (0..<P).map { jtj[$0 + P * $0] }
        let live = d.map { $0 > 0 && $0.isFinite }
        var scaled = [Double](repeating: 0, count: P * P)
        for j in 0..<P where live[j] {
            for i in 0..<P where live[i] { scaled[i + P * j] = jtj[i + P * j] / (d[i] * d[j]).squareRoot() }
        }
        guard P > 0, let eig = LinearAlgebra.symmetricEigen(n: P, a: scaled) else {
            return (inverse, [Bool](repeating: false, count: P))
        }
        let top = eig.values.last ?? 0
        var nullWeight = [Double](repeating: 0, count: P)
        for k in 0..<P {
            let lambda = eig.values[k]
            let v = eig.vectors[(k * P)..<((k + 1) * P)]
            if top > 0 && lambda > 1e-10 * top {
                for j in 0..<P where live[j] {
                    let vj = v[k * P + j] / (lambda * d[j].squareRoot())
                    if vj == 0 { continue }
                    for i in 0..<P where live[i] { inverse[i + P * j] += v[k * P + i] / d[i].squareRoot() * vj }
                }
            } else {
                for i in 0..<P { nullWeight[i] += v[k * P + i] * v[k * P + i] }
            }
        }
        return (inverse, (0..<P).map { live[$0] && nullWeight[$0] <= 1e-6 })
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
    private func continuationFloors(_ sigmas: [Double]) -> [Double] {
        guard continuationStart > 0, let smallest = sigmas.min(), smallest < continuationStart else { return [0] }
        var floors: [Double] = []
        var f = continuationStart
        while f > smallest * 1.5 { floors.append(f); f /= continuationRatio }
        return floors + [0]
    }
}
