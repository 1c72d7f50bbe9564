import EMU
import LinearAlgebra
import MLFluxCore

/// The χ² goodness-of-fit test of a flux state against measured MIDs, as 13C-MFA reports it:
/// VSSR = Σ ((simulated − measured)/σ)² over the measured entries, degrees of freedom =
/// independent measurements (a complete MID of n entries sums to 1 and gives n − 1) −
/// identifiable free fluxes (the numerical rank of the σ-weighted Jacobian
/// of the measured entries with respect to the non-fixed free fluxes), and the 95 %
/// acceptance range [χ²₀.₀₂₅, χ²₀.₉₇₅] of that many degrees of freedom.
public struct ChiSquaredTest: Sendable, Codable, Equatable {
    public var vssr: Double
    public var measurements: Int
    public var identifiable: Int
    public var degreesOfFreedom: Int
    public var lower: Double
    public var upper: Double
    /// `true` when the VSSR lies in [lower, upper] (with 0 degrees of freedom: VSSR ≈ 0).
    public var passes: Bool
    /// σ used for entries that came without one.
    public var defaultStddev: Double
    /// MID entries at 0 fitted as censored (nil: none): `vssr` is then the deviance and
    /// [lower, upper] the 95 % range of its `DevianceReference`.
    public var censoredEntries: Int?

    /// The test of a given VSSR with `measurements` independent measurements of which
    /// `identifiable` free fluxes are determined.
    public init(vssr: Double, measurements: Int, identifiable: Int, defaultStddev: Double = .nan) {
        self.vssr = vssr
        self.measurements = measurements
        self.identifiable = identifiable
        degreesOfFreedom = max(measurements - identifiable, 0)
        let dof = max(degreesOfFreedom, 1)
        lower = ChiSquared.quantile(0.025, dof: dof)
        upper = ChiSquared.quantile(0.975, dof: dof)
        passes = degreesOfFreedom == 0 ? vssr < 1e-6 : (lower...upper).contains(vssr)
        self.defaultStddev = defaultStddev
    }

    /// The test of a least-squares fit as it was fitted: with censored entries, its deviance
    /// against the deviance reference.
    public init(fit: LeastSquaresMFA.Fit, defaultStddev: Double = .nan) {
        self.init(vssr: fit.vssr, measurements: fit.measurements, identifiable: fit.identifiable, defaultStddev: defaultStddev)
        guard fit.devianceReference != nil else { return }
        let range = fit.acceptance
        lower = range.lowerBound
        upper = range.upperBound
        passes = fit.passesChiSquared
        censoredEntries = fit.censoredEntries
    }

    /// The test of `state` against the measured MIDs and `fluxes` (residuals (v − m)/σ of the
    /// state's own fluxes). `scaled`: the fluxes were put in the measured unit by a fitted scale,
    /// one more identifiable parameter. `dilution`: the shares f of the simulator's diluted pools
    /// (labeling-only mixing), each one more parameter (empty: none, or undiluted).
    public init(state: FluxState, measured: MeasuredLabeling, simulator: EMUSimulator, basis: FreeFluxBasis,
                defaultStddev: Double, fluxes: [FluxMeasurementRow] = [], scaled: Bool = false,
                dilution: [Double] = []) throws {
        let (lab, jac) = try dilution.isEmpty ? simulator.simulate(state, basis: basis)
                                              : simulator.simulate(state, basis: basis, dilution: dilution)
        let rows = measured.mask.indices.filter { measured.mask[$0] }
        let sigma = rows.map { measured.stddev[$0].isFinite ? measured.stddev[$0] : defaultStddev }
        var vssr = zip(rows, sigma).reduce(0) { s, e in
            let d = (lab.values[e.0] - measured.values[e.0]) / e.1
            return s + d * d
        }
        for f in fluxes { vssr += f.residual(state) * f.residual(state) }
        let columns = (0..<basis.count).filter { basis.fixed[$0] == nil }
        let m = rows.count + fluxes.count, n = columns.count + (scaled ? 1 : 0) + dilution.count
        var a = [Double](repeating: 0, count: m * n)
        let nf = basis.freeNet.count, xf = basis.freeExchange.count
        for (c, k) in columns.enumerated() {
            for (i, row) in rows.enumerated() { a[i + m * c] = jac[row, k] / sigma[i] }
            for (i, f) in fluxes.enumerated() {
                // d(Σ a·v)/dθ_k from the kernels (net fluxes on free net fluxes, exchange on exchange).
                var d = 0.0
                for t in f.terms {
                    if f.kind == .net, k < nf { d += t.coefficient * basis.netKernel[t.reaction * nf + k] }
                    if f.kind == .exchange, k >= nf { d += t.coefficient * basis.exchangeKernel[t.reaction * xf + k - nf] }
                }
                a[rows.count + i + m * c] = d / f.stddev
            }
        }
        if scaled { for (i, f) in fluxes.enumerated() { a[rows.count + i + m * columns.count] = f.simulated(state) / f.stddev } }
        for g in dilution.indices {
            let c = n - dilution.count + g
            for (i, row) in rows.enumerated() { a[i + m * c] = jac[row, basis.count + g] / sigma[i] }
        }
        let sv = LinearAlgebra.singularValues(m: m, n: n, a: &a) ?? []
        let rank = sv.filter { $0 > 1e-8 * (sv.first ?? 0) }.count
        self.init(vssr: vssr, measurements: measured.independentValues + fluxes.count, identifiable: rank,
                  defaultStddev: defaultStddev)
    }
}
