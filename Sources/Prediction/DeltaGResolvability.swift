import EMU
import Foundation
import MLFluxCore

/// Whether the labeling can tell a reaction's ΔG to within ±`deltaG` kJ/mol at all —
/// whatever the predictor.
///
/// For each flux state and each bidirectional reaction with a nonzero net flux, the
/// exchange flux is moved to the values at which ΔG = RT ln(v_rev/v_fwd) is `deltaG` higher
/// and lower (net fluxes and all other exchange fluxes kept), the MIDs are simulated again,
/// and the change counts as visible when some MID entry moves by more than twice its
/// `resolution` for both moves (a move that would cross equilibrium is impossible and not
/// required). A reaction whose ΔG moves are invisible cannot be predicted to ±`deltaG`
/// from these MIDs except by luck of the prior.
public struct DeltaGResolvability: Sendable {
    public struct Report: Codable, Sendable {
        public var states: Int
        public var deltaG: Double
        public var absoluteResolution: Double
        public var relativeResolution: Double
        /// Per reaction id: share of states whose ±ΔG moves are visible.
        public var visible: [String: Double]
        /// Share of states in which all reactions are visible at once.
        public var allVisible: Double
        /// Reaction ids in network order.
        public var reactions: [String]
    }

    public let simulator: EMUSimulator
    public let network: MetabolicNetwork
    /// Reactions whose exchange flux is free (not fixed by a constraint such as `PYK xch = 0`).
    let freeExchange: [Bool]
    public var deltaG: Double = 1
    public var resolution = MIDResolution.float32Storage
    public var temperature: Double = Thermodynamics.bodyTemperature

    public init(simulator: EMUSimulator, network: MetabolicNetwork, basis: FreeFluxBasis) {
        self.simulator = simulator
        self.network = network
        let nX = basis.freeExchange.count
        freeExchange = network.reactions.indices.map { r in
            (0..<nX).contains { basis.exchangeKernel[r * nX + $0] != 0 && basis.fixed[basis.freeNet.count + $0] == nil }
        }
    }

    /// The exchange fluxes at which ΔG is shifted by ±`deltaG` (those that exist).
    func shiftedExchange(net: Double, xch: Double) -> [Double] {
        let g = Thermodynamics.deltaG(net: net, xch: xch, temperature: temperature)
        return [deltaG, -deltaG].compactMap { Thermodynamics.exchange(net: net, deltaG: g + $0, temperature: temperature) }
    }

    /// Visibility of every reversible reaction in one state (nil where the exchange flux is
    /// fixed, or ΔG does not depend on it, i.e. net = 0).
    public func visibility(_ state: FluxState) throws -> [Bool?] {
        let base = try simulator.simulate(state).values
        return try network.reactions.indices.map { r in
            guard freeExchange[r], state.net[r] != 0, state.exchange[r] >= 0 else { return nil }
            for x in shiftedExchange(net: state.net[r], xch: state.exchange[r]) {
                var moved = state
                moved.exchange[r] = x
                let values = try simulator.simulate(moved).values
                let visible = zip(values, base).contains { v, b in
                    abs(v - b) > 2 * resolution.sigma(b)
                }
                if !visible { return false }
            }
            return true
        }
    }

    /// The report over `states`, on `threads` workers; `progress(done, total)` as in `ParallelRows`.
    public func analyze(_ states: [FluxState], threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                        progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Report {
        let results = try ParallelRows.map(count: states.count, threads: threads, progress: progress) {
            try visibility(states[$0])
        }.map { try $0.get() }
        let ids = network.reactions.map(\.id)
        var visible: [String: Double] = [:], all = 0
        var counted = [Int](repeating: 0, count: ids.count), seen = counted
        for row in results {
            var every = true
            for (r, v) in row.enumerated() {
                guard let v else { continue }
                counted[r] += 1
                if v { seen[r] += 1 } else { every = false }
            }
            if every { all += 1 }
        }
        for r in ids.indices where counted[r] > 0 { visible[ids[r]] = Double(seen[r]) / Double(counted[r]) }
        return Report(states: states.count, deltaG: deltaG, absoluteResolution: resolution.absolute,
                      relativeResolution: resolution.relative, visible: visible,
                      allVisible: Double(all) / Double(max(states.count, 1)),
                      reactions: ids.filter { visible[$0] != nil })
    }
}
