import Foundation
import NeuralNetworks

/// A mixture of Gaussians on the real line, `F(z) = Σ_k w_k Φ((z − m_k)/s_k)`: the density a
/// mixture density network (`Loss.gaussianMixtureNLL`) states for one target.
public struct ScalarGaussianMixture: Sendable, Equatable {
    /// Weights, positive, summing to 1.
    public var weights: [Double]
    public var means: [Double]
    /// Standard deviations, positive.
    public var scales: [Double]

    public init(weights: [Double], means: [Double], scales: [Double]) {
        precondition(weights.count == means.count && means.count == scales.count && !weights.isEmpty)
        self.weights = weights
        self.means = means
        self.scales = scales
    }

    /// The mixture of one target of a `gaussianMixtureNLL(components: k)` output row: softmax
    /// of `logits`, `means`, `exp` of the log standard deviations clamped to [−7, 7] — the
    /// loss's parametrisation.
    public init(logits: ArraySlice<Float>, means: ArraySlice<Float>, logScales: ArraySlice<Float>) {
        let top = Double(logits.max() ?? 0)
        let e = logits.map { exp(Double($0) - top) }
        let sum = e.reduce(0, +)
        self.init(weights: e.map { $0 / sum }, means: means.map(Double.init),
                  scales: logScales.map { exp(Loss.clampedLogScale($0)) })
    }

    /// F(z).
    public func cdf(_ z: Double) -> Double {
        var f = 0.0
        for k in weights.indices { f += weights[k] * 0.5 * erfc(-(z - means[k]) / (scales[k] * 2.0.squareRoot())) }
        return min(max(f, 0), 1)
    }

    /// The density f(z).
    public func density(_ z: Double) -> Double {
        var f = 0.0
        for k in weights.indices {
            let u = (z - means[k]) / scales[k]
            f += weights[k] * exp(-0.5 * u * u) / (scales[k] * 2.506_628_274_631_000_5)
        }
        return f
    }

    /// F⁻¹ at each of `probabilities` (ascending, inside (0, 1)): the CDF tabulated on 256
    /// points spanning every component's ±9 s brackets each quantile; Newton steps, bisecting
    /// whenever a step leaves the bracket, until |F(z) − p| ≤ 1e-12 (at most 60 steps).
    /// Ascending; strictly for strictly ascending probabilities (to `Double`'s resolution).
    public func quantiles(_ probabilities: [Double]) -> [Double] {
        var lo = Double.infinity, hi = -Double.infinity
        for k in weights.indices {
            lo = min(lo, means[k] - 9 * scales[k])
            hi = max(hi, means[k] + 9 * scales[k])
        }
        let m = 256
        let grid = (0..<m).map { lo + (hi - lo) * Double($0) / Double(m - 1) }
        let table = grid.map(cdf)
        var out: [Double] = []
        out.reserveCapacity(probabilities.count)
        var i = 0
        for p in probabilities {
            while i < m - 2 && table[i + 1] < p { i += 1 }
            var (a, b) = (grid[i], grid[i + 1])
            let (fa, fb) = (table[i], table[i + 1])
            var z = fb > fa ? a + (b - a) * min(max((p - fa) / (fb - fa), 0), 1) : 0.5 * (a + b)
            for _ in 0..<60 {
                let f = cdf(z) - p
                if abs(f) <= 1e-12 { break }
                if f < 0 { a = z } else { b = z }
                let d = density(z)
                let next = d > 0 ? z - f / d : .nan
                z = next > a && next < b ? next : 0.5 * (a + b)
                if b - a <= 1e-15 * max(1, abs(z)) { break }
            }
            if let last = out.last, !(z > last) { z = last.nextUp }
            out.append(z)
        }
        return out
    }
}
