/// Net and exchange fluxes of every reaction of a network, in reaction order.
///
/// Convention: forward = xch + max(net, 0), reverse = xch − min(net, 0).
/// One-way reactions (uptakes, effluxes) have exchange 0 and reverse 0.
public struct FluxState: Hashable, Sendable {
    /// Net flux per reaction (forward − reverse), in the network's flux unit.
    public var net: [Double]
    /// Exchange flux per reaction (min(forward, reverse)); 0 for one-way reactions.
    public var exchange: [Double]

    public init(net: [Double], exchange: [Double]) {
        precondition(net.count == exchange.count, "net and exchange vectors differ in length")
        self.net = net
        self.exchange = exchange
    }

    /// Builds a state from `{reaction: (net, xch)}`; a reaction left out has net 0 and xch 0.
    /// - Throws: `FluxStateError` for an unknown reaction, a non-finite value, a negative
    ///   exchange flux, an exchange flux given for a one-way reaction, or a negative net
    ///   flux of a one-way reaction (uptake or efflux).
    public init(network: MetabolicNetwork, values: [String: (net: Double, xch: Double?)]) throws {
        var net = [Double](repeating: 0, count: network.reactions.count)
        var xch = net
        for (id, v) in values.sorted(by: { $0.key < $1.key }) {
            guard let j = network.reactionIndex[id] else { throw FluxStateError.unknownReaction(id) }
            guard v.net.isFinite else { throw FluxStateError.notFinite(reaction: id, kind: .net) }
            guard network.isBidirectional[j] || v.net >= 0 else { throw FluxStateError.negativeOneWay(reaction: id, value: v.net) }
            net[j] = v.net
            if let x = v.xch {
                guard x.isFinite else { throw FluxStateError.notFinite(reaction: id, kind: .exchange) }
                guard x >= 0 else { throw FluxStateError.negativeExchange(reaction: id, value: x) }
                if !network.isBidirectional[j] && x != 0 { throw FluxStateError.exchangeOnOneWay(reaction: id) }
                xch[j] = x
            }
        }
        self.init(net: net, exchange: xch)
    }

    /// Forward one-way flux of reaction `j`.
    @inlinable public func forward(_ j: Int) -> Double { exchange[j] + max(net[j], 0) }
    /// Reverse one-way flux of reaction `j`.
    @inlinable public func reverse(_ j: Int) -> Double { exchange[j] - min(net[j], 0) }

    /// Residual S·v of the balanced pools (row order of `network.balancedPools`).
    public func balanceResidual(in network: MetabolicNetwork) -> [Double] {
        network.stoichiometry.map { row in zip(row, net).reduce(0) { $0 + $1.0 * $1.1 } }
    }
}

public enum FluxStateError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownReaction(String)
    case notFinite(reaction: String, kind: FluxKind)
    case negativeExchange(reaction: String, value: Double)
    case exchangeOnOneWay(reaction: String)
    case negativeOneWay(reaction: String, value: Double)

    public var description: String {
        switch self {
        case .unknownReaction(let r): return "unknown reaction '\(r)'"
        case .notFinite(let r, let k): return "reaction '\(r)': \(k.rawValue) flux is not a finite number"
        case .negativeExchange(let r, let v): return "reaction '\(r)': exchange flux \(v) is negative"
        case .exchangeOnOneWay(let r): return "reaction '\(r)' is one-way (uptake, efflux or declared irreversible) and has no exchange flux"
        case .negativeOneWay(let r, let v):
            return "reaction '\(r)' is one-way (uptake, efflux or declared irreversible) but its net flux \(v) is negative"
        }
    }
}
