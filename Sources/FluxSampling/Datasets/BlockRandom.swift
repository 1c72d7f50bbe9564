/// The seeded generator of one dataset block (SplitMix64, Steele et al. 2014).
///
/// Block `b` of a dataset with seed `S` draws from `BlockRandom(seed: S, block: b, stream: s)`,
/// whose state is `mix(S ⊕ mix(b + 1) ⊕ mix(s · golden))`: every block has its own
/// independent stream, so a block's content depends only on (S, b) — not on which shard
/// or thread made it, nor on the blocks before it. Stream 0 draws flux states, stream 1
/// drives the acceptance filters.
public struct BlockRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64, block: Int, stream: UInt64 = 0) {
        state = Self.mix(seed ^ Self.mix(UInt64(bitPattern: Int64(block)) &+ 1) ^ Self.mix(stream &* 0x9E37_79B9_7F4A_7C15 &+ 0xD1B5_4A32_D192_ED03))
    }

    /// The SplitMix64 finaliser.
    @inlinable static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
