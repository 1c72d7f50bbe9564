/// An L1 or L2 loss over selected entries, each with its own weight: the weighted mean
/// ```
/// L = Σ_i w_i·ℓ(p_i − t_i) / Σ_i w_i,    ℓ(d) = |d| (l1) or d² (l2)
/// ```
/// (0, with a zero gradient, when every weight is 0). For inpainting, `w = 1` on the hidden
/// entries and `w = 0` (or a small weight for the known ones) elsewhere — see
/// `weights(hidden:knownWeight:)`. The L1 subgradient at 0 is 0. Sums run in `Double`.
public enum MaskedLoss: String, Codable, Sendable, CaseIterable {
    case l1, l2

    /// The loss of `prediction` against `target` with per-entry `weights` (all the same length),
    /// and `∂L/∂prediction`.
    public func valueAndGradient(_ prediction: [Float], _ target: [Float], weights: [Float]) -> (value: Float, gradient: [Float]) {
        precondition(prediction.count == target.count && target.count == weights.count,
                     "prediction, target and weights have \(prediction.count), \(target.count), \(weights.count) values")
        let total = weights.reduce(0.0) { $0 + Double($1) }
        var g = [Float](repeating: 0, count: prediction.count)
        guard total > 0 else { return (0, g) }
        let inv = 1 / total, finv = Float(inv)
        var sum = 0.0
        for i in prediction.indices where weights[i] != 0 {
            let d = prediction[i] - target[i], w = weights[i]
            switch self {
            case .l1:
                sum += Double(w) * Double(abs(d))
                g[i] = d > 0 ? w * finv : (d < 0 ? -w * finv : 0)
            case .l2:
                sum += Double(w) * Double(d) * Double(d)
                g[i] = 2 * w * d * finv
            }
        }
        return (Float(sum * inv), g)
    }

    /// The loss alone.
    public func callAsFunction(_ prediction: [Float], _ target: [Float], weights: [Float]) -> Float {
        valueAndGradient(prediction, target, weights: weights).value
    }

    /// Per-entry weights: 1 where `hidden` is non-zero, `knownWeight` elsewhere.
    public static func weights(hidden: [Float], knownWeight: Float = 0) -> [Float] {
        hidden.map { $0 != 0 ? 1 : knownWeight }
    }
}
