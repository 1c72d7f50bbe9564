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

    public init(state: FluxState, measured: MeasuredLabeling, simulator: EMUSimulator, basis: FreeFluxBasis,
                defaultStddev: Double) throws {
        let (lab, jac) = try simulator.simulate(state, basis: basis)
        let rows = measured.mask.indices.filter { measured.mask[$0] }
        let sigma = rows.map { measured.stddev[$0].isFinite ? measured.stddev[$0] : defaultStddev }
        let vssr = zip(rows, sigma).reduce(0) { s, e in
            let d = (lab.values[e.0] - measured.values[e.0]) / e.1
            return s + d * d
        }
        let columns = (0..<basis.count).filter { basis.fixed[$0] == nil }
        var a = [Double](repeating: 0, count: rows.count * columns.count)
        for (c, k) in columns.enumerated() {
            for (i, row) in rows.enumerated() { a[i + rows.count * c] = jac[row, k] / sigma[i] }
        }
        let sv = LinearAlgebra.singularValues(m: rows.count, n: columns.count, a: &a) ?? []
        let rank = sv.filter { $0 > 1e-8 * (sv.first ?? 0) }.count
        self.init(vssr: vssr, measurements: measured.independentValues, identifiable: rank, defaultStddev: defaultStddev)
    }
}
