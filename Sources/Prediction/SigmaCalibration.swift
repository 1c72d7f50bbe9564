/// Factors on an ANN's stated σ, per target and per range of the predicted value, fitted on
/// held-out data so that the stated 1σ covers 68.27 % of the errors in every range.
///
/// How well labeling resolves an exchange flux varies by orders of magnitude across its
/// range, and a network's σ head (or an ensemble's spread) is not equally well calibrated
/// everywhere: one factor per target leaves some decades over- and others under-covered.
/// The ranges are equal-count bins of the predicted target (for exchange fluxes: of the
/// predicted log10 flux), so each factor rests on the same number of held-out rows.
public struct SigmaCalibration: Codable, Sendable, Equatable {
    /// Per target: interior bin edges in target space, ascending (`k` edges → `k + 1` bins).
    public var edges: [[Float]]
    /// Per target: one factor per bin.
    public var factors: [[Float]]

    public init(edges: [[Float]], factors: [[Float]]) {
        precondition(edges.count == factors.count && zip(edges, factors).allSatisfy { $0.count + 1 == $1.count })
        self.edges = edges
        self.factors = factors
    }

    /// One factor per target, whatever the prediction (the format before binning).
    public init(uniform scale: [Float]) {
        self.init(edges: scale.map { _ in [] }, factors: scale.map { [$0] })
    }

    public var targetCount: Int { factors.count }

    /// The factor for target `j` at predicted target value `mean`.
    @inline(__always)
    public func factor(_ j: Int, mean: Float) -> Float {
        let e = edges[j]
        var lo = 0, hi = e.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if mean < e[mid] { hi = mid } else { lo = mid + 1 }
        }
        return factors[j][lo]
    }

    /// Fits the factors: for target `j`, rows are sorted by predicted mean and cut into
    /// `bins` equal-count ranges (fewer when a range would hold under `minimumRows`); each
    /// range's factor is the 68.27th percentile of |truth − mean| / σ there.
    public static func fit(means: [[Float]], stds: [[Float]], truths: [[Float]], bins: Int = 6,
                           minimumRows: Int = 300) -> SigmaCalibration {
        let targets = means.first?.count ?? 0
        var edges: [[Float]] = [], factors: [[Float]] = []
        for j in 0..<targets {
            let rows = means.indices.sorted { means[$0][j] < means[$1][j] }
            let k = max(1, min(bins, rows.count / max(minimumRows, 1)))
            var e: [Float] = [], f: [Float] = []
            for b in 0..<k {
                let slice = rows[(b * rows.count / k)..<((b + 1) * rows.count / k)]
                if b > 0, let first = slice.first { e.append(means[first][j]) }
                var z = slice.map { abs(truths[$0][j] - means[$0][j]) / max(stds[$0][j], 1e-12) }
                z.sort()
                f.append(z.isEmpty ? 1 : max(z[min(z.count - 1, Int(0.6827 * Double(z.count)))], 1e-3))
            }
            edges.append(e)
            factors.append(f)
        }
        return SigmaCalibration(edges: edges, factors: factors)
    }
}
