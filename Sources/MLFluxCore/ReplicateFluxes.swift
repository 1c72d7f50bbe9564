/// Fluxes predicted separately from each replicate of one condition, combined the way the
/// ML-Flux web tool reports replicates: per quantity the mean over the n replicates, the
/// standard deviation across them (sample SD, n − 1; NaN for one replicate) and the standard
/// error of the mean with the replicates' own errors propagated,
///
///     SE = √((SD² + Σ seᵢ² / n) / n)
///
/// — the scatter of the replicates (SD²/n) plus the mean of the predictions' own variances
/// over n (SD taken as 0 for one replicate). Units as `FluxPrediction`: net and exchange fluxes
/// in reaction order, ΔG in kJ/mol (NaN for one-way reactions).
public struct ReplicateFluxes: Sendable, Equatable {
    /// Mean, sample standard deviation and standard error of one quantity per reaction.
    public struct Statistic: Sendable, Equatable {
        public var mean: [Double]
        public var sd: [Double]
        public var se: [Double]
    }

    /// Number of replicates.
    public var count: Int
    public var net: Statistic
    public var exchange: Statistic
    public var deltaG: Statistic

    /// Combines `predictions` (at least one, all of the same network).
    public init(_ predictions: [FluxPrediction]) {
        precondition(!predictions.isEmpty, "no replicate predictions")
        count = predictions.count
        net = Self.statistic(predictions.map(\.net), predictions.map(\.netSE))
        exchange = Self.statistic(predictions.map(\.exchange), predictions.map(\.exchangeSE))
        deltaG = Self.statistic(predictions.map(\.deltaG), predictions.map(\.deltaGSE))
    }

    /// Per entry: mean of `values`, their SD (n − 1) and SE = √((SD² + Σ seᵢ²/n)/n).
    static func statistic(_ values: [[Double]], _ errors: [[Double]]) -> Statistic {
        let n = Double(values.count), length = values[0].count
        precondition(values.allSatisfy { $0.count == length } && errors.allSatisfy { $0.count == length })
        var s = Statistic(mean: [], sd: [], se: [])
        for r in 0..<length {
            let mean = values.reduce(0) { $0 + $1[r] } / n
            let sd = n > 1 ? (values.reduce(0) { $0 + ($1[r] - mean) * ($1[r] - mean) } / (n - 1)).squareRoot() : .nan
            let ownVariance = errors.reduce(0) { $0 + $1[r] * $1[r] } / n
            s.mean.append(mean)
            s.sd.append(sd)
            s.se.append((((n > 1 ? sd * sd : 0) + ownVariance) / n).squareRoot())
        }
        return s
    }
}
