#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The generator the trainer uses for its shuffles (SplitMix64, Steele et al. 2014):
/// a 64-bit state, so a `seed` fixes every epoch's order on every platform.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension RandomNumberGenerator {
    /// A standard normal draw (Box–Muller, the cosine branch only, so one draw costs two
    /// uniforms and the sequence depends only on the generator).
    @inlinable
    public mutating func nextGaussian() -> Double {
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53      // (0, 1]
        let u2 = Double(next() >> 11) * 0x1p-53            // [0, 1)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

extension RandomNumberGenerator {
    /// A uniform draw in `[low, high)` built from the top 53 bits of `next()` (stable across
    /// standard-library versions, unlike `Double.random(in:using:)`).
    @inlinable
    mutating func nextUniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * (Double(next() >> 11) * 0x1p-53)
    }
}

/// A deterministic Fisher–Yates shuffle (the standard library's `shuffle(using:)` does not
/// promise the same order across versions).
@usableFromInline
func seededShuffle(_ a: inout [Int], using rng: inout some RandomNumberGenerator) {
    guard a.count > 1 else { return }
    for i in stride(from: a.count - 1, to: 0, by: -1) {
        let j = Int(rng.next() % UInt64(i + 1))
        a.swapAt(i, j)
    }
}
