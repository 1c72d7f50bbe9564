import MLFluxCore

/// A prediction in a bundle's relative units (its reference flux fixed, e.g. `GLC_IN = 1`)
/// moved into the unit of measured fluxes (e.g. mmol/gDW/h): every flux times the scale s
/// that fits the measured fluxes best, s = Σ fᵢmᵢ/σᵢ² / Σ fᵢ²/σᵢ², with var s = 1/Σ fᵢ²/σᵢ²
/// (the measured fluxes' errors; the prediction's own error enters each flux's error as
/// s²·σ²). Labeling data do not depend on the scale of all fluxes, so only measured fluxes
/// can set it. ΔG does not change.
public enum MeasuredFluxScale {
    public static func apply(_ p: FluxPrediction, rows: [FluxMeasurementRow], basis: FreeFluxBasis,
                             network: MetabolicNetwork) -> (prediction: FluxPrediction, scale: Double, se: Double) {
        let state = p.fluxState
        let s = LeastSquaresMFA.scale(rows, state)
        let information = rows.reduce(0.0) { acc, f in
            let v = f.simulated(state)
            return acc + v * v / (f.stddev * f.stddev)
        }
        let varS = information > 0 ? 1 / information : .infinity
        let freeSE = zip(p.free, p.freeSE).map { θ, e in (s * s * e * e + θ * θ * varS).squareRoot() }
        let scaled = FluxPrediction(free: p.free.map { s * $0 }, freeSE: freeSE, basis: basis, network: network,
                                    temperature: p.temperature)
        return (scaled, s, varS.squareRoot())
    }
}
