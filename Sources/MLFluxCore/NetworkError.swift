/// A network that breaks a structural rule. `line` is the source line when known;
/// readers add the file name (see `SourceLocated`).
public enum NetworkError: Error, Equatable, Sendable, CustomStringConvertible {
    case duplicatePool(id: String, line: Int?)
    case duplicateReaction(id: String, line: Int?)
    case unknownPool(pool: String, reaction: String, line: Int?)
    case invalidAtomCount(pool: String, line: Int?)
    case reactionWithoutSubstrate(reaction: String, line: Int?)
    case atomMapLength(reaction: String, pool: String, expected: Int, found: Int, line: Int?)
    case duplicateAtomLetter(reaction: String, letter: Character, line: Int?)
    case unbalancedAtom(reaction: String, letter: Character, side: String, line: Int?)
    case elementMismatch(reaction: String, letter: Character, line: Int?)
    case unknownLeakAtom(reaction: String, letter: Character, line: Int?)
    case unknownReactionInConstraint(reaction: String, constraint: String, line: Int?)
    case invalidTracer(experiment: String, pool: String, reason: String)
    /// A stoichiometric coefficient that is not a positive number, or not 1 on a participant whose atoms are traced.
    case invalidCoefficient(reaction: String, pool: String, coefficient: Double, reason: String, line: Int?)

    public var line: Int? {
        switch self {
        case .duplicatePool(_, let l), .duplicateReaction(_, let l), .unknownPool(_, _, let l),
             .invalidAtomCount(_, let l), .reactionWithoutSubstrate(_, let l),
             .atomMapLength(_, _, _, _, let l), .duplicateAtomLetter(_, _, let l),
             .unbalancedAtom(_, _, _, let l), .elementMismatch(_, _, let l),
             .unknownLeakAtom(_, _, let l), .unknownReactionInConstraint(_, _, let l),
             .invalidCoefficient(_, _, _, _, let l):
            return l
        case .invalidTracer: return nil
        }
    }

    public var description: String {
        let at = line.map { "line \($0): " } ?? ""
        switch self {
        case .duplicatePool(let id, _): return "\(at)duplicate pool id '\(id)'"
        case .duplicateReaction(let id, _): return "\(at)duplicate reaction id '\(id)'"
        case .unknownPool(let p, let r, _): return "\(at)reaction '\(r)' names unknown pool '\(p)'"
        case .invalidAtomCount(let p, _): return "\(at)pool '\(p)' has an invalid atom count"
        case .reactionWithoutSubstrate(let r, _): return "\(at)reaction '\(r)' has no substrate"
        case .atomMapLength(let r, let p, let e, let f, _):
            return "\(at)reaction '\(r)': atom map of pool '\(p)' has \(f) letters, but the pool has \(e) atoms"
        case .duplicateAtomLetter(let r, let c, _):
            return "\(at)reaction '\(r)': atom letter '\(c)' appears twice on one side"
        case .unbalancedAtom(let r, let c, let side, _):
            return "\(at)reaction '\(r)': atom letter '\(c)' appears on the \(side) side only"
        case .elementMismatch(let r, let c, _):
            return "\(at)reaction '\(r)': atom letter '\(c)' is a carbon on one side and a hydrogen on the other"
        case .unknownLeakAtom(let r, let c, _):
            return "\(at)reaction '\(r)': leak atom '\(c)' is not a hydrogen of its products"
        case .unknownReactionInConstraint(let r, let c, _):
            return "\(at)constraint '\(c)' names unknown reaction '\(r)'"
        case .invalidTracer(let e, let p, let why):
            return "tracer experiment '\(e)', input '\(p)': \(why)"
        case .invalidCoefficient(let r, let p, let c, let why, _):
            return "\(at)reaction '\(r)': stoichiometry \(c) of pool '\(p)' \(why)"
        }
    }
}
