import MLFluxCore

/// Index layout of one-way fluxes `u`: the forward flux of reaction `j` is `u[j]`;
/// the reverse flux of bidirectional reaction `j` is `u[reverseIndex[j]]`
/// (`reactionCount ..< reactionCount + bidirectional count`).
struct OneWayLayout: Sendable {
    let reactionCount: Int
    let reverseIndex: [Int]   // -1 for one-way reactions
    let count: Int

    init(network: MetabolicNetwork) {
        reactionCount = network.reactions.count
        var next = reactionCount
        reverseIndex = network.isBidirectional.map { bi in
            guard bi else { return -1 }
            defer { next += 1 }
            return next
        }
        count = next
    }

    /// One-way fluxes of a state: forward = xch + max(net, 0), reverse = xch − min(net, 0).
    /// A negative net flux of a one-way reaction or a negative exchange flux within round-off
    /// (10⁻⁹ of the state's largest flux, as a constrained fit at 10⁴ µmol/g/h leaves them) is 0.
    /// - Throws: `EMUError.invalidFlux` for non-finite values or a negative one-way flux.
    func values(_ state: FluxState, network: MetabolicNetwork) throws -> [Double] {
        guard state.net.count == reactionCount, state.exchange.count == reactionCount else {
            throw EMUError.wrongFluxCount(expected: reactionCount, found: state.net.count)
        }
        var u = [Double](repeating: 0, count: count)
        let roundOff = -1e-9 * max(1, zip(state.net, state.exchange).reduce(0.0) { max($0, abs($1.0), abs($1.1)) })
        for j in 0..<reactionCount {
            var n = state.net[j], x = state.exchange[j]
            guard n.isFinite, x.isFinite else {
                throw EMUError.invalidFlux(reaction: network.reactions[j].id, reason: "flux is not a finite number")
            }
            if n < 0 && n >= roundOff && reverseIndex[j] < 0 { n = 0 }
            if x < 0 && x >= roundOff { x = 0 }
            if reverseIndex[j] < 0 {
                guard n >= 0 else {
                    throw EMUError.invalidFlux(reaction: network.reactions[j].id,
                                               reason: "one-way reaction with negative net flux \(n)")
                }
                u[j] = n
            } else {
                guard x >= 0 else {
                    throw EMUError.invalidFlux(reaction: network.reactions[j].id, reason: "negative exchange flux \(x)")
                }
                u[j] = x + max(n, 0)
                u[reverseIndex[j]] = x - min(n, 0)
            }
        }
        return u
    }

    /// Sparse derivative of every one-way flux with respect to the free fluxes θ:
    /// `result[u]` lists `(θ index, ∂u/∂θ)`. At net = 0 the forward branch is taken.
    func derivatives(_ state: FluxState, basis: FreeFluxBasis) -> [[(Int, Double)]] {
        let nNet = basis.freeNet.count, nX = basis.freeExchange.count
        var d = [[(Int, Double)]](repeating: [], count: count)
        for j in 0..<reactionCount {
            var netRow: [(Int, Double)] = []
            for k in 0..<nNet {
                let v = basis.netKernel[j * nNet + k]
                if v != 0 { netRow.append((k, v)) }
            }
            var xRow: [(Int, Double)] = []
            for k in 0..<nX {
                let v = basis.exchangeKernel[j * nX + k]
                if v != 0 { xRow.append((nNet + k, v)) }
            }
            if reverseIndex[j] < 0 {
                d[j] = netRow
            } else {
                let forwardGetsNet = state.net[j] >= 0
                d[j] = xRow + (forwardGetsNet ? netRow : [])
                d[reverseIndex[j]] = xRow + (forwardGetsNet ? [] : netRow.map { ($0.0, -$0.1) })
            }
        }
        return d
    }
}
