import Foundation

/// The calibrated distribution of each free flux's **standardised error** for one prediction:
/// a monotone quantile function of z, stored as knots, instead of the Gaussian N(0, 1) its
/// stated σ implies (quantile recalibration, Kuleshov, Fenner & Ermon 2018).
///
/// Conventions: z = (truth − predicted) / SE for a free net flux; for a free exchange flux
/// z = (log10 truth − log10 predicted) / (SE / (predicted · ln 10)) — the exchange σ stated in
/// log10 (`standardizedError`). `probabilities` p₀ < … < p_{m−1} (in (0, 1)) is the grid; a
/// flux's knots z₀ < … < z_{m−1} are its z quantiles there. Between knots the CDF
/// F̂(z) is piecewise linear; beyond them it has exponential tails whose density continues
/// the first (last) segment's: F̂(z) = p₀·exp(λ(z − z₀)), λ = (p₁ − p₀)/((z₁ − z₀)·p₀), and
/// mirrored above. A calibrated F̂ makes u = F̂(z) of the truth uniform on (0, 1); the central
/// interval of probability α is z ∈ [F̂⁻¹((1−α)/2), F̂⁻¹((1+α)/2)], in general asymmetric.
///
/// The knots of one prediction are the convex combination `(1 − weight)·lower + weight·upper`
/// of two stored sets (neighbouring classes of the measurement σ); the arrays are shared
/// between predictions (copy on write), only the weight is per prediction.
public struct ErrorQuantiles: Sendable, Equatable {
    /// Probability grid, strictly ascending in (0, 1).
    public var probabilities: [Double]
    /// Per free flux (basis order): z knots at `probabilities`, or nil (no map: Gaussian z).
    public var lower: [[Double]?]
    public var upper: [[Double]?]
    /// Interpolation weight in [0, 1] between `lower` and `upper`.
    public var weight: Double

    public init(probabilities: [Double], lower: [[Double]?], upper: [[Double]?], weight: Double) {
        precondition(lower.count == upper.count && (0...1).contains(weight))
        self.probabilities = probabilities
        self.lower = lower
        self.upper = upper
        self.weight = weight
    }

    /// One set of knots per free flux.
    public init(probabilities: [Double], knots: [[Double]?]) {
        self.init(probabilities: probabilities, lower: knots, upper: knots, weight: 0)
    }

    /// `true` when free flux `k` has a map.
    public func covers(_ k: Int) -> Bool { k < lower.count && lower[k] != nil && upper[k] != nil }

    /// Knot `i` of free flux `k` (which must be covered).
    @inline(__always)
    func knot(_ k: Int, _ i: Int) -> Double {
        let a = lower[k]![i], b = upper[k]![i]
        return weight == 0 ? a : (1 - weight) * a + weight * b
    }

    /// The knots of free flux `k` for this prediction, or nil without a map.
    public func knots(_ k: Int) -> [Double]? {
        guard covers(k) else { return nil }
        return probabilities.indices.map { knot(k, $0) }
    }

    /// F̂(z) of free flux `k` (nil without a map; NaN for NaN z).
    public func cdf(_ z: Double, flux k: Int) -> Double? {
        guard covers(k) else { return nil }
        guard !z.isNaN else { return .nan }
        let p = probabilities, m = p.count
        let z0 = knot(k, 0), z1 = knot(k, 1), zl = knot(k, m - 1), zl1 = knot(k, m - 2)
        if z <= z0 { return p[0] * exp((p[1] - p[0]) / ((z1 - z0) * p[0]) * (z - z0)) }
        if z >= zl { return 1 - (1 - p[m - 1]) * exp(-(p[m - 1] - p[m - 2]) / ((zl - zl1) * (1 - p[m - 1])) * (z - zl)) }
        var lo = 0, hi = m - 1   // knot(lo) < z < knot(hi)
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if z < knot(k, mid) { hi = mid } else { lo = mid }
        }
        let a = knot(k, lo), b = knot(k, hi)
        return p[lo] + (p[hi] - p[lo]) * (z - a) / (b - a)
    }

    /// F̂⁻¹(q) of free flux `k`, q ∈ (0, 1) (nil without a map): the inverse of `cdf`.
    public func quantile(_ q: Double, flux k: Int) -> Double? {
        guard covers(k) else { return nil }
        let p = probabilities, m = p.count
        guard q > 0 else { return -.infinity }
        guard q < 1 else { return .infinity }
        let z0 = knot(k, 0), z1 = knot(k, 1), zl = knot(k, m - 1), zl1 = knot(k, m - 2)
        if q <= p[0] { return z0 + log(q / p[0]) * (z1 - z0) * p[0] / (p[1] - p[0]) }
        if q >= p[m - 1] { return zl - log((1 - q) / (1 - p[m - 1])) * (zl - zl1) * (1 - p[m - 1]) / (p[m - 1] - p[m - 2]) }
        var lo = 0, hi = m - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if q < p[mid] { hi = mid } else { lo = mid }
        }
        let a = knot(k, lo), b = knot(k, hi)
        return a + (b - a) * (q - p[lo]) / (p[hi] - p[lo])
    }

    /// The standardised error of a free flux (see the type's conventions): NaN when an exchange
    /// flux or its prediction is not positive.
    public static func standardizedError(truth: Double, predicted: Double, se: Double, exchange: Bool) -> Double {
        guard exchange else { return (truth - predicted) / se }
        guard predicted > 0, truth > 0 else { return .nan }
        return (log10(truth) - log10(predicted)) / (se / (predicted * 2.302_585_092_994_046))
    }
}

extension FluxPrediction {
    /// The standardised error of free flux `k` for true value `truth` (`ErrorQuantiles`
    /// conventions; exchange fluxes are the free fluxes from `basis.freeNet.count` on).
    public func standardizedError(free k: Int, truth: Double, basis: FreeFluxBasis) -> Double {
        ErrorQuantiles.standardizedError(truth: truth, predicted: free[k], se: freeSE[k], exchange: k >= basis.freeNet.count)
    }

    /// The probability integral transform of `truth` for free flux `k`: u = F̂(z) under
    /// `freeErrorQuantiles` when it maps the flux, Φ(z) otherwise (NaN for NaN z).
    public func rank(free k: Int, truth: Double, basis: FreeFluxBasis) -> Double {
        let z = standardizedError(free: k, truth: truth, basis: basis)
        return freeErrorQuantiles?.cdf(z, flux: k) ?? 0.5 * erfc(-z / 2.0.squareRoot())
    }

    /// The central interval of probability `level` (e.g. 0.68, 0.95) of free flux `k` under
    /// `freeErrorQuantiles` (nil without a map for the flux): predicted + F̂⁻¹((1 ∓ level)/2)·SE,
    /// an exchange flux in log10, predicted·10^(z·SE/(predicted·ln 10)). In general asymmetric.
    public func shapedInterval(free k: Int, level: Double, basis: FreeFluxBasis) -> (lower: Double, upper: Double)? {
        guard let lower = shapedQuantile(free: k, probability: (1 - level) / 2, basis: basis),
              let upper = shapedQuantile(free: k, probability: (1 + level) / 2, basis: basis) else { return nil }
        return (lower, upper)
    }

    /// The quantile of probability `p` of free flux `k` under `freeErrorQuantiles` (nil without
    /// a map for the flux, or for an exchange flux predicted at 0): predicted + F̂⁻¹(p)·SE, an
    /// exchange flux predicted·10^(F̂⁻¹(p)·SE/(predicted·ln 10)). `p` = 0.5 is the shape's median.
    public func shapedQuantile(free k: Int, probability p: Double, basis: FreeFluxBasis) -> Double? {
        guard let z = freeErrorQuantiles?.quantile(p, flux: k) else { return nil }
        guard k >= basis.freeNet.count else { return free[k] + z * freeSE[k] }
        guard free[k] > 0 else { return nil }
        return free[k] * pow(10, z * freeSE[k] / (free[k] * 2.302_585_092_994_046))
    }
}
