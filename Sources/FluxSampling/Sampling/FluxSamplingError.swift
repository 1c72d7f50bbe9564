/// Why a flux space cannot be sampled; each description says what to change.
public enum FluxSamplingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No flux state satisfies these constraints together (an irreducible infeasible subset:
    /// dropping any one of them makes the rest feasible, given the mass balances).
    case infeasible(constraints: [String])
    /// The constraints leave this free flux (`"v2.xch"`) without a lower or upper bound.
    case unbounded(flux: String, direction: String)
    /// Rejection sampling accepted too few trial points (`rate` of them) in the pilot run.
    case lowAcceptance(part: String, rate: Double, suggestion: String)
    /// A constraint mixes net and exchange free fluxes (the basis never produces one).
    case mixedConstraint(String)
    /// A setting out of its range.
    case invalidSetting(name: String, value: Double, requirement: String)
    /// The LP solver failed to converge (numerically troubled constraints).
    case numericalFailure(String)

    public var description: String {
        switch self {
        case .infeasible(let cs):
            let list = cs.map { "'\($0)'" }.joined(separator: ", ")
            return "the flux constraints \(list) cannot hold together (given the mass balances): "
                + "no flux state satisfies them all; relax or remove one of them"
        case .unbounded(let flux, let direction):
            let reaction = flux.hasSuffix(".net") || flux.hasSuffix(".xch") ? String(flux.dropLast(4)) : flux
            let kind = flux.hasSuffix(".xch") ? "xch" : "net"
            return "free flux '\(flux)' has no \(direction) bound: uniform and log sampling need a finite range; "
                + "add a constraint such as '\(reaction)\(direction == "upper" ? "<=" : ">=")…' "
                + "to the network's \(kind) constraints"
        case .lowAcceptance(let part, let rate, let suggestion):
            return "rejection sampling of the \(part) fluxes accepts only \(rate) of the trial points "
                + "(the polytope fills a tiny part of its bounding box); \(suggestion)"
        case .mixedConstraint(let c):
            return "constraint '\(c)' mixes net and exchange fluxes; they must be constrained separately"
        case .invalidSetting(let name, let value, let requirement):
            return "sampler setting \(name) = \(value) is invalid: it must be \(requirement)"
        case .numericalFailure(let what):
            return "the linear program for \(what) did not converge; check the constraints for extreme coefficients"
        }
    }
}
