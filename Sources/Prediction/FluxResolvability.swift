import EMU
import Foundation
import MLFluxCore

/// Whether the labeling can tell each free flux at all — the `DeltaGResolvability` test
/// generalised from ΔG to every free flux of a basis.
///
/// For each flux state and each free flux that no equality fixes, the flux is moved on its
/// own (the dependent fluxes follow through the basis kernels): a net flux by
/// ±`netShift` × the width of its feasible range (`ranges`), an exchange flux by the factor
/// `exchangeFactor` up and down. The MIDs are simulated again, and the move counts as
/// visible when some MID entry moves by more than twice its `resolution`. A flux is resolved
/// in a state when every move that stays feasible is visible (a move that leaves the flux
/// space is impossible and not required; a flux with no feasible move is not counted).
///
/// One flux is moved at a time, so a move that other fluxes could compensate still counts as
/// visible: the shares are upper bounds on what a fit or a network can resolve.
public struct FluxResolvability: Sendable {
    public struct Report: Codable, Sendable {
        public var states: Int
        public var netShift: Double
        public var exchangeFactor: Double
        public var absoluteResolution: Double
        public var relativeResolution: Double
        /// Free flux names (`basis.names` order) that were tested in some state.
        public var fluxes: [String]
        /// Per free flux name: share of the states (where it was tested) in which its moves are visible.
        public var visible: [String: Double]
    }

    public let simulator: EMUSimulator
    public let network: MetabolicNetwork
    public let basis: FreeFluxBasis
    /// Lower and upper bound of every free flux (θ order), e.g. `FluxSpaceSampler.bounds`.
    public let ranges: [(lower: Double, upper: Double)]
    public var netShift = 0.1
    public var exchangeFactor = 2.0
    public var resolution = MIDResolution.massSpectrometer

    public init(simulator: EMUSimulator, network: MetabolicNetwork, basis: FreeFluxBasis,
                ranges: [(lower: Double, upper: Double)]) {
        precondition(ranges.count == basis.count, "one range per free flux")
        self.simulator = simulator
        self.network = network
        self.basis = basis
        self.ranges = ranges
    }

    /// The values free flux `k` is moved to from `value`.
    func moves(_ k: Int, from value: Double) -> [Double] {
        if k < basis.freeNet.count {
            let step = netShift * (ranges[k].upper - ranges[k].lower)
            return step > 0 ? [value + step, value - step] : []
        }
        if value > 0 { return [value * exchangeFactor, value / exchangeFactor] }
        let step = netShift * (ranges[k].upper - ranges[k].lower)
        return step > 0 ? [value + step] : []
    }

    /// Visibility of every free flux in the state with free fluxes `θ` (nil: fixed, or no
    /// feasible move).
    public func visibility(free θ: [Double]) throws -> [Bool?] {
        let base = try simulator.simulate(basis.fluxState(free: θ)).values
        return try (0..<basis.count).map { k in
            guard basis.fixed[k] == nil else { return nil }
            var tested = false
            for x in moves(k, from: θ[k]) {
                var moved = θ
                moved[k] = x
                let state = basis.fluxState(free: moved)
                guard basis.violations(of: state, in: network, tolerance: 1e-9).isEmpty else { continue }
                tested = true
                let values = try simulator.simulate(state).values
                if !zip(values, base).contains(where: { abs($0 - $1) > 2 * resolution.sigma($1) }) { return false }
            }
            return tested ? true : nil
        }
    }

    /// The report over the free-flux vectors `states`, on `threads` workers.
    public func analyze(_ states: [[Double]], threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                        progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Report {
        let rows = try ParallelRows.map(count: states.count, threads: threads, progress: progress) {
            try visibility(free: states[$0])
        }.map { try $0.get() }
        let names = basis.names
        var counted = [Int](repeating: 0, count: names.count), seen = counted
        for row in rows {
            for (k, v) in row.enumerated() {
                guard let v else { continue }
                counted[k] += 1
                if v { seen[k] += 1 }
            }
        }
        var visible: [String: Double] = [:]
        for k in names.indices where counted[k] > 0 { visible[names[k]] = Double(seen[k]) / Double(counted[k]) }
        return Report(states: states.count, netShift: netShift, exchangeFactor: exchangeFactor,
                      absoluteResolution: resolution.absolute, relativeResolution: resolution.relative,
                      fluxes: names.filter { visible[$0] != nil }, visible: visible)
    }
}
