import Foundation
import MLFluxCore

/// Maps free fluxes θ to the targets a network learns, and back.
///
/// Fixed free fluxes (e.g. toy `v1 = 1`) are not predicted. Free **net** fluxes are
/// scaled affinely to about [−1, 1] over their training range (they are bounded by the
/// constraints, so a linear scale keeps equal resolution everywhere). Free **exchange**
/// fluxes span up to six decades (1e-4 … 100), so their target is
/// `log10(max(θ, floor))`, centred and scaled over the training range: a 5 % error is
/// then the same target error at 0.01 and at 10. The paper's piecewise logistic/log4
/// transform of net fluxes served unbounded fluxes; ours are bounded.
public struct FluxTransform: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case affine, log10 }

    public struct Output: Codable, Sendable, Equatable {
        /// Index into θ.
        public var free: Int
        public var kind: Kind
        public var offset: Double
        public var scale: Double
    }

    /// Length of θ.
    public var freeCount: Int
    /// θ index → fixed value.
    public var fixed: [Int: Double]
    /// One entry per predicted target, in target order.
    public var outputs: [Output]
    /// Lower clamp of exchange fluxes before the logarithm.
    public var exchangeFloor: Double

    /// Fits offsets and scales on training free fluxes (`training[i]` = θ of sample `i`).
    public init(basis: FreeFluxBasis, training: [[Double]], exchangeFloor: Double = 1e-4) {
        freeCount = basis.count
        fixed = basis.fixed
        self.exchangeFloor = exchangeFloor
        outputs = []
        for k in 0..<basis.count where basis.fixed[k] == nil {
            let kind: Kind = k < basis.freeNet.count ? .affine : .log10
            let values = training.map { kind == .affine ? $0[k] : Self.log10(max($0[k], exchangeFloor)) }
            let lo = values.min() ?? 0, hi = values.max() ?? 1
            let scale = max((hi - lo) / 2, 1e-12)
            outputs.append(Output(free: k, kind: kind, offset: (hi + lo) / 2, scale: scale))
        }
    }

    public var targetCount: Int { outputs.count }

    /// The first reason this transform cannot serve `basis` (counts, indices, kinds, non-finite
    /// or non-positive scales), or `nil`. Checked when weights are loaded from a file.
    public func inconsistency(for basis: FreeFluxBasis) -> String? {
        guard freeCount == basis.count else { return "freeCount \(freeCount) differs from the bundle's \(basis.count) free fluxes" }
        guard exchangeFloor.isFinite, exchangeFloor > 0 else { return "exchangeFloor \(exchangeFloor) is not a positive number" }
        var covered = [Bool](repeating: false, count: freeCount)
        for (k, v) in fixed {
            guard (0..<freeCount).contains(k) else { return "fixed index \(k) is outside 0 … \(freeCount - 1)" }
            guard v.isFinite else { return "fixed value of '\(basis.names[k])' is not finite" }
            covered[k] = true
        }
        for (j, o) in outputs.enumerated() {
            guard (0..<freeCount).contains(o.free) else { return "output \(j) names free flux \(o.free), outside 0 … \(freeCount - 1)" }
            guard !covered[o.free] else { return "free flux '\(basis.names[o.free])' is predicted twice or also fixed" }
            covered[o.free] = true
            let expected: Kind = o.free < basis.freeNet.count ? .affine : .log10
            guard o.kind == expected else { return "output \(j) ('\(basis.names[o.free])') must be \(expected.rawValue)" }
            guard o.offset.isFinite, o.scale.isFinite, o.scale > 0 else {
                return "output \(j) ('\(basis.names[o.free])') has offset \(o.offset), scale \(o.scale); a finite offset and positive scale are needed"
            }
        }
        if let k = covered.firstIndex(of: false) { return "free flux '\(basis.names[k])' is neither predicted nor fixed" }
        return nil
    }

    /// Targets of θ.
    public func targets(_ theta: [Double]) -> [Float] {
        outputs.map { o in
            let v = o.kind == .affine ? theta[o.free] : Self.log10(max(theta[o.free], exchangeFloor))
            return Float((v - o.offset) / o.scale)
        }
    }

    /// θ from targets (fixed entries filled in; exchange fluxes ≥ 0 by construction).
    public func free(fromTargets y: [Float]) -> [Double] {
        var theta = [Double](repeating: 0, count: freeCount)
        for (k, v) in fixed { theta[k] = v }
        for (j, o) in outputs.enumerated() {
            let v = Double(y[j]) * o.scale + o.offset
            theta[o.free] = o.kind == .affine ? v : Self.pow10(v)
        }
        return theta
    }

    /// 1σ standard errors of θ from target-space means `y` and standard deviations `s`
    /// (delta method: dθ/dy = scale for affine, θ·ln10·scale for log10). Fixed fluxes: 0.
    public func freeSE(targets y: [Float], std s: [Float]) -> [Double] {
        var se = [Double](repeating: 0, count: freeCount)
        for (j, o) in outputs.enumerated() {
            let sy = Double(s[j]) * o.scale
            if o.kind == .affine {
                se[o.free] = sy
            } else {
                let theta = Self.pow10(Double(y[j]) * o.scale + o.offset)
                se[o.free] = theta * 2.302_585_092_994_046 * sy
            }
        }
        return se
    }

    /// Covariance of θ (`[freeCount·freeCount]`, row-major; fixed fluxes 0) from target-space
    /// means `y` and covariance `cov` (`[targets·targets]`) by the delta method:
    /// `Σ_θ = J·Σ_y·Jᵀ`, `J` diagonal with `dθ/dy` = scale (affine) or θ·ln10·scale (log10).
    public func freeCovariance(targets y: [Double], covariance cov: [Double]) -> [Double] {
        let t = outputs.count
        precondition(y.count == t && cov.count == t * t)
        let d = outputs.enumerated().map { j, o -> Double in
            o.kind == .affine ? o.scale : Self.pow10(y[j] * o.scale + o.offset) * 2.302_585_092_994_046 * o.scale
        }
        var out = [Double](repeating: 0, count: freeCount * freeCount)
        for (i, a) in outputs.enumerated() {
            for (j, b) in outputs.enumerated() { out[a.free * freeCount + b.free] = d[i] * cov[i * t + j] * d[j] }
        }
        return out
    }

    static func log10(_ x: Double) -> Double { Foundation.log10(x) }
    static func pow10(_ x: Double) -> Double { Foundation.pow(10, x) }
}
