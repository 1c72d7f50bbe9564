import MLFluxCore

/// An independent reference simulator for small networks: the full isotopomer
/// distribution (2^atoms states) of every pool, found by fixed-point iteration of the
/// isotopomer balances. Knows nothing of EMUs.
struct BruteForceIsotopomers {
    let network: MetabolicNetwork
    /// dist[pool][state], state bit i = atom i heavy.
    var dist: [[Double]]

    init(network: MetabolicNetwork, state: FluxState, experiment: TracerExperiment,
         tolerance: Double = 1e-15, maxSweeps: Int = 200_000) {
        self.network = network
        let pools = network.pools
        dist = pools.map { p in
            var d = [Double](repeating: 0, count: 1 << p.atomCount)
            d[0] = 1
            return d
        }
        for (pi, p) in pools.enumerated() where network.isInput[pi] {
            var d = [Double](repeating: 0, count: 1 << p.atomCount)
            let input = experiment.input(for: p.id)
            d[0] = input?.unlabeledFraction ?? 1
            for c in input?.components ?? [] {
                // purity: each labeled atom heavy with probability `purity`
                let labeled = (0..<p.atomCount).filter { c.pattern[$0] }
                for sub in 0..<(1 << labeled.count) {
                    var s = 0, prob = c.fraction
                    for (k, a) in labeled.enumerated() {
                        if sub & (1 << k) != 0 { s |= 1 << a; prob *= c.purity } else { prob *= 1 - c.purity }
                    }
                    d[s] += prob
                }
            }
            dist[pi] = d
        }
        // One-way directions: (flux, sources, targets, leak)
        typealias Side = [(pool: Int, map: [Character])]
        var dirs: [(flux: Double, src: Side, dst: Side, leak: Set<Character>)] = []
        for (j, r) in network.reactions.enumerated() where !r.isEfflux {
            let s = r.substrates.map { (pool: network.poolIndex[$0.pool]!, map: $0.atomMap) }
            let t = r.products.map { (pool: network.poolIndex[$0.pool]!, map: $0.atomMap) }
            dirs.append((state.forward(j), s, t, r.leakAtoms))
            if network.isBidirectional[j] { dirs.append((state.reverse(j), t, s, r.leakAtoms)) }
        }
        for _ in 0..<maxSweeps {
            var next = dist.map { $0.map { _ in 0.0 } }
            var inflow = [Double](repeating: 0, count: pools.count)
            for d in dirs where d.flux > 0 {
                // Joint distribution of the substrates (independent), mapped onto the products.
                var joint: [([Character: Bool], Double)] = [([:], 1)]
                for s in d.src {
                    var nj: [([Character: Bool], Double)] = []
                    for (assign, pr) in joint {
                        for (st, q) in dist[s.pool].enumerated() where q != 0 {
                            var a = assign
                            for (pos, ch) in s.map.enumerated() { a[ch] = (st >> pos) & 1 == 1 }
                            nj.append((a, pr * q))
                        }
                    }
                    joint = nj
                }
                for t in d.dst {
                    let pool = pools[t.pool]
                    inflow[t.pool] += d.flux
                    let variants: [(Bool, Double)] = pool.isSymmetric ? [(false, 0.5), (true, 0.5)] : [(false, 1)]
                    for (assign, pr) in joint {
                        for (rev, wgt) in variants {
                            var st = 0
                            for pos in 0..<pool.atomCount {
                                let ch = t.map[rev ? pool.atomCount - 1 - pos : pos]
                                if !d.leak.contains(ch), assign[ch] == true { st |= 1 << pos }
                            }
                            next[t.pool][st] += d.flux * pr * wgt
                        }
                    }
                }
            }
            var change = 0.0
            for pi in pools.indices where !network.isInput[pi] && inflow[pi] > 0 {
                // Renormalise: with several substrates per reaction, the plain iteration
                // amplifies rounding in the total (x³ for three substrates) and drifts.
                let total = next[pi].reduce(0, +)
                for s in next[pi].indices {
                    let v = next[pi][s] / total
                    change = max(change, abs(v - dist[pi][s]))
                    next[pi][s] = v
                }
                dist[pi] = next[pi]
            }
            if change < tolerance { break }
        }
    }

    /// MID of the atoms `positions` of `pool`.
    func mid(pool: String, positions: [Int]) -> [Double] {
        let pi = network.poolIndex[pool]!
        var out = [Double](repeating: 0, count: positions.count + 1)
        for (s, q) in dist[pi].enumerated() {
            out[positions.filter { (s >> $0) & 1 == 1 }.count] += q
        }
        return out
    }
}
