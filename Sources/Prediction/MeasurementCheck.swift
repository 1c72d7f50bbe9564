import MLFluxCore

extension MeasuredLabeling {
    /// Number of measured MID entries.
    public var measuredCount: Int { mask.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// "EXPERIMENT METABOLITE M+k" of layout entry `i`.
    func entryName(_ i: Int) -> String {
        let e = layout.entry(at: i)
        return "\(layout.experimentIDs[e.experiment]) \(layout.fragmentNames[e.fragment]) M+\(e.isotopologue)"
    }

    /// Independent measured values: a MID of `n` entries measured completely and summing to 1
    /// gives `n − 1` (the last fraction adds nothing); a partly measured MID, or one whose
    /// fractions carry independent noise (sum ≠ 1), gives each of its measured entries.
    public var independentValues: Int {
        let offsets = layout.offsets, block = layout.blockSize
        var total = 0
        for e in layout.experimentIDs.indices {
            for (f, n) in layout.isotopologues.enumerated() {
                let start = e * block + offsets[f]
                guard start + n <= mask.count else { continue }
                let k = mask[start..<(start + n)].reduce(0) { $0 + ($1 ? 1 : 0) }
                // Only a MID whose measured fractions sum to 1 loses a degree of freedom: data
                // with independent noise on every entry (not renormalised) keep all n.
                let sum = (start..<(start + n)).reduce(0.0) { $0 + (mask[$1] ? values[$1] : 0) }
                total += k == n && abs(sum - 1) <= 1e-9 ? n - 1 : k
            }
        }
        return total
    }
}

/// A measurement that a least-squares fit cannot use as it is.
public enum MeasurementError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No MID entry was measured.
    case nothingMeasured
    /// A measured fraction is NaN or infinite (entry index in the layout).
    case nonFiniteValue(entry: String)
    /// The standard deviation of a measured entry is not finite or below the floor.
    case stddevOutOfRange(entry: String, value: Double)
    /// Fewer independent measured values (MIDs and fluxes) than free parameters to fit.
    case underdetermined(values: Int, parameters: Int)

    public var description: String {
        switch self {
        case .nothingMeasured:
            return "no MID was measured (every fraction is missing or blank)"
        case .nonFiniteValue(let entry):
            return "the fraction of \(entry) is not a finite number"
        case .stddevOutOfRange(let entry, let value):
            return "the stddev \(value) of \(entry) is not usable: σ must be a finite number of at least \(MeasuredLabeling.minimumStddev) (below it the fit's weights 1/σ² overflow or lose all precision)"
        case .underdetermined(let values, let parameters):
            return "the measurements carry \(values) independent value\(values == 1 ? "" : "s") (a MID of n entries gives n − 1; each measured flux 1) for \(parameters) free parameters: least squares cannot determine the fluxes; measure more MIDs, or use --predictor hybrid (the ANN's prediction as prior)"
        }
    }
}

extension LeastSquaresMFA {
    /// Free fluxes the fit adjusts (free fluxes not fixed by a constraint).
    public var fittedParameterCount: Int { basis.count - basis.fixed.count }

    /// Checks that `measured` can be fitted: at least one MID entry measured, every measured
    /// fraction finite, and every measured entry's σ (its own or `defaultStddev`) finite and
    /// at least `MeasuredLabeling.minimumStddev`. Non-finite or tiny σ would make the
    /// weights 1/σ overflow and feed infinities to LAPACK.
    public func check(_ measured: MeasuredLabeling) throws {
        var any = false
        for i in measured.mask.indices where measured.mask[i] {
            any = true
            guard i < measured.values.count, measured.values[i].isFinite else { throw MeasurementError.nonFiniteValue(entry: measured.entryName(i)) }
            let given = i < measured.stddev.count ? measured.stddev[i] : .nan
            let sigma = given.isNaN ? defaultStddev : given
            guard sigma.isFinite, sigma >= MeasuredLabeling.minimumStddev else {
                throw MeasurementError.stddevOutOfRange(entry: measured.entryName(i), value: sigma)
            }
        }
        guard any else { throw MeasurementError.nothingMeasured }
    }

    /// Free parameters of a fit with `fluxMeasurements`: the fitted free fluxes, plus the
    /// scale when measured rates set the unit (`fluxScale`).
    public var fittedParameterCountWithScale: Int {
        fittedParameterCount + (fluxScale && !fluxMeasurements.isEmpty ? 1 : 0)
    }

    /// Throws `MeasurementError.underdetermined` when `measured` and `fluxMeasurements` carry
    /// fewer independent values than the fit has free parameters (pure least squares has no
    /// prior to fall back on: the result would be one arbitrary point of a valley).
    public func checkDetermined(_ measured: MeasuredLabeling) throws {
        let values = measured.independentValues + fluxMeasurements.count
        let parameters = fittedParameterCountWithScale
        if values < parameters { throw MeasurementError.underdetermined(values: values, parameters: parameters) }
    }
}
