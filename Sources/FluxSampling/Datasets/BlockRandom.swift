import MLFluxCore
/// The seeded generator of one dataset block (SplitMix64, Steele et al. 2014).
///
/// Block `b` of a dataset with seed `S` draws from `BlockRandom(seed: S, block: b, stream: s)`,
/// whose state is `mix(S ⊕ mix(b + 1) ⊕ mix(s · golden))`: every block has its own
/// independent stream, so a block's content depends only on (S, b) — not on which shard
/// or thread made it, nor on the blocks before it. Stream 0 draws flux states, stream 1
/// drives the acceptance filters.
public struct BlockRandom: RandomNumberGenerator, Sendable {
    private var generator: SplitMix64

    public init(seed: UInt64, block: Int, stream: UInt64 = 0) {
        generator = SplitMix64(seed: SplitMix64.mix(seed ^ SplitMix64.mix(UInt64(bitPattern: Int64(block)) &+ 1)
            ^ SplitMix64.mix(stream &* 0x9E37_79B9_7F4A_7C15 &+ 0xD1B5_4A32_D192_ED03)))
    }

    public mutating func next() -> UInt64 { generator.next() }
}
