import MLFluxCore

/// The likelihood of measured MIDs whose noisy entries were clipped at 0 and each MID
/// renormalised — what processed mass-spectrometry MIDs (and `MeasurementNoise`) look like.
///
/// Two effects bias a plain Gaussian fit of such data, and both are modelled here:
///
/// - **Censoring.** An entry read as exactly 0 (≤ `tolerance`) only says that μ + σ·ε ≤ 0:
///   its term is ℓ(z) = −2·log Φ(−μ/σ) (`CensoredNormal`), not (μ/σ)². For entries whose
///   truth is 0 the Gaussian term treats a half-normal, biased noise as unbiased. A
///   Levenberg–Marquardt solver takes the term as the pseudo-residual r = √ℓ(z) (≥ √(2·ln 2)
///   for every μ ≥ 0, so smooth at μ = 0, where √(ℓ − 2·ln 2) would have an infinite slope),
///   with dr/dμ = λ(z)/(r·σ): Σ r² and the gradient are exact; its Gauss–Newton curvature
///   λ²/ℓ is 0.72–1 × the observed information. The reported VSSR is the deviance, Σ r² less
///   2·ln 2 per censored entry (`costFloor`), 0 for an exact fit.
/// - **Renormalisation.** The clipped-away negative mass is taken from the MID's other
///   entries when it is renormalised (a MID [0.9, 0, 0] at σ = 0.01 reads M+0 ≈ 0.9 − 0.8σ on
///   average). Even unclipped, renormalising is an oblique projection: M+0 of [1, 0, 0] then
///   carries the noise of the two other entries, and Σ((y − μ)/σ)² has mean 4, not n − 1 = 2.
///   A seen entry is `u_i/S` with u_i = μ_i + σ·ε_i and S = Σ u, so every complete MID that was
///   renormalised (sums to 1, or has a censored entry) gets its own scale S, profiled out
///   (variable projection: the residuals (μ_i − S·y_i)/σ_i at the best S, and their Jacobian
///   projected orthogonally to y/σ, exact because the data do not depend on the parameters).
///   The scale takes the degree of freedom the renormalisation took. (The transformation's
///   Jacobian S^(n−1) is left out: S = 1 ± O(σ).)
///
/// Standard errors use the observed information: Gauss–Newton rows for the seen entries
/// (the projected Jacobian), √(λ(λ − z))·∂z/∂θ for the censored ones (`informationRows`).
/// The χ² test compares the deviance with `DevianceReference` (moments of every entry's term
/// under the censored model at the fitted μ, matched by a scaled χ²).
public struct CensoredMIDs: Sendable {
    /// A measured entry within this of 0 is censored at 0 (when no entry is below −tolerance).
    public static let tolerance = 1e-12
    /// Per fitted row (index into the problem's rows): censored or seen.
    let censored: [Bool]
    /// Per renormalised complete MID (sum 1 to 1e-6, Float32 storage included, or a censored
    /// entry): the fitted rows of its seen entries (a free scale each, one degree of freedom).
    let scaledGroups: [[Int]]
    /// Censored entries.
    public let censoredCount: Int

    /// The censoring of `measured`'s entries `rows` (layout indices), or nil when none of
    /// them is at 0 — or some is below 0: such data were not clipped.
    public init?(measured: MeasuredLabeling, rows: [Int]) {
        guard !rows.contains(where: { measured.values[$0] < -Self.tolerance }) else { return nil }
        let censored = rows.map { measured.values[$0] <= Self.tolerance }
        guard censored.contains(true) else { return nil }
        var position = [Int](repeating: -1, count: measured.values.count)
        for (i, r) in rows.enumerated() { position[r] = i }
        let layout = measured.layout
        var groups: [[Int]] = []
        for e in layout.experimentIDs.indices {
            for f in layout.fragmentNames.indices {
                let range = layout.range(experiment: e, fragment: f)
                let fitted = range.map { position[$0] }
                guard fitted.allSatisfy({ $0 >= 0 }) else { continue }       // partly measured: no scale
                let seen = fitted.filter { !censored[$0] }
                let sumsToOne = abs(range.reduce(0.0) { $0 + measured.values[$1] } - 1) <= 1e-6
                guard !seen.isEmpty, sumsToOne || seen.count < fitted.count else { continue }
                groups.append(seen)
            }
        }
        self.censored = censored
        scaledGroups = groups
        censoredCount = censored.filter { $0 }.count
    }

    /// The lowest value the censored terms can reach (every censored μ = 0: 2·ln 2 each): a
    /// fit at this cost matches the data exactly.
    var costFloor: Double { Double(censoredCount) * CensoredNormal.saturated }

    /// Residuals of the fitted rows: censored ones √ℓ(μ/σ) (Σ r² = deviance + `costFloor`), seen ones of a scaled MID
    /// (μ − S·y)/σ at the best scale S, the others (μ − y)/σ. `simulated` and `measured` are
    /// layout-indexed; `weights` are 1/σ per fitted row.
    func residuals(simulated mu: [Double], measured y: [Double], rows: [Int], weights w: [Double]) -> [Double] {
        var r = rows.indices.map { (mu[rows[$0]] - y[rows[$0]]) * w[$0] }
        for (i, row) in rows.enumerated() where censored[i] {
            r[i] = CensoredNormal.term(mu[row] * w[i]).squareRoot()
        }
        for group in scaledGroups {
            var num = 0.0, den = 0.0
            for i in group {
                let a = y[rows[i]] * w[i]
                num += a * mu[rows[i]] * w[i]
                den += a * a
            }
            let s = den > 0 ? num / den : 1
            for i in group { r[i] = (mu[rows[i]] - s * y[rows[i]]) * w[i] }
        }
        return r
    }

    /// Turns the Gaussian Jacobian rows of the fitted entries (rows 0..<rows.count of the
    /// column-major `m × columns` matrix `J`, each ∂μ/∂p / σ) into those of `residuals`:
    /// censored rows times λ(z)/r (`information`: times √(λ(λ − z)), the observed information),
    /// seen rows of a scaled MID projected orthogonally to y/σ.
    func transform(_ J: inout [Double], m: Int, columns: Int, residuals r: [Double], simulated mu: [Double],
                   measured y: [Double], rows: [Int], weights w: [Double], information: Bool) {
        for (i, row) in rows.enumerated() where censored[i] {
            let z = mu[row] * w[i]
            let factor = information ? CensoredNormal.observedInformation(z).squareRoot()
                                     : CensoredNormal.inverseMills(z) / max(r[i], 1e-300)
            for c in 0..<columns { J[i + m * c] *= factor }
        }
        for group in scaledGroups {
            let a = group.map { y[rows[$0]] * w[$0] }
            let aa = a.reduce(0) { $0 + $1 * $1 }
            guard aa > 0 else { continue }
            for c in 0..<columns {
                var dot = 0.0
                for (k, i) in group.enumerated() { dot += a[k] * J[i + m * c] }
                let f = dot / aa
                for (k, i) in group.enumerated() { J[i + m * c] -= a[k] * f }
            }
        }
    }

    /// The reference distribution of the deviance at `simulated` (layout-indexed μ, weights
    /// 1/σ per fitted row), with `extra` Gaussian terms (measured fluxes) and `fitted`
    /// identifiable parameters: the moments of every entry's term under the censored model,
    /// less one χ²(1) term per renormalised MID and per fitted parameter.
    func reference(simulated mu: [Double], rows: [Int], weights w: [Double], extra: Int, fitted: Int) -> DevianceReference {
        var mean = 0.0, variance = 0.0
        for (i, row) in rows.enumerated() {
            let mo = CensoredNormal.devianceMoments(mu[row] * w[i])
            mean += mo.mean
            variance += mo.variance
        }
        let removed = Double(scaledGroups.count + fitted - extra)
        return DevianceReference(mean: max(mean - removed, 1e-9), variance: max(variance - 2 * removed, 1e-9))
    }
}

/// The distribution a fit's deviance follows under the censored model, by its mean and
/// variance matched with a scaled χ² (Satterthwaite): deviance ≈ a·χ²(b), a = var/(2·mean),
/// b = 2·mean²/var. Without censored entries far from 0 it is χ²(dof) exactly (a = 1).
public struct DevianceReference: Sendable, Codable, Equatable {
    public var mean: Double
    public var variance: Double
    public var scale: Double { variance / (2 * mean) }
    public var degreesOfFreedom: Double { 2 * mean * mean / variance }
    /// The `p`-quantile of the deviance.
    public func quantile(_ p: Double) -> Double { scale * ChiSquared.quantile(p, dof: degreesOfFreedom) }
    /// P(deviance ≤ x).
    public func cdf(_ x: Double) -> Double { ChiSquared.cdf(x / scale, dof: degreesOfFreedom) }
}
