/// An immutable, validated metabolic network with atom maps, flux constraints and
/// tracer experiments. Readers (FluxML) produce it; simulators and samplers consume it.
///
/// Conventions:
/// - **Input pools** are never produced by any reaction (e.g. `GLC_IN`); their labeling
///   is set by the tracer experiment. All other pools are **balanced** (S·v = 0).
/// - A reaction is **one-way** (net only, exchange ≡ 0) when it is an efflux (no
///   product), a drain (products without traced atoms, `Reaction.isDrain`) or an uptake
///   (all substrates are input pools); otherwise it is
///   **bidirectional**: forward = xch + max(net, 0), reverse = xch − min(net, 0).
public struct MetabolicNetwork: Sendable {
    public let name: String
    public let pools: [Pool]
    public let reactions: [Reaction]
    public let constraints: [FluxConstraint]
    /// Tracer experiments defined with the network (FluxML `configuration`).
    public private(set) var experiments: [TracerExperiment]

    public let poolIndex: [String: Int]
    public let reactionIndex: [String: Int]
    /// `isInput[p]` for pool index `p`.
    public let isInput: [Bool]
    /// `isBidirectional[r]` for reaction index `r`.
    public let isBidirectional: [Bool]

    public init(name: String, pools: [Pool], reactions: [Reaction],
                constraints: [FluxConstraint] = [], experiments: [TracerExperiment] = []) throws {
        var poolIndex: [String: Int] = [:]
        for (i, p) in pools.enumerated() {
            guard poolIndex[p.id] == nil else { throw NetworkError.duplicatePool(id: p.id, line: p.line) }
            guard p.carbons >= 0, p.hydrogens >= 0, p.atomCount <= 62 else {
                throw NetworkError.invalidAtomCount(pool: p.id, line: p.line)
            }
            poolIndex[p.id] = i
        }
        var reactionIndex: [String: Int] = [:]
        var produced = [Bool](repeating: false, count: pools.count)
        for (i, r) in reactions.enumerated() {
            guard reactionIndex[r.id] == nil else { throw NetworkError.duplicateReaction(id: r.id, line: r.line) }
            reactionIndex[r.id] = i
            try Self.validate(r, pools: pools, poolIndex: poolIndex)
            for pr in r.products { produced[poolIndex[pr.pool]!] = true }
        }
        for c in constraints {
            for t in c.terms where reactionIndex[t.reaction] == nil {
                throw NetworkError.unknownReactionInConstraint(reaction: t.reaction, constraint: c.description, line: c.line)
            }
        }
        let isInput = produced.map { !$0 }
        self.name = name
        self.pools = pools
        self.reactions = reactions
        self.constraints = constraints
        self.poolIndex = poolIndex
        self.reactionIndex = reactionIndex
        self.isInput = isInput
        self.stoichiometry = Self.stoichiometry(pools: pools, reactions: reactions, poolIndex: poolIndex, isInput: isInput)
        self.isBidirectional = reactions.map { r in
            !r.declaredOneWay && !r.isEfflux && !r.substrates.allSatisfy { isInput[poolIndex[$0.pool]!] }
                && !r.isDrain(atomCount: { pools[poolIndex[$0]!].atomCount })
        }
        self.experiments = []
        for e in experiments { try validate(e) }
        self.experiments = experiments
    }

    /// A copy of this network with other tracer experiments (validated).
    public func with(experiments: [TracerExperiment]) throws -> MetabolicNetwork {
        for e in experiments { try validate(e) }
        var copy = self
        copy.experiments = experiments
        return copy
    }

    /// Modelling warnings: an input pool (produced by no reaction, so unlabeled unless a tracer
    /// feeds it) that is a substrate of a bidirectional reaction — the reverse direction would
    /// produce it, which the model ignores. Usually a missing production reaction or a pool
    /// that should have been declared an input.
    public var warnings: [String] {
        var out: [String] = []
        for (p, pool) in pools.enumerated() where isInput[p] {
            for (r, reaction) in reactions.enumerated() where isBidirectional[r] && reaction.substrates.contains(where: { $0.pool == pool.id }) {
                let at = reaction.line.map { " (line \($0))" } ?? ""
                out.append("pool '\(pool.id)' is produced only by the reverse direction of '\(reaction.id)'\(at); it is treated as an input pool (unlabeled unless a tracer feeds it) and that reverse flux leaves its labeling unchanged")
            }
        }
        return out
    }

    /// Input pools (never produced), in pool order.
    public var inputPools: [Pool] { pools.indices.filter { isInput[$0] }.map { pools[$0] } }
    /// Balanced pools (produced by some reaction), in pool order: the rows of `stoichiometry`.
    public var balancedPools: [Pool] { pools.indices.filter { !isInput[$0] }.map { pools[$0] } }

    public func pool(_ id: String) -> Pool? { poolIndex[id].map { pools[$0] } }
    public func reaction(_ id: String) -> Reaction? { reactionIndex[id].map { reactions[$0] } }

    /// Stoichiometric matrix of the balanced pools, `[balancedPools.count][reactions.count]`:
    /// +coefficient per product occurrence, −coefficient per substrate occurrence (1 unless
    /// the network states another, `ReactionParticipant.coefficient`).
    public let stoichiometry: [[Double]]

    private static func stoichiometry(pools: [Pool], reactions: [Reaction], poolIndex: [String: Int],
                                      isInput: [Bool]) -> [[Double]] {
        let rows = pools.indices.filter { !isInput[$0] }
        var rowOf = [Int](repeating: -1, count: pools.count)
        for (k, p) in rows.enumerated() { rowOf[p] = k }
        var s = [[Double]](repeating: [Double](repeating: 0, count: reactions.count), count: rows.count)
        for (j, r) in reactions.enumerated() {
            for sub in r.substrates { let k = rowOf[poolIndex[sub.pool]!]; if k >= 0 { s[k][j] -= sub.coefficient } }
            for pr in r.products { let k = rowOf[poolIndex[pr.pool]!]; if k >= 0 { s[k][j] += pr.coefficient } }
        }
        return s
    }

    /// Checks a tracer experiment against the network: known input pools, pattern
    /// lengths equal to the pool's atom count, fractions in [0, 1] summing to ≤ 1.
    public func validate(_ e: TracerExperiment) throws {
        for input in e.inputs {
            guard let pi = poolIndex[input.pool] else {
                throw NetworkError.invalidTracer(experiment: e.id, pool: input.pool, reason: "unknown pool")
            }
            guard isInput[pi] else {
                throw NetworkError.invalidTracer(experiment: e.id, pool: input.pool,
                                                 reason: "not an input pool (it is produced by a reaction)")
            }
            var total = 0.0
            for c in input.components {
                guard c.pattern.count == pools[pi].atomCount else {
                    throw NetworkError.invalidTracer(
                        experiment: e.id, pool: input.pool,
                        reason: "pattern '\(c.patternString)' has \(c.pattern.count) positions, the pool has \(pools[pi].atomCount) atoms")
                }
                guard c.fraction.isFinite, c.fraction >= 0, c.fraction <= 1 else {
                    throw NetworkError.invalidTracer(experiment: e.id, pool: input.pool,
                                                     reason: "fraction \(c.fraction) is not in [0, 1]")
                }
                guard c.purity.isFinite, c.purity >= 0, c.purity <= 1 else {
                    throw NetworkError.invalidTracer(experiment: e.id, pool: input.pool,
                                                     reason: "purity \(c.purity) is not in [0, 1]")
                }
                total += c.fraction
            }
            guard total <= 1 + 1e-9 else {
                throw NetworkError.invalidTracer(experiment: e.id, pool: input.pool,
                                                 reason: "fractions sum to \(total) > 1")
            }
        }
    }

    private static func validate(_ r: Reaction, pools: [Pool], poolIndex: [String: Int]) throws {
        guard !r.substrates.isEmpty else { throw NetworkError.reactionWithoutSubstrate(reaction: r.id, line: r.line) }
        // letter -> element on each side
        func side(_ parts: [ReactionParticipant]) throws -> [Character: Element] {
            var seen: [Character: Element] = [:]
            for part in parts {
                guard let pi = poolIndex[part.pool] else {
                    throw NetworkError.unknownPool(pool: part.pool, reaction: r.id, line: part.line ?? r.line)
                }
                let pool = pools[pi]
                guard part.atomMap.count == pool.atomCount else {
                    throw NetworkError.atomMapLength(reaction: r.id, pool: part.pool, expected: pool.atomCount,
                                                     found: part.atomMap.count, line: part.line ?? r.line)
                }
                for (pos, ch) in part.atomMap.enumerated() {
                    guard seen[ch] == nil else {
                        throw NetworkError.duplicateAtomLetter(reaction: r.id, letter: ch, line: part.line ?? r.line)
                    }
                    seen[ch] = pool.element(at: pos)
                }
            }
            return seen
        }
        let lhs = try side(r.substrates)
        let rhs = try side(r.products)
        // Coefficients: positive; other than 1 only where no traced atom goes through the participant.
        let drain = r.isDrain(atomCount: { pools[poolIndex[$0]!].atomCount })
        for (part, isProduct) in r.substrates.map({ ($0, false) }) + r.products.map({ ($0, true) }) {
            let c = part.coefficient, atoms = pools[poolIndex[part.pool]!].atomCount
            func fail(_ why: String) -> NetworkError {
                .invalidCoefficient(reaction: r.id, pool: part.pool, coefficient: c, reason: why, line: part.line ?? r.line)
            }
            guard c.isFinite, c > 0 else { throw fail("must be a positive number") }
            guard c == 1 || atoms == 0 || (!isProduct && (drain || r.isEfflux)) else {
                throw fail(isProduct
                    ? "would need fractional or multiple copies of its \(atoms) traced atoms; a product with traced atoms has stoichiometry 1 (write it twice for 2)"
                    : "is not 1, but its \(atoms) traced atoms go to products; only a drain (no product with traced atoms) or an efflux may consume a traced pool with another coefficient")
            }
        }
        if !r.isEfflux && !drain {
            for (ch, el) in lhs.sorted(by: { $0.key < $1.key }) {
                guard let other = rhs[ch] else {
                    throw NetworkError.unbalancedAtom(reaction: r.id, letter: ch, side: "substrate", line: r.line)
                }
                guard other == el else { throw NetworkError.elementMismatch(reaction: r.id, letter: ch, line: r.line) }
            }
            for ch in rhs.keys.sorted() where lhs[ch] == nil {
                throw NetworkError.unbalancedAtom(reaction: r.id, letter: ch, side: "product", line: r.line)
            }
        }
        for ch in r.leakAtoms.sorted() where rhs[ch] != .hydrogen && lhs[ch] != .hydrogen {
            throw NetworkError.unknownLeakAtom(reaction: r.id, letter: ch, line: r.line)
        }
    }
}
