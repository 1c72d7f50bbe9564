/// Which flux vector a constraint applies to.
public enum FluxKind: String, Sendable, Hashable, CaseIterable {
    /// Net flux: forward − reverse.
    case net
    /// Exchange flux: min(forward, reverse).
    case exchange = "xch"
}

/// A linear equality or inequality on net or exchange fluxes:
/// `Σ coefficient·v[reaction]  relation  constant`.
///
/// FluxML `constraints/net|xch/textual` statements such as `v1=1;`,
/// `PGI<=1.1;`, `0.9<=GLC_IN;` or `v2-v3>=0;` parse into this form.
public struct FluxConstraint: Hashable, Sendable, CustomStringConvertible {
    public enum Relation: String, Sendable, Hashable {
        case equal = "="
        case lessOrEqual = "<="
        case greaterOrEqual = ">="
    }

    public struct Term: Hashable, Sendable {
        public var reaction: String
        public var coefficient: Double
        public init(reaction: String, coefficient: Double) {
            self.reaction = reaction
            self.coefficient = coefficient
        }
    }

    public var kind: FluxKind
    public var terms: [Term]
    public var relation: Relation
    public var constant: Double
    public var line: Int?

    public init(kind: FluxKind, terms: [Term], relation: Relation, constant: Double, line: Int? = nil) {
        self.kind = kind
        self.terms = terms
        self.relation = relation
        self.constant = constant
        self.line = line
    }

    /// Convenience: `reaction relation constant` with coefficient 1.
    public init(kind: FluxKind, reaction: String, _ relation: Relation, _ constant: Double, line: Int? = nil) {
        self.init(kind: kind, terms: [Term(reaction: reaction, coefficient: 1)], relation: relation,
                  constant: constant, line: line)
    }

    public var description: String {
        var lhs = ""
        for (i, t) in terms.enumerated() {
            let sign = t.coefficient < 0 ? "-" : (i == 0 ? "" : "+")
            let mag = abs(t.coefficient)
            lhs += sign + (mag == 1 ? "" : "\(mag)*") + t.reaction
        }
        return "\(kind.rawValue): \(lhs)\(relation.rawValue)\(constant)"
    }

    /// Value of the left-hand side for a flux lookup.
    public func lhs(_ value: (String) -> Double) -> Double {
        terms.reduce(0) { $0 + $1.coefficient * value($1.reaction) }
    }

    /// Whether the constraint holds for the given left-hand side value within `tolerance`.
    public func isSatisfied(lhs: Double, tolerance: Double = 1e-9) -> Bool {
        switch relation {
        case .equal: return abs(lhs - constant) <= tolerance * max(1, abs(constant))
        case .lessOrEqual: return lhs <= constant + tolerance * max(1, abs(constant))
        case .greaterOrEqual: return lhs >= constant - tolerance * max(1, abs(constant))
        }
    }
}
