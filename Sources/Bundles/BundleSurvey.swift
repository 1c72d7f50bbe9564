import FluxSampling
import Foundation
import MLFluxCore
import Prediction

/// A first look at a bundle: its dimensions, which constraints bind, and which free fluxes
/// its tracers resolve over sampled states (`mlflux bundle new` prints it).
public struct BundleSurvey: Codable, Sendable {
    public struct Dimensions: Codable, Sendable {
        public var reactions: Int
        public var bidirectionalReactions: Int
        public var pools: Int
        public var inputPools: Int
        public var balancedPools: Int
        public var freeNet: Int
        public var freeExchange: Int
        /// Free fluxes fixed by equalities.
        public var fixed: Int
        /// Dimensions of the net and exchange flux spaces once every equality holds.
        public var netSpace: Int
        public var exchangeSpace: Int
        public var experiments: Int
        public var measured: Int
        /// MID entries per sample (experiments × isotopologues of the measured fragments).
        public var midEntries: Int
    }

    /// One constraint of the network (FluxML and side file) and how the flux space meets it.
    public struct Constraint: Codable, Sendable {
        /// As written (`net: PGI<=1.1`).
        public var constraint: String
        /// Its line in the FluxML file or the bounds table.
        public var line: Int?
        /// Range of the left-hand side over the flux space (`nil`: unbounded on that side).
        public var lower: Double?
        public var upper: Double?
        /// `equality`; `binds` (the flux space reaches the bound: it shapes the space);
        /// `slack` (never reached: the other constraints keep the flux inside it).
        public var status: String
    }

    public var dimensions: Dimensions
    public var constraints: [Constraint]
    /// Free flux names, θ order.
    public var freeFluxes: [String]
    /// Range of every free flux over the flux space (θ order).
    public var freeLower: [Double]
    public var freeUpper: [Double]
    /// Which free fluxes the tracers resolve over sampled states (`nil` when not computed).
    public var resolvability: FluxResolvability.Report?

    /// Surveys `bundle`; with `states > 0`, also the resolvability over that many states
    /// drawn by the flux-space sampler (seeded with `seed`).
    /// - Throws: the sampler's error when the flux space cannot be sampled, a simulator error.
    public static func survey(_ bundle: ModelBundle, states: Int, seed: UInt64 = 1,
                              resolution: MIDResolution = .massSpectrometer,
                              progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> BundleSurvey {
        let network = bundle.network, basis = bundle.basis
        let sampler = try FluxSpaceSampler(network: network, basis: basis, settings: .automatic(for: basis))
        let dims = Dimensions(
            reactions: network.reactions.count, bidirectionalReactions: network.isBidirectional.filter { $0 }.count,
            pools: network.pools.count, inputPools: network.inputPools.count, balancedPools: network.balancedPools.count,
            freeNet: basis.freeNet.count, freeExchange: basis.freeExchange.count, fixed: basis.fixed.count,
            netSpace: sampler.netDimension, exchangeSpace: sampler.exchangeDimension,
            experiments: bundle.experiments.count, measured: bundle.measured.count, midEntries: bundle.layout.count)
        var rows: [Constraint] = []
        for c in network.constraints {
            let terms = c.terms.compactMap { t in
                network.reactionIndex[t.reaction].map { IndexedFluxTerm(reaction: $0, coefficient: t.coefficient) }
            }
            let range = sampler.range(of: terms, kind: c.kind)
            let tol = 1e-7 * max(1, abs(c.constant))
            let status: String
            switch c.relation {
            case .equal: status = "equality"
            case .lessOrEqual: status = range.upper >= c.constant - tol ? "binds" : "slack"
            case .greaterOrEqual: status = range.lower <= c.constant + tol ? "binds" : "slack"
            }
            rows.append(Constraint(constraint: c.description, line: c.line,
                                   lower: range.lower.isFinite ? range.lower : nil,
                                   upper: range.upper.isFinite ? range.upper : nil, status: status))
        }
        var report: FluxResolvability.Report?
        if states > 0 {
            var rng = SplitMix64(seed: seed)
            let draws = sampler.sample(count: states, using: &rng)
            var analysis = FluxResolvability(simulator: try bundle.simulator(), network: network, basis: basis,
                                             ranges: sampler.bounds)
            analysis.resolution = resolution
            report = try analysis.analyze(draws, progress: progress)
        }
        return BundleSurvey(dimensions: dims, constraints: rows, freeFluxes: basis.names,
                            freeLower: sampler.bounds.map(\.lower), freeUpper: sampler.bounds.map(\.upper),
                            resolvability: report)
    }
}
