import EMU
import MLFluxCore

/// How well predicted fluxes explain the measured MIDs: the MIDs re-simulated from the
/// prediction against the input. SSR = Σ (simulated − measured)²; where standard
/// deviations were given, VSSR = Σ ((simulated − measured)/σ)² over those entries.
public struct FitReport: Sendable, Codable {
    public struct Residual: Sendable, Codable {
        public var experiment: String
        public var metabolite: String
        /// √Σ residual² over the MID.
        public var norm: Double
        public var residuals: [Double]
    }
    public var ssr: Double
    public var vssr: Double?
    public var weightedEntries: Int
    public var residuals: [Residual]
    /// A measured flux against the prediction (in the measured unit).
    public struct FluxResidual: Sendable, Codable {
        public var id: String
        public var measured: Double
        public var predicted: Double
        public var stddev: Double
    }
    /// Measured fluxes against the predicted ones; their squared weighted residuals are in `vssr`.
    public var fluxResiduals: [FluxResidual] = []
    /// The scale that put the fluxes in the measured rates' unit: value and standard error
    /// (measured unit per unit of the network's reference flux); nil for network units.
    public struct Scale: Sendable, Codable {
        public var value: Double
        public var se: Double
        public init(value: Double, se: Double) {
            self.value = value
            self.se = se
        }
    }
    public var scale: Scale?
    /// The χ² test of the fit (with a basis): every measured entry weighted by its σ.
    public var chiSquared: ChiSquaredTest?
    /// Least-squares strategies: how every start ended.
    public var starts: [LeastSquaresMFA.StartResult]?
    /// Labeling-only mixing: the fitted share f (± SE) of each diluted pool; empty when none.
    public var dilution: [LeastSquaresMFA.DilutionEstimate] = []

    /// - Parameters:
    ///   - basis: with it, the χ² test is computed (degrees of freedom from the rank of the
    ///     Jacobian at the predicted state); entries without a σ get `defaultStddev`.
    ///   - dilution: the fitted shares of the simulator's diluted pools (labeling-only mixing);
    ///     the MIDs are re-simulated with them and each counts as a parameter of the χ² test.
    public init(prediction: FluxPrediction, measured: MeasuredLabeling, simulator: EMUSimulator,
                basis: FreeFluxBasis? = nil, defaultStddev: Double = 0.01,
                fluxes: [FluxMeasurementRow] = [], scaled: Bool = false,
                dilution: [LeastSquaresMFA.DilutionEstimate] = []) throws {
        let shares = dilution.map(\.value)
        let sim = try shares.isEmpty ? simulator.simulate(prediction.fluxState)
                                     : simulator.simulate(prediction.fluxState, dilution: shares)
        self.dilution = dilution
        if let basis {
            chiSquared = try ChiSquaredTest(state: prediction.fluxState, measured: measured, simulator: simulator,
                                            basis: basis, defaultStddev: defaultStddev, fluxes: fluxes, scaled: scaled,
                                            dilution: shares)
        }
        let layout = measured.layout
        precondition(sim.values.count == layout.count, "simulator and layout disagree")
        var ssr = 0.0, vssr = 0.0, weighted = 0
        var out: [Residual] = []
        for e in layout.experimentIDs.indices {
            for f in layout.fragmentNames.indices {
                let start = e * layout.blockSize + layout.offsets[f]
                var r: [Double] = []
                for k in 0..<layout.isotopologues[f] where measured.mask[start + k] {
                    let d = sim.values[start + k] - measured.values[start + k]
                    r.append(d)
                    ssr += d * d
                    let s = measured.stddev[start + k]
                    if s.isFinite { vssr += (d / s) * (d / s); weighted += 1 }
                }
                if !r.isEmpty {
                    out.append(Residual(experiment: layout.experimentIDs[e], metabolite: layout.fragmentNames[f],
                                        norm: r.reduce(0) { $0 + $1 * $1 }.squareRoot(), residuals: r))
                }
            }
        }
        for f in fluxes {
            let v = f.simulated(prediction.fluxState)
            fluxResiduals.append(FluxResidual(id: f.measurement.id, measured: f.value, predicted: v, stddev: f.stddev))
            vssr += ((v - f.value) / f.stddev) * ((v - f.value) / f.stddev)
        }
        self.ssr = ssr
        self.vssr = weighted > 0 || !fluxes.isEmpty ? vssr : nil
        self.weightedEntries = weighted
        self.residuals = out
    }
}
