/// Inverted dropout (Srivastava et al. 2014): during training each element is kept with
/// probability `1 − rate` and scaled by `1/(1 − rate)`, so the expected activation is unchanged
/// and inference is the identity.
///
/// The mask is drawn from the caller's seeded generator and applied again, unchanged, in the
/// backward pass (`∂L/∂x = mask ⊙ ∂L/∂y`).
public struct Dropout: Equatable, Sendable {
    /// Probability of zeroing an element, `0 ≤ rate < 1` (`0`: the identity).
    public var rate: Float

    public init(rate: Float) {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) must lie in [0, 1)")
        self.rate = rate
    }

    /// A mask of `count` elements: `0` with probability `rate`, else `1/(1 − rate)`.
    public func mask(count: Int, using rng: inout some RandomNumberGenerator) -> [Float] {
        guard rate > 0 else { return [Float](repeating: 1, count: count) }
        let keep = 1 / (1 - rate), threshold = UInt64(Double(rate) * 0x1p53)
        return (0..<count).map { _ in (rng.next() >> 11) < threshold ? 0 : keep }
    }

    /// `x ⊙ mask` in place (forward and backward alike).
    @inlinable
    public static func apply(_ mask: [Float], to x: inout Matrix) {
        precondition(mask.count == x.storage.count, "dropout mask has \(mask.count) elements, the matrix \(x.storage.count)")
        x.storage.withUnsafeMutableBufferPointer { px in
            mask.withUnsafeBufferPointer { pm in for i in px.indices { px[i] *= pm[i] } }
        }
    }
}
