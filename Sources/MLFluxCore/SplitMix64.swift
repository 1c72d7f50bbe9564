/// A small, fast seeded generator (SplitMix64, Steele, Lea & Flood 2014). Every random
/// process in MLFlux takes a generator as a parameter; this is the one used for
/// reproducible runs (datasets, multi-start fits, benchmarks, tests).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.finalize(state)
    }

    /// The SplitMix64 output function (a bijective 64-bit mixer), for deriving seeds.
    @inlinable public static func mix(_ x: UInt64) -> UInt64 { finalize(x &+ 0x9E37_79B9_7F4A_7C15) }

    @inlinable static func finalize(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
