/// The free fluxes of a network and the kernels that expand them into full flux vectors.
///
/// Net fluxes at metabolic steady state lie in the null space of the stoichiometric
/// matrix `S` of the balanced pools, further cut down by the network's *homogeneous*
/// net equalities (constant 0, e.g. `IN_OAA = 0`). The reduced row echelon form (RREF)
/// of `[S; H_net]` splits the reactions into pivot (dependent) and free columns; the
/// kernel `K_net` (`[reactionCount × freeNet.count]`, identity on the free rows) gives
/// `net = K_net · θ_net`. Exchange fluxes are handled the same way with no `S` rows:
/// one-way reactions (uptakes, effluxes) and homogeneous exchange equalities remove
/// exchange fluxes, the rest are free: `xch = K_xch · θ_xch`.
///
/// The free vector is `θ = [θ_net..., θ_xch...]`. Equalities with a nonzero constant
/// (`v1 = 1`) are expressed on θ: one that reduces to a single free flux is a `fixed`
/// entry, one that involves several free fluxes is kept as an equality in
/// `freeConstraints`, together with every inequality of the network and the implicit
/// ones (one-way net ≥ 0, exchange ≥ 0).
///
/// Which reactions become free: the RREF makes earlier columns pivots, so the columns are
/// ordered with the most wanted free fluxes last. From most to least wanted: reactions
/// named in `preferFree` (first named most wanted), reactions fixed by a single-reaction
/// equality with a nonzero constant, reactions bounded by a single-reaction inequality,
/// bidirectional reactions whose exchange is fixed to 0, other bidirectional reactions,
/// one-way reactions; ties go to the reaction that comes first in the network. For the
/// toy network this gives the paper's choice: net v1 (fixed to 1) and v3, exchange v2.
///
/// - Complexity: O(m · n · min(m, n)) for `m` balanced pools plus constraints and `n`
///   reactions; `fluxState(free:)` is O(n · count).
public struct FreeFluxBasis: Sendable {
    public let reactionCount: Int
    public let reactionIDs: [String]
    /// Reaction indices whose net flux is a free parameter (in free-vector order: ascending).
    public let freeNet: [Int]
    /// Reaction indices whose exchange flux is a free parameter (ascending).
    public let freeExchange: [Int]
    /// Row-major `[reactionCount × freeNet.count]`: net = netKernel · θ_net.
    public let netKernel: [Double]
    /// Row-major `[reactionCount × freeExchange.count]`: xch = exchangeKernel · θ_xch.
    public let exchangeKernel: [Double]
    /// Free fluxes fixed by equality constraints with a nonzero constant: index into the
    /// free vector θ = [θ_net..., θ_xch...] → value (e.g. toy v1 = 1).
    public let fixed: [Int: Double]
    /// Constraints on θ that are not simple fixes: the network's inequalities, its equalities
    /// involving several free fluxes, and the implicit inequalities (one-way net ≥ 0,
    /// exchange ≥ 0; `isImplicit == true`), each as a row `g·θ (relation) h`.
    public let freeConstraints: [FreeFluxConstraint]

    /// Number of free fluxes: `freeNet.count + freeExchange.count`.
    public var count: Int { freeNet.count + freeExchange.count }

    /// Names of the free fluxes in θ order: `"v1.net"`, `"v3.net"`, `"v2.xch"`, …
    public var names: [String] {
        freeNet.map { reactionIDs[$0] + ".net" } + freeExchange.map { reactionIDs[$0] + ".xch" }
    }

    /// The default free-flux choice (see the type's documentation).
    public init(network: MetabolicNetwork) throws {
        try self.init(network: network, preferFree: [])
    }

    /// A free-flux choice that takes the fluxes in `preferFree` as free where the mass
    /// balances and constraints allow it (a bundle's recorded choice, say).
    /// - Parameter preferFree: reaction ids (`"v3"`: net and exchange), or `"v3.net"` /
    ///   `"v3.xch"` for one of them; earlier entries are preferred.
    /// - Throws: `FreeFluxError` for an unknown reaction, inconsistent equalities, an
    ///   equality or inequality that the mass balances make impossible, or an exchange
    ///   equality on a one-way reaction.
    public init(network: MetabolicNetwork, preferFree: [String]) throws {
        let n = network.reactions.count
        reactionCount = n
        reactionIDs = network.reactions.map(\.id)

        // Preferences: reaction index -> rank (0 = most preferred).
        var preferNet: [Int: Int] = [:], preferXch: [Int: Int] = [:]
        for (rank, name) in preferFree.enumerated() {
            var id = Substring(name), kinds: [FluxKind] = [.net, .exchange]
            if name.hasSuffix(".net") { id = id.dropLast(4); kinds = [.net] }
            else if name.hasSuffix(".xch") { id = id.dropLast(4); kinds = [.exchange] }
            guard let j = network.reactionIndex[String(id)] else {
                throw FreeFluxError.unknownReaction(reaction: String(id), constraint: "preferred free flux '\(name)'")
            }
            if kinds.contains(.net), preferNet[j] == nil { preferNet[j] = rank }
            if kinds.contains(.exchange), preferXch[j] == nil { preferXch[j] = rank }
        }

        let parsed = try network.constraints.map { try DenseConstraint($0, network: network) }
        let oneWay = network.isBidirectional.map { !$0 }

        // Exchange equalities on one-way reactions cannot carry a nonzero constant.
        for d in parsed where d.source.kind == .exchange && d.source.relation == .equal && d.source.constant != 0 {
            if !d.support.isEmpty && d.support.allSatisfy({ oneWay[$0] }) {
                throw FreeFluxError.exchangeOfOneWay(constraint: d.source.description,
                                                     reaction: network.reactions[d.support[0]].id)
            }
        }

        // ---- net fluxes
        let net = try Self.solveSide(
            kind: .net, n: n, parsed: parsed.filter { $0.source.kind == .net },
            baseRows: network.stoichiometry, prefer: preferNet,
            basePriority: { j in
                if oneWay[j] { return 0 }
                let xchZero = parsed.contains {
                    $0.source.kind == .exchange && $0.source.relation == .equal && $0.source.constant == 0
                        && $0.support == [j]
                }
                return xchZero ? 2 : 1
            })
        // ---- exchange fluxes: one-way reactions have none
        let xchRows = (0..<n).filter { oneWay[$0] }.map { j -> [Double] in
            var r = [Double](repeating: 0, count: n); r[j] = 1; return r
        }
        let xch = try Self.solveSide(
            kind: .exchange, n: n, parsed: parsed.filter { $0.source.kind == .exchange },
            baseRows: xchRows, prefer: preferXch, basePriority: { oneWay[$0] ? 0 : 1 })

        freeNet = net.free
        freeExchange = xch.free
        netKernel = net.kernel
        exchangeKernel = xch.kernel

        // ---- constraints on θ
        let nf = net.free.count, total = nf + xch.free.count
        var fixed: [Int: Double] = [:]
        var rows: [FreeFluxConstraint] = []
        for (side, offset) in [(net, 0), (xch, nf)] {
            for (k, v) in side.fixed where fixed[k + offset] == nil { fixed[k + offset] = v }
            for r in side.constraints {
                var g = [Double](repeating: 0, count: total)
                for (k, x) in r.coefficients.enumerated() { g[k + offset] = x }
                rows.append(FreeFluxConstraint(coefficients: g, relation: r.relation, constant: r.constant,
                                               origin: r.origin, isImplicit: false))
            }
        }
        // Implicit: one-way net ≥ 0, exchange ≥ 0.
        for j in 0..<n {
            if oneWay[j] {
                var g = [Double](repeating: 0, count: total)
                for k in 0..<nf { g[k] = net.kernel[j * nf + k] }
                if g.contains(where: { $0 != 0 }) {
                    rows.append(FreeFluxConstraint(
                        coefficients: g, relation: .greaterOrEqual, constant: 0,
                        origin: "net: \(reactionIDs[j])>=0 (one-way reaction)", isImplicit: true))
                }
            } else {
                let xf = xch.free.count
                var g = [Double](repeating: 0, count: total)
                for k in 0..<xf { g[nf + k] = xch.kernel[j * xf + k] }
                if g.contains(where: { $0 != 0 }) {
                    rows.append(FreeFluxConstraint(
                        coefficients: g, relation: .greaterOrEqual, constant: 0,
                        origin: "xch: \(reactionIDs[j])>=0 (exchange flux)", isImplicit: true))
                }
            }
        }
        self.fixed = fixed
        self.freeConstraints = rows
    }

    /// Full fluxes from θ (`θ.count == count`): net = K_net θ_net, xch = K_xch θ_xch.
    /// - Complexity: O(reactionCount · count).
    public func fluxState(free θ: [Double]) -> FluxState {
        precondition(θ.count == count, "free flux vector has \(θ.count) entries, the basis has \(count)")
        let nf = freeNet.count, xf = freeExchange.count
        var net = [Double](repeating: 0, count: reactionCount)
        var xch = net
        for j in 0..<reactionCount {
            var s = 0.0
            for k in 0..<nf { s += netKernel[j * nf + k] * θ[k] }
            net[j] = s
            var t = 0.0
            for k in 0..<xf { t += exchangeKernel[j * xf + k] * θ[nf + k] }
            xch[j] = t
        }
        return FluxState(net: net, exchange: xch)
    }

    /// θ read off a full state (its free entries); meaningful for states that satisfy the
    /// equalities (then `fluxState(free: freeFluxes(of: s)) == s`).
    public func freeFluxes(of state: FluxState) -> [Double] {
        freeNet.map { state.net[$0] } + freeExchange.map { state.exchange[$0] }
    }

    /// Every constraint of the network (and the implicit ones: one-way net ≥ 0, exchange
    /// ≥ 0, no exchange on one-way reactions) that `state` violates by more than `tolerance`
    /// (relative to max(1, |constant|)), plus each balanced pool with |S·v| > `tolerance`.
    /// Empty means feasible.
    public func violations(of state: FluxState, in network: MetabolicNetwork, tolerance: Double = 1e-9) -> [String] {
        let n = network.reactions.count
        guard state.net.count == n, state.exchange.count == n else {
            return ["flux state has \(state.net.count) net and \(state.exchange.count) exchange fluxes, "
                    + "network '\(network.name)' has \(n) reactions"]
        }
        var out: [String] = []
        for j in 0..<n {
            let id = network.reactions[j].id
            if !state.net[j].isFinite { out.append("reaction '\(id)': net flux is not a finite number") }
            if !state.exchange[j].isFinite { out.append("reaction '\(id)': exchange flux is not a finite number") }
        }
        let pools = network.balancedPools
        for (k, r) in state.balanceResidual(in: network).enumerated() where !(abs(r) <= tolerance) {
            out.append("pool '\(pools[k].id)' is not balanced: production − consumption = \(r)")
        }
        for c in network.constraints {
            let v = c.kind == .net ? state.net : state.exchange
            var unknown: String?
            let lhs = c.lhs { id in
                guard let j = network.reactionIndex[id] else { unknown = id; return .nan }
                return v[j]
            }
            if let u = unknown {
                out.append("constraint '\(c)' names unknown reaction '\(u)'")
            } else if !c.isSatisfied(lhs: lhs, tolerance: tolerance) {
                let at = c.line.map { " (line \($0))" } ?? ""
                out.append("constraint '\(c)'\(at) is violated: left-hand side is \(lhs)")
            }
        }
        for j in 0..<n {
            let id = network.reactions[j].id
            if network.isBidirectional[j] {
                if state.exchange[j] < -tolerance {
                    out.append("reaction '\(id)': exchange flux \(state.exchange[j]) is negative")
                }
            } else {
                if state.net[j] < -tolerance {
                    out.append("reaction '\(id)' is one-way (uptake, efflux or declared irreversible) but its net flux \(state.net[j]) is negative")
                }
                if abs(state.exchange[j]) > tolerance {
                    out.append("reaction '\(id)' is one-way (uptake, efflux or declared irreversible) but has exchange flux \(state.exchange[j])")
                }
            }
        }
        return out
    }
}

/// A linear constraint on the free-flux vector θ = [θ_net..., θ_xch...] of a
/// `FreeFluxBasis`: `Σ coefficients[k]·θ[k]  relation  constant`.
public struct FreeFluxConstraint: Hashable, Sendable, CustomStringConvertible {
    /// One coefficient per free flux (`coefficients.count == basis.count`).
    public var coefficients: [Double]
    public var relation: FluxConstraint.Relation
    public var constant: Double
    /// The network constraint it comes from (`"net: PGI<=1.1"`), or the implicit rule
    /// (`"net: EX_molE>=0 (one-way reaction)"`).
    public var origin: String
    /// `true` for the implicit constraints (one-way net ≥ 0, exchange ≥ 0).
    public var isImplicit: Bool

    public init(coefficients: [Double], relation: FluxConstraint.Relation, constant: Double,
                origin: String, isImplicit: Bool = false) {
        self.coefficients = coefficients
        self.relation = relation
        self.constant = constant
        self.origin = origin
        self.isImplicit = isImplicit
    }

    /// `Σ coefficients[k]·θ[k]`.
    public func lhs(_ θ: [Double]) -> Double {
        precondition(θ.count == coefficients.count, "free flux vector length mismatch")
        return zip(coefficients, θ).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Whether θ satisfies the constraint within `tolerance` (relative to max(1, |constant|)).
    public func isSatisfied(by θ: [Double], tolerance: Double = 1e-9) -> Bool {
        let l = lhs(θ), slack = tolerance * max(1, abs(constant))
        switch relation {
        case .equal: return abs(l - constant) <= slack
        case .lessOrEqual: return l <= constant + slack
        case .greaterOrEqual: return l >= constant - slack
        }
    }

    public var description: String {
        let terms = coefficients.enumerated().filter { $0.element != 0 }.map { "\($0.element)·θ[\($0.offset)]" }
        return "\(terms.isEmpty ? "0" : terms.joined(separator: " + ")) \(relation.rawValue) \(constant)  [\(origin)]"
    }
}

/// A set of flux constraints that cannot define a free-flux basis.
public enum FreeFluxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Equalities (of one kind) that contradict each other, given the mass balances.
    case inconsistentEqualities(kind: FluxKind, constraints: [String])
    /// An equality with a nonzero constant on a flux combination that the mass balances
    /// and the zero equalities force to 0.
    case forcedToZero(kind: FluxKind, constraint: String)
    /// An inequality that the mass balances and the equalities make impossible.
    case unsatisfiableInequality(kind: FluxKind, constraint: String)
    /// An exchange equality with a nonzero constant on one-way reactions only.
    case exchangeOfOneWay(constraint: String, reaction: String)
    /// A constraint (or preferred free flux) naming a reaction the network lacks.
    case unknownReaction(reaction: String, constraint: String)
    /// A constraint with a coefficient or constant that is not a finite number.
    case notFinite(constraint: String)

    public var description: String {
        switch self {
        case .inconsistentEqualities(let k, let cs):
            let list = cs.map { "'\($0)'" }.joined(separator: ", ")
            return "the \(k == .net ? "net" : "exchange") flux equalities \(list) contradict each other"
                + (k == .net ? " (given the mass balances of the balanced pools)" : "")
                + ": no flux state satisfies them all; correct or remove one of them"
        case .forcedToZero(let k, let c):
            return "the equality '\(c)' cannot hold: "
                + (k == .net
                    ? "the mass balances (and the zero constraints) force this net flux to 0 — check that the reaction's substrates are produced and its products consumed, or remove the constraint"
                    : "the zero exchange constraints force this exchange flux to 0; remove one of them")
        case .unsatisfiableInequality(let k, let c):
            return "the inequality '\(c)' cannot hold: the "
                + (k == .net ? "mass balances and equalities" : "exchange equalities")
                + " force its left-hand side to 0; correct or remove it"
        case .exchangeOfOneWay(let c, let r):
            return "the exchange equality '\(c)' names reaction '\(r)', which is one-way (an uptake or efflux) and has no exchange flux; constrain its net flux instead"
        case .unknownReaction(let r, let c):
            return "\(c) names unknown reaction '\(r)'"
        case .notFinite(let c):
            return "constraint '\(c)' has a coefficient or constant that is not a finite number"
        }
    }
}

// MARK: - Construction helpers

/// A network constraint with its coefficients as a dense vector over reactions.
private struct DenseConstraint {
    let source: FluxConstraint
    let coefficients: [Double]
    /// Reactions with a nonzero coefficient, ascending.
    let support: [Int]

    init(_ c: FluxConstraint, network: MetabolicNetwork) throws {
        var a = [Double](repeating: 0, count: network.reactions.count)
        guard c.constant.isFinite else { throw FreeFluxError.notFinite(constraint: c.description) }
        for t in c.terms {
            guard let j = network.reactionIndex[t.reaction] else {
                throw FreeFluxError.unknownReaction(reaction: t.reaction, constraint: "constraint '\(c)'")
            }
            guard t.coefficient.isFinite else { throw FreeFluxError.notFinite(constraint: c.description) }
            a[j] += t.coefficient
        }
        source = c
        coefficients = a
        support = a.indices.filter { a[$0] != 0 }
    }
}

/// A constraint projected on the free fluxes of one side (net or exchange).
private struct SideConstraint {
    let coefficients: [Double]
    let relation: FluxConstraint.Relation
    let constant: Double
    let origin: String
}

/// The result for one side: free reactions (ascending), kernel, fixes and constraints on θ_side.
private struct SideSolution {
    let free: [Int]
    let kernel: [Double]
    let fixed: [Int: Double]
    let constraints: [SideConstraint]
}

extension FreeFluxBasis {
    /// Free fluxes, kernel and projected constraints for one flux kind.
    /// `baseRows` are homogeneous rows that always hold (S for net, one-way rows for exchange).
    fileprivate static func solveSide(
        kind: FluxKind, n: Int, parsed: [DenseConstraint], baseRows: [[Double]],
        prefer: [Int: Int], basePriority: (Int) -> Int
    ) throws -> SideSolution {
        let equalities = parsed.filter { $0.source.relation == .equal }
        let homogeneous = equalities.filter { $0.source.constant == 0 }
        let inhomogeneous = equalities.filter { $0.source.constant != 0 }
        let inequalities = parsed.filter { $0.source.relation != .equal }

        // Column order: most wanted free fluxes last.
        var fixedSingle = Set<Int>(), boundedSingle = Set<Int>()
        for d in inhomogeneous where d.support.count == 1 { fixedSingle.insert(d.support[0]) }
        for d in inequalities where d.support.count == 1 { boundedSingle.insert(d.support[0]) }
        func priority(_ j: Int) -> Int {
            if let r = prefer[j] { return 1_000_000 - r }
            if fixedSingle.contains(j) { return 4 }
            if boundedSingle.contains(j) { return 3 }
            return basePriority(j)
        }
        let prio = (0..<n).map(priority)
        let order = (0..<n).sorted { prio[$0] != prio[$1] ? prio[$0] < prio[$1] : $0 > $1 }

        // RREF of [baseRows; homogeneous] with permuted columns.
        let allRows = baseRows + homogeneous.map(\.coefficients)
        var m = [Double](repeating: 0, count: allRows.count * n)
        for (i, row) in allRows.enumerated() { for (c, j) in order.enumerated() { m[i * n + c] = row[j] } }
        let rref = RowEchelonForm(matrix: m, rows: allRows.count, width: n, pivotable: n)
        let basis = rref.nullSpace()  // in permuted column space, one per free column
        let freeCols = rref.freeColumns
        // Free reactions ascending, with their null vectors.
        let pairs = zip(freeCols.map { order[$0] }, basis).sorted { $0.0 < $1.0 }
        let free = pairs.map(\.0)
        let nf = free.count
        var kernel = [Double](repeating: 0, count: n * nf)
        for (k, (_, x)) in pairs.enumerated() { for (c, j) in order.enumerated() { kernel[j * nf + k] = x[c] } }

        // Project a dense constraint on θ_side.
        func project(_ d: DenseConstraint) -> [Double] {
            var p = [Double](repeating: 0, count: nf)
            for j in d.support { for k in 0..<nf { p[k] += d.coefficients[j] * kernel[j * nf + k] } }
            let scale = p.reduce(0) { max($0, abs($1)) }
            let c = d.coefficients.reduce(0) { max($0, abs($1)) }
            return p.map { abs($0) <= 1e-12 * max(scale, c) ? 0 : $0 }
        }

        // Consistency of the inhomogeneous equalities on θ: RREF of [P | b | I].
        let q = inhomogeneous.count
        let projected = inhomogeneous.map(project)
        if q > 0 {
            let w = nf + 1 + q
            var a = [Double](repeating: 0, count: q * w)
            for i in 0..<q {
                for k in 0..<nf { a[i * w + k] = projected[i][k] }
                a[i * w + nf] = inhomogeneous[i].source.constant
                a[i * w + nf + 1 + i] = 1
            }
            let e = RowEchelonForm(matrix: a, rows: q, width: w, pivotable: nf)
            let bScale = max(1, inhomogeneous.reduce(0) { max($0, abs($1.source.constant)) })
            for i in e.rank..<q where abs(e[i, nf]) > 1e-9 * bScale {
                let weights = (0..<q).map { abs(e[i, nf + 1 + $0]) }
                let wMax = weights.max() ?? 0
                let involved = (0..<q).filter { weights[$0] > 1e-9 * wMax }.map { inhomogeneous[$0].source.description }
                if involved.count == 1 { throw FreeFluxError.forcedToZero(kind: kind, constraint: involved[0]) }
                throw FreeFluxError.inconsistentEqualities(kind: kind, constraints: involved)
            }
        }

        var fixed: [Int: Double] = [:]
        var constraints: [SideConstraint] = []
        for (d, p) in zip(inhomogeneous, projected) {
            let nz = p.indices.filter { p[$0] != 0 }
            if nz.count == 1 {
                let k = nz[0]
                if fixed[k] == nil { fixed[k] = d.source.constant / p[k] }
            } else {
                constraints.append(SideConstraint(coefficients: p, relation: .equal,
                                                  constant: d.source.constant, origin: d.source.description))
            }
        }
        for d in inequalities {
            let p = project(d)
            if p.allSatisfy({ $0 == 0 }) {
                guard d.source.isSatisfied(lhs: 0) else {
                    throw FreeFluxError.unsatisfiableInequality(kind: kind, constraint: d.source.description)
                }
                continue  // trivially true: 0 (rel) constant
            }
            constraints.append(SideConstraint(coefficients: p, relation: d.source.relation,
                                              constant: d.source.constant, origin: d.source.description))
        }
        return SideSolution(free: free, kernel: kernel, fixed: fixed, constraints: constraints)
    }
}
