import MLFluxCore

/// Errors of EMU decomposition and simulation.
public enum EMUError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A measured fragment names a pool the network does not have.
    case unknownPool(String)
    /// A measured fragment names atom positions outside its pool.
    case atomOutOfRange(fragment: String, atoms: Int)
    /// The flux vector does not match the network.
    case wrongFluxCount(expected: Int, found: Int)
    /// A flux is NaN or infinite, or a one-way flux is negative.
    case invalidFlux(reaction: String, reason: String)
    /// A pool has no producing flux (or its EMU system is singular) in this flux state,
    /// so its labeling is undefined.
    case singularSystem(pools: [String], emuSize: Int)
    /// Experiments must be non-empty and valid for the network.
    case noExperiments
    /// The EMU decomposition needs more EMUs than `EMUSimulator.Limits.emus`.
    case problemTooLarge(emus: Int, limit: Int)
    /// A measurement map (natural abundance of a fragment) does not fit its fragment.
    case invalidMeasurementMap(fragment: String, reason: String)
    /// A dilution (labeling-only mixing) names no measured fragment, or its factors do not fit.
    case invalidDilution(String)

    public var description: String {
        switch self {
        case .unknownPool(let p): return "measured metabolite names unknown pool '\(p)'"
        case .atomOutOfRange(let f, let n): return "fragment '\(f)' names atoms outside its pool (which has \(n) atoms)"
        case .wrongFluxCount(let e, let f): return "flux vector has \(f) entries, the network has \(e) reactions"
        case .invalidFlux(let r, let why): return "reaction '\(r)': \(why)"
        case .singularSystem(let pools, let n):
            return "the labeling of pool(s) \(pools.map { "'\($0)'" }.joined(separator: ", ")) is undefined "
                + "for this flux state (size-\(n) EMU system is singular): no flux produces them"
        case .noExperiments: return "no tracer experiment given"
        case .invalidMeasurementMap(let f, let why): return "measurement map of fragment '\(f)': \(why)"
        case .invalidDilution(let why): return "labeling-only mixing: \(why)"
        case .problemTooLarge(let n, let limit):
            return "the EMU decomposition needs more than \(limit) EMUs (stopped at \(n)): the atom maps permute atoms "
                + "so that too many atom subsets must be simulated; check the atom maps or measure fewer / smaller fragments"
        }
    }
}
