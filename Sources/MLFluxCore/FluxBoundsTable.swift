/// Reads flux bounds from a CSV or TSV table beside a network, like the constraint sheets
/// of the original ML-Flux (columns found by name, in any order):
///
///     reaction,kind,lower,upper
///     GLC_IN,net,1,1
///     PGI,net,-2,5
///     PGI,xch,0,20
///     LDH,xch,,10
///
/// `kind` is `net` or `xch` (exchange; alias `exchange`); an empty `lower` or `upper` leaves
/// that side open; `lower == upper` fixes the flux (an equality). Bounds are in the
/// network's flux unit. Each row becomes up to two single-reaction `FluxConstraint`s whose
/// `line` is the row's line; `MetabolicNetwork.applyingBounds(_:)` puts them in place of the
/// network's own bounds on that flux.
public enum FluxBoundsTable {
    /// The column list shown in messages.
    public static let columns = "reaction,kind,lower,upper"

    /// - Throws: `LabelingTableError` naming the file and line; `InputFileError` for a file that
    ///   is not a regular text file.
    public static func read(contentsOf path: String) throws -> [FluxConstraint] {
        try bounds(ColumnTable.read(contentsOf: path, expected: columns, what: "flux bounds table"))
    }

    public static func parse(_ text: String, file: String) throws -> [FluxConstraint] {
        try bounds(ColumnTable.parse(text, file: file, expected: columns))
    }

    static func bounds(_ table: ColumnTable) throws -> [FluxConstraint] {
        let reactionColumn = try table.column(["reaction", "flux"])!
        let kindColumn = try table.column(["kind"])!
        let lowerColumn = try table.column(["lower", "lb", "min"])!
        let upperColumn = try table.column(["upper", "ub", "max"])!
        var out: [FluxConstraint] = []
        var firstLine: [String: Int] = [:]
        for row in table.rows {
            let f = row.fields, line = row.line
            let reaction = f[reactionColumn]
            guard !reaction.isEmpty else { throw table.error(line, "empty reaction id") }
            let kind: FluxKind
            switch f[kindColumn].lowercased() {
            case "net": kind = .net
            case "xch", "exchange": kind = .exchange
            default: throw table.error(line, "kind '\(f[kindColumn])' of '\(reaction)' must be net or xch")
            }
            func bound(_ column: Int, _ side: String) throws -> Double? {
                let text = f[column]
                if text.isEmpty { return nil }
                guard let v = Double(text), v.isFinite else {
                    throw table.error(line, "\(side) '\(text)' of '\(reaction)' is not a finite number (leave it empty for no bound)")
                }
                return v
            }
            let lower = try bound(lowerColumn, "lower"), upper = try bound(upperColumn, "upper")
            guard lower != nil || upper != nil else {
                throw table.error(line, "'\(reaction)' (\(kind.rawValue)) has neither a lower nor an upper bound")
            }
            if let lower, let upper, lower > upper {
                throw table.error(line, "lower \(lower) of '\(reaction)' (\(kind.rawValue)) exceeds its upper \(upper)")
            }
            if kind == .exchange, let upper, upper < 0 {
                throw table.error(line, "upper \(upper) of '\(reaction)' (xch) is negative; exchange fluxes are ≥ 0")
            }
            let key = "\(reaction).\(kind.rawValue)"
            if let first = firstLine[key] {
                throw table.error(line, "bounds of '\(reaction)' (\(kind.rawValue)) given twice (first on line \(first))")
            }
            firstLine[key] = line
            if let lower, let upper, lower == upper {
                out.append(FluxConstraint(kind: kind, reaction: reaction, .equal, lower, line: line))
                continue
            }
            if let lower { out.append(FluxConstraint(kind: kind, reaction: reaction, .greaterOrEqual, lower, line: line)) }
            if let upper { out.append(FluxConstraint(kind: kind, reaction: reaction, .lessOrEqual, upper, line: line)) }
        }
        guard !out.isEmpty else { throw table.error(nil, "no bound (the table has a header only)") }
        return out
    }
}

extension MetabolicNetwork {
    /// This network with `bounds` (single-reaction constraints, e.g. from `FluxBoundsTable`) in
    /// place of its own bounds on the same fluxes: every constraint of the network that names
    /// only one reaction, of the same kind as some bound on that reaction, is dropped; all other
    /// constraints (sums, differences, bounds on other fluxes) stay.
    /// - Throws: `NetworkError.unknownReactionInConstraint` for a bound on an unknown reaction.
    public func applyingBounds(_ bounds: [FluxConstraint]) throws -> MetabolicNetwork {
        let replaced = Set(bounds.flatMap { b in b.terms.map { "\($0.reaction).\(b.kind.rawValue)" } })
        let kept = constraints.filter { c in
            !(c.terms.count == 1 && replaced.contains("\(c.terms[0].reaction).\(c.kind.rawValue)"))
        }
        return try MetabolicNetwork(name: name, pools: pools, reactions: reactions,
                                    constraints: kept + bounds, experiments: experiments)
    }
}
