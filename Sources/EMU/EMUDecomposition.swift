import MLFluxCore

/// An elementary metabolite unit: a subset of the atoms of a pool (bit `i` of `mask`
/// = atom position `i`, carbons then hydrogens). Its MID has `size + 1` entries.
struct EMUKey: Hashable, Comparable, Sendable {
    var pool: Int
    var mask: UInt64
    var size: Int { mask.nonzeroBitCount }
    static func < (a: EMUKey, b: EMUKey) -> Bool { (a.pool, a.mask) < (b.pool, b.mask) }
}

/// One term of an EMU balance: `coefficient · u[flux] · (⊗ precursors)`, where ⊗ is the
/// convolution of the precursors' MIDs (atoms that come from unlabeled solvent add nothing).
struct ProductionTerm: Hashable, Sendable {
    var flux: Int
    var coefficient: Double
    var precursors: [EMUKey]
}

/// The EMU network of a set of measured EMUs (Antoniewicz, Kelleher & Stephanopoulos 2007):
/// every EMU needed to simulate them, with the terms that produce each.
struct EMUDecomposition: Sendable {
    /// Production terms of every unknown (non-input) EMU.
    var terms: [EMUKey: [ProductionTerm]] = [:]
    /// Input-pool EMUs whose MIDs come from the tracer.
    var inputs: Set<EMUKey> = []

    /// One direction of a reaction: atoms flow from `sources` to `targets`.
    struct Direction {
        let flux: Int
        let sources: [(pool: Int, map: [Character])]
        let targets: [(pool: Int, map: [Character])]
        let letterSource: [Character: (occurrence: Int, position: Int)]
        let leak: Set<Character>
    }

    static func directions(_ network: MetabolicNetwork, layout: OneWayLayout) -> [Direction] {
        var out: [Direction] = []
        for (j, r) in network.reactions.enumerated() where !r.isEfflux {
            let subs = r.substrates.map { (pool: network.poolIndex[$0.pool]!, map: $0.atomMap) }
            let prods = r.products.map { (pool: network.poolIndex[$0.pool]!, map: $0.atomMap) }
            func letters(_ side: [(pool: Int, map: [Character])]) -> [Character: (Int, Int)] {
                var d: [Character: (Int, Int)] = [:]
                for (o, s) in side.enumerated() { for (p, c) in s.map.enumerated() { d[c] = (o, p) } }
                return d
            }
            out.append(Direction(flux: j, sources: subs, targets: prods, letterSource: letters(subs), leak: r.leakAtoms))
            if layout.reverseIndex[j] >= 0 {
                out.append(Direction(flux: layout.reverseIndex[j], sources: prods, targets: subs,
                                     letterSource: letters(prods), leak: r.leakAtoms))
            }
        }
        return out
    }

    /// - Throws: `EMUError.problemTooLarge` as soon as more than `limit` EMUs are needed
    ///   (atom-permuting networks can need up to 2^atoms EMUs per pool).
    init(network: MetabolicNetwork, layout: OneWayLayout, measured: [EMUKey], limit: Int = EMUSimulator.Limits.emus) throws {
        let dirs = Self.directions(network, layout: layout)
        // producers[pool] = (direction, target occurrence)
        var producers = [[(Int, Int)]](repeating: [], count: network.pools.count)
        for (d, dir) in dirs.enumerated() {
            for (o, t) in dir.targets.enumerated() { producers[t.pool].append((d, o)) }
        }
        var pending = measured
        while let e = pending.popLast() {
            if network.isInput[e.pool] { inputs.insert(e); continue }
            if terms[e] != nil { continue }
            let pool = network.pools[e.pool]
            let variants: [(reversed: Bool, weight: Double)] =
                pool.isSymmetric ? [(false, 0.5), (true, 0.5)] : [(false, 1)]
            var merged: [ProductionTerm] = []
            for (d, o) in producers[e.pool] {
                let dir = dirs[d]
                let targetMap = dir.targets[o].map
                for v in variants {
                    var groups: [Int: UInt64] = [:]
                    var m = e.mask
                    while m != 0 {
                        let a = m.trailingZeroBitCount
                        m &= m - 1
                        let letter = targetMap[v.reversed ? pool.atomCount - 1 - a : a]
                        if dir.leak.contains(letter) { continue }
                        let src = dir.letterSource[letter]!
                        groups[src.occurrence, default: 0] |= UInt64(1) << UInt64(src.position)
                    }
                    let pre = groups.map { EMUKey(pool: dir.sources[$0.key].pool, mask: $0.value) }.sorted()
                    if let k = merged.firstIndex(where: { $0.flux == dir.flux && $0.precursors == pre }) {
                        merged[k].coefficient += v.weight
                    } else {
                        merged.append(ProductionTerm(flux: dir.flux, coefficient: v.weight, precursors: pre))
                    }
                    pending.append(contentsOf: pre)
                }
            }
            terms[e] = merged
            guard terms.count + inputs.count <= limit else {
                throw EMUError.problemTooLarge(emus: terms.count + inputs.count, limit: limit)
            }
        }
    }
}
