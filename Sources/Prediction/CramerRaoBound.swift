import EMU
import MLFluxCore

extension LeastSquaresMFA {
    /// The Cramér–Rao bound of the fluxes at a known flux state, given which MID entries are
    /// measured and with what σ: the inverse Fisher information `(JᵀJ)⁻¹` of the σ-weighted
    /// EMU Jacobian of the **measured entries only** (no prior, no measured fluxes), taken over
    /// the free fluxes the fit varies (net as they are, exchange in log10, as `fit` does),
    /// then propagated to every reaction's net and exchange flux through the kernels.
    ///
    /// An unbiased estimator from data with that σ cannot have a smaller standard error; the
    /// bound scales linearly with σ. A free flux whose direction lies (more than 10⁻⁶) in the
    /// null space of `JᵀJ` (`pseudoInverse`) is not identifiable from these entries — no σ
    /// makes it known, and any estimate of it is the prior's (a network's conditional
    /// average); every reaction flux that depends on such a free flux gets an infinite bound.
    /// Bounds of the flux space are ignored (a local, unconstrained bound).
    public struct InformationBound: Sendable {
        /// Per reaction (network order), the bound on the standard error of its net flux
        /// (network units); ∞ where not identifiable, 0 for fixed fluxes.
        public var netSE: [Double]
        /// Per reaction, the bound on the standard error of its exchange flux (network units).
        public var exchangeSE: [Double]
        /// Per free flux (θ order): whether the measured entries determine it (fixed ones: true).
        public var determined: [Bool]
        /// How many of the varied free fluxes the entries determine.
        public var identifiable: Int
    }

    /// The Cramér–Rao bound at `state` for entries measured as in `measured` (its mask and σ
    /// — a NaN σ counts as `defaultStddev`; its values are not read). With a `prior`, its
    /// precision is added to the Fisher information (the Bayesian information bound, e.g.
    /// with `boundsPrior`: what the flux space itself tells). `nil` when `state` cannot be
    /// simulated or the mask does not match the simulator's labeling.
    ///
    /// Labeling-only mixing (diluted pools): the shares f are nuisance parameters at
    /// `dilution` (default `dilutionStart` each); the bound is the flux block of the inverse of
    /// the full information, so what the shares absorb is not credited to the fluxes.
    public func informationBound(at state: FluxState, dilution: [Double]? = nil, for measured: MeasuredLabeling,
                                 prior: Prior? = nil) -> InformationBound? {
        guard let simulated = try? simulator.simulate(simulable(state)), simulated.values.count == measured.mask.count,
              measured.stddev.count == measured.mask.count else { return nil }
        let rows = measured.mask.indices.filter { measured.mask[$0] }
        if let dilution, dilution.count != dilutionCount { return nil }
        let p = params(basis.freeFluxes(of: state), dilution: dilution)
        let t = theta(p)
        let problem = Problem(measured: MeasuredLabeling(layout: measured.layout, values: simulated.values,
                                                         stddev: measured.stddev, mask: measured.mask), rows: rows,
                              sigma: rows.map { measured.stddev[$0].isFinite ? measured.stddev[$0] : defaultStddev },
                              fluxes: [], prior: prior.map(parameterPrior) ?? .none)
        guard let J = evaluate(p, problem, jacobian: true)?.J else { return nil }
        // Columns: the varied free fluxes, then the dilution shares.
        let P = p.count, n = basis.count
        let (inverse, determined) = Self.pseudoInverse(Self.normalMatrix(J, rows: J.count / max(P, 1), columns: P), size: P)
        // Covariance of θ (row-major): the chain-scaled parameter covariance over the determined
        // free fluxes; an undetermined one gets an infinite variance (and no correlations), so
        // every flux depending on it has an infinite bound; fixed ones 0.
        var cov = [Double](repeating: 0, count: n * n)
        var known = [Bool](repeating: true, count: n)
        for (i, k) in parameters.enumerated() {
            guard determined[i] else { cov[k * n + k] = .infinity; known[k] = false; continue }
            for (j, l) in parameters.enumerated() where determined[j] {
                cov[k * n + l] = chain(k, t) * chain(l, t) * inverse[i + P * j]
            }
        }
        let propagated = FluxPrediction(free: t, freeCovariance: cov, basis: basis, network: network, temperature: temperature)
        return InformationBound(netSE: propagated.netSE, exchangeSE: propagated.exchangeSE, determined: known,
                                identifiable: determined.prefix(parameters.count).filter { $0 }.count)
    }

    /// The flux space's bounds as a Gaussian prior centred at `free` (θ): per free flux the SD
    /// of a uniform distribution over its bounds, for exchange fluxes over their log10 range
    /// (from `exchangeFloor`); none for a flux with an open bound, or a fixed one.
    public func boundsPrior(around free: [Double]) -> Prior {
        let pb = paramBounds
        var sd = [Double](repeating: .infinity, count: basis.count)
        for (i, k) in parameters.enumerated() {
            let range = (pb[i].1 - pb[i].0) / 12.0.squareRoot()
            sd[k] = range.isFinite ? range * chain(k, free) : .infinity
        }
        return Prior(mean: free, sd: sd)
    }
}
