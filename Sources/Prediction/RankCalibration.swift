import Foundation

/// Simulation-based calibration (Talts et al. 2018) of Gaussian predictive distributions: the
/// rank of the truth among L draws of a calibrated predictive distribution is uniform; for a
/// Gaussian N(μ, σ²) the rank divided by L tends to the probability integral transform
/// u = Φ((truth − μ)/σ), so u is histogrammed directly (L → ∞, no draws). A χ² test against the
/// uniform counts gives the p-value (bins − 1 degrees of freedom).
public enum RankCalibration {
    /// One quantity's rank histogram.
    public struct Histogram: Codable, Sendable, Equatable {
        public var name: String
        /// Counts of u in `[k/bins, (k+1)/bins)`, k = 0…bins−1.
        public var counts: [Int]
        /// Pearson's χ² statistic against equal counts.
        public var chiSquared: Double
        /// P(χ²_{bins−1} ≥ chiSquared): small when the ranks are not uniform.
        public var pValue: Double
    }

    /// The histogram of u = Φ(z) for standardised errors z = (truth − μ)/σ (non-finite z skipped).
    public static func histogram(name: String, standardizedErrors z: [Double], bins: Int = 10) -> Histogram {
        histogram(name: name, ranks: z.filter(\.isFinite).map { 0.5 * (1 + erf($0 / 2.0.squareRoot())) }, bins: bins)
    }

    /// The histogram of normalised ranks u ∈ [0, 1] (e.g. u = F̂(z) of a calibrated, non-Gaussian
    /// predictive distribution, `FluxPrediction.rank`; non-finite u skipped).
    public static func histogram(name: String, ranks: [Double], bins: Int = 10) -> Histogram {
        precondition(bins >= 2)
        var counts = [Int](repeating: 0, count: bins)
        for u in ranks where u.isFinite {
            counts[min(max(Int(u * Double(bins)), 0), bins - 1)] += 1
        }
        let n = counts.reduce(0, +)
        guard n > 0 else { return Histogram(name: name, counts: counts, chiSquared: .nan, pValue: .nan) }
        let expected = Double(n) / Double(bins)
        let chi = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        return Histogram(name: name, counts: counts, chiSquared: chi, pValue: 1 - ChiSquared.cdf(chi, dof: bins - 1))
    }
}
