import MLFluxCore

/// The paper's toy network (Antoniewicz et al. 2007 / ML-Flux Fig. 1c) built in code,
/// independent of any file reader: A→B, B↔D, B→C+E, B+C→D+E+E, D→F, E→, F→.
public func toyNetwork(experiments: [TracerExperiment] = []) throws -> MetabolicNetwork {
    func p(_ id: String, _ n: Int) -> Pool { Pool(id: id, carbons: n) }
    func s(_ pool: String, _ map: String) -> ReactionParticipant { ReactionParticipant(pool: pool, atomMap: map) }
    return try MetabolicNetwork(
        name: "toy",
        pools: [p("molA", 3), p("molB", 3), p("molC", 2), p("molD", 3), p("molE", 1), p("molF", 3)],
        reactions: [
            Reaction(id: "v1", substrates: [s("molA", "abc")], products: [s("molB", "abc")]),
            Reaction(id: "v2", substrates: [s("molB", "abc")], products: [s("molD", "abc")]),
            Reaction(id: "v3", substrates: [s("molB", "abc")], products: [s("molC", "bc"), s("molE", "a")]),
            Reaction(id: "v4", substrates: [s("molB", "abc"), s("molC", "AB")],
                     products: [s("molD", "bcA"), s("molE", "a"), s("molE", "B")]),
            Reaction(id: "v5", substrates: [s("molD", "abc")], products: [s("molF", "abc")]),
            Reaction(id: "EX_molE", substrates: [s("molE", "a")], products: []),
            Reaction(id: "EX_molF", substrates: [s("molF", "abc")], products: []),
        ],
        constraints: [
            FluxConstraint(kind: .net, reaction: "v1", .equal, 1),
            FluxConstraint(kind: .exchange, reaction: "v3", .equal, 0),
            FluxConstraint(kind: .exchange, reaction: "v4", .equal, 0),
            FluxConstraint(kind: .exchange, reaction: "v5", .equal, 0),
            FluxConstraint(kind: .exchange, reaction: "v2", .lessOrEqual, 100),
        ],
        experiments: experiments)
}
