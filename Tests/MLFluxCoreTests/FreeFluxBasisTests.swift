import MLFluxCore
import Testing
import TestSupport

// MARK: - Helpers

/// max_i |(S·K)_{i,k}| over all kernel columns.
func maxAbsSK(_ basis: FreeFluxBasis, _ network: MetabolicNetwork) -> Double {
    let s = network.stoichiometry
    let nf = basis.freeNet.count
    var worst = 0.0
    for row in s {
        for k in 0..<nf {
            var acc = 0.0
            for j in 0..<basis.reactionCount { acc += row[j] * basis.netKernel[j * nf + k] }
            worst = max(worst, abs(acc))
        }
    }
    return worst
}

func expectClose(_ a: [Double], _ b: [Double], tolerance: Double = 1e-12,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "length \(a.count) vs \(b.count)", sourceLocation: sourceLocation)
    for (i, (x, y)) in zip(a, b).enumerated() {
        #expect(abs(x - y) <= tolerance, "entry \(i): \(x) vs \(y)", sourceLocation: sourceLocation)
    }
}

func toy(extra: [FluxConstraint]) throws -> MetabolicNetwork {
    let t = try toyNetwork()
    return try MetabolicNetwork(name: t.name, pools: t.pools, reactions: t.reactions,
                                constraints: t.constraints + extra)
}

func term(_ r: String, _ c: Double = 1) -> FluxConstraint.Term { .init(reaction: r, coefficient: c) }

/// Cycle network: A (input) → B, B → C → D → B (cycle), D → ; with `r2 = 2·up` (homogeneous).
func cycleNetwork(constraints: [FluxConstraint]) throws -> MetabolicNetwork {
    func s(_ pool: String, _ map: String) -> ReactionParticipant { ReactionParticipant(pool: pool, atomMap: map) }
    return try MetabolicNetwork(
        name: "cycle",
        pools: ["A", "B", "C", "D"].map { Pool(id: $0, carbons: 2) },
        reactions: [
            Reaction(id: "up", substrates: [s("A", "ab")], products: [s("B", "ab")]),
            Reaction(id: "r1", substrates: [s("B", "ab")], products: [s("C", "ba")]),
            Reaction(id: "r2", substrates: [s("C", "ab")], products: [s("D", "ab")]),
            Reaction(id: "r3", substrates: [s("D", "ab")], products: [s("B", "ab")]),
            Reaction(id: "ex", substrates: [s("D", "ab")], products: []),
        ],
        constraints: constraints)
}

// MARK: - Toy network

@Suite("FreeFluxBasis on the toy network")
struct ToyFreeFluxTests {
    let network: MetabolicNetwork
    let basis: FreeFluxBasis
    init() throws {
        network = try toyNetwork()
        basis = try FreeFluxBasis(network: network)
    }

    @Test func choosesThePapersFreeFluxes() {
        #expect(basis.reactionCount == 7)
        #expect(basis.freeNet == [0, 2])  // v1, v3
        #expect(basis.freeExchange == [1])  // v2
        #expect(basis.fixed == [0: 1])
        #expect(basis.count == 3)
        #expect(basis.names == ["v1.net", "v3.net", "v2.xch"])
    }

    @Test func kernelIsANullSpaceBasisWithIdentityOnFreeRows() {
        #expect(maxAbsSK(basis, network) < 1e-12)
        let nf = basis.freeNet.count
        for (k, j) in basis.freeNet.enumerated() {
            for l in 0..<nf { #expect(basis.netKernel[j * nf + l] == (l == k ? 1 : 0)) }
        }
        let xf = basis.freeExchange.count
        for (k, j) in basis.freeExchange.enumerated() {
            for l in 0..<xf { #expect(basis.exchangeKernel[j * xf + l] == (l == k ? 1 : 0)) }
        }
        // One-way reactions and xch-fixed reactions have no exchange.
        for j in [0, 2, 3, 4, 5, 6] { #expect(basis.exchangeKernel[j * xf] == 0) }
    }

    @Test func handDerivedFluxes() {
        let v3 = 0.3, x2 = 0.7
        let state = basis.fluxState(free: [1, v3, x2])
        let v2 = 1 - 2 * v3, v4 = v3, v5 = v2 + v4
        expectClose(state.net, [1, v2, v3, v4, v5, 3 * v3, v5])
        expectClose(state.exchange, [0, x2, 0, 0, 0, 0, 0])
        #expect(basis.violations(of: state, in: network).isEmpty)
    }

    @Test func randomFreeFluxesAreBalancedAndRoundTrip() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<200 {
            let θ = [Double.random(in: -5...5, using: &rng), Double.random(in: -5...5, using: &rng),
                     Double.random(in: 0...10, using: &rng)]
            let state = basis.fluxState(free: θ)
            for r in state.balanceResidual(in: network) { #expect(abs(r) < 1e-12) }
            expectClose(basis.freeFluxes(of: state), θ)
            expectClose(basis.fluxState(free: basis.freeFluxes(of: state)).net, state.net)
        }
    }

    @Test func constraintsOnFreeFluxes() {
        let explicit = basis.freeConstraints.filter { !$0.isImplicit }
        #expect(explicit.count == 1)
        let c = explicit[0]  // xch v2 <= 100
        #expect(c.coefficients == [0, 0, 1])
        #expect(c.relation == .lessOrEqual)
        #expect(c.constant == 100)
        // Implicit: EX_molE, EX_molF (and v1) net ≥ 0, v2 xch ≥ 0.
        let implicit = basis.freeConstraints.filter(\.isImplicit)
        #expect(implicit.allSatisfy { $0.relation == .greaterOrEqual && $0.constant == 0 })
        #expect(implicit.contains { $0.coefficients == [0, 3, 0] })  // EX_molE = 3 v3
        #expect(implicit.contains { $0.coefficients == [1, -1, 0] })  // EX_molF = v1 − v3
        #expect(implicit.contains { $0.coefficients == [0, 0, 1] })  // v2.xch
        #expect(implicit.contains { $0.coefficients == [1, 0, 0] })  // v1
        // A feasible θ satisfies all of them, an infeasible one does not.
        #expect(basis.freeConstraints.allSatisfy { $0.isSatisfied(by: [1, 0.3, 5]) })
        #expect(!basis.freeConstraints.allSatisfy { $0.isSatisfied(by: [1, 1.3, 5]) })
    }

    @Test func preferFreeOverridesTheDefault() throws {
        let b = try FreeFluxBasis(network: network, preferFree: ["v2.net"])
        #expect(b.freeNet == [0, 1])  // v1 (fixed) and v2
        #expect(b.fixed == [0: 1])
        #expect(maxAbsSK(b, network) < 1e-12)
        let s = b.fluxState(free: [1, 0.4, 2])
        expectClose(s.net, [1, 0.4, 0.3, 0.3, 0.7, 0.9, 0.7])
        #expect(throws: FreeFluxError.self) { try FreeFluxBasis(network: network, preferFree: ["nope"]) }
    }
}

// MARK: - violations()

@Suite("FreeFluxBasis.violations")
struct ViolationTests {
    let network: MetabolicNetwork
    let basis: FreeFluxBasis
    let feasible: FluxState
    init() throws {
        network = try toyNetwork()
        basis = try FreeFluxBasis(network: network)
        feasible = basis.fluxState(free: [1, 0.3, 0.7])
    }

    @Test func feasibleStateHasNone() {
        #expect(basis.violations(of: feasible, in: network) == [])
    }

    @Test func massBalance() {
        var s = feasible
        s.net[1] += 0.1  // v2: B and D unbalanced
        let v = basis.violations(of: s, in: network)
        #expect(v.count == 2)
        #expect(v.contains { $0.contains("'molB'") })
        #expect(v.contains { $0.contains("'molD'") })
    }

    @Test func equality() {
        let s = basis.fluxState(free: [2, 0.3, 0.7])  // balanced, but v1 = 2
        let v = basis.violations(of: s, in: network)
        #expect(v.count == 1)
        #expect(v.first?.contains("v1") == true)
    }

    @Test func exchangeEquality() {
        var s = feasible
        s.exchange[2] = 0.5  // v3 xch = 0 violated
        let v = basis.violations(of: s, in: network)
        #expect(v.count == 1)
        #expect(v.first?.contains("xch") == true)
    }

    @Test func inequality() {
        let s = basis.fluxState(free: [1, 0.3, 150])  // xch v2 <= 100
        let v = basis.violations(of: s, in: network)
        #expect(v.count == 1)
        #expect(v.first?.contains("<=100") == true)
    }

    @Test func negativeEfflux() {
        let s = basis.fluxState(free: [1, 1.5, 0.7])  // EX_molF = 1 − v3 < 0
        let v = basis.violations(of: s, in: network)
        #expect(v.count == 1)
        #expect(v.first?.contains("EX_molF") == true)
    }

    @Test func negativeExchange() {
        let s = basis.fluxState(free: [1, 0.3, -0.2])
        let v = basis.violations(of: s, in: network)
        #expect(v.count == 1)
        #expect(v.first?.contains("negative") == true)
    }

    @Test func exchangeOnOneWayAndWrongLength() {
        var s = feasible
        s.exchange[5] = 1  // EX_molE
        #expect(basis.violations(of: s, in: network).count == 1)
        let short = FluxState(net: [1], exchange: [0])
        #expect(basis.violations(of: short, in: network).count == 1)
    }

    @Test func toleranceIsRelative() {
        var s = feasible
        s.net[0] += 1e-10  // v1 = 1 + 1e-10: within 1e-9 · max(1, 1); balance off by 1e-10
        #expect(basis.violations(of: s, in: network).isEmpty)
    }
}

// MARK: - Errors and constraints on θ

@Suite("FreeFluxBasis constraints and errors")
struct FreeFluxConstraintTests {
    @Test func contradictoryFixesThrowNamingBoth() throws {
        let n = try toy(extra: [FluxConstraint(kind: .net, reaction: "v1", .equal, 2)])
        do {
            _ = try FreeFluxBasis(network: n)
            Issue.record("expected an error")
        } catch let e as FreeFluxError {
            guard case .inconsistentEqualities(let kind, let cs) = e else { Issue.record("\(e)"); return }
            #expect(kind == .net)
            #expect(cs.count == 2)
            #expect(e.description.contains("v1=1.0") && e.description.contains("v1=2.0"))
        }
    }

    @Test func contradictionThroughMassBalance() throws {
        // v2 + 2 v3 = v1 by the balances; with v1 = 1 this says 1 = 3.
        let n = try toy(extra: [FluxConstraint(kind: .net, terms: [term("v2"), term("v3", 2)], relation: .equal, constant: 3)])
        #expect(throws: FreeFluxError.self) { try FreeFluxBasis(network: n) }
    }

    @Test func consistentDoubleFixIsFine() throws {
        // Like CCM's IN_GLC = 1 and hk = 1: both reduce to the same free flux.
        let n = try toy(extra: [FluxConstraint(kind: .net, terms: [term("v2"), term("v3", 2)], relation: .equal, constant: 1)])
        let b = try FreeFluxBasis(network: n)
        #expect(b.fixed == [0: 1])
        #expect(b.freeConstraints.filter { !$0.isImplicit && $0.relation == .equal }.isEmpty)
    }

    @Test func fixingAFluxForcedToZeroThrows() throws {
        // v4 − v3 is 0 in every balanced state.
        let n = try toy(extra: [FluxConstraint(kind: .net, terms: [term("v4"), term("v3", -1)], relation: .equal, constant: 1)])
        #expect(throws: FreeFluxError.forcedToZero(kind: .net, constraint: "net: v4-v3=1.0")) {
            try FreeFluxBasis(network: n)
        }
    }

    @Test func impossibleInequalityThrows() throws {
        let n = try toy(extra: [FluxConstraint(kind: .net, terms: [term("v4"), term("v3", -1)], relation: .greaterOrEqual, constant: 1)])
        #expect(throws: FreeFluxError.self) { try FreeFluxBasis(network: n) }
        // ... and a trivially true one is dropped.
        let ok = try toy(extra: [FluxConstraint(kind: .net, terms: [term("v4"), term("v3", -1)], relation: .lessOrEqual, constant: 1)])
        #expect(try FreeFluxBasis(network: ok).freeConstraints.filter { !$0.isImplicit }.count == 1)
    }

    @Test func exchangeFixOnOneWayThrows() throws {
        let n = try toy(extra: [FluxConstraint(kind: .exchange, reaction: "EX_molE", .equal, 1)])
        #expect(throws: FreeFluxError.exchangeOfOneWay(constraint: "xch: EX_molE=1.0", reaction: "EX_molE")) {
            try FreeFluxBasis(network: n)
        }
    }

    @Test func contradictoryExchangeFixes() throws {
        let n = try toy(extra: [FluxConstraint(kind: .exchange, reaction: "v2", .equal, 1),
                                FluxConstraint(kind: .exchange, reaction: "v2", .equal, 2)])
        #expect(throws: FreeFluxError.self) { try FreeFluxBasis(network: n) }
        #expect(throws: FreeFluxError.self) {
            try FreeFluxBasis(network: toy(extra: [FluxConstraint(kind: .exchange, reaction: "v3", .equal, 1)]))
        }
    }

    @Test func exchangeFixAndMultiTermNetEquality() throws {
        let n = try toy(extra: [FluxConstraint(kind: .exchange, reaction: "v2", .equal, 4),
                                FluxConstraint(kind: .net, terms: [term("v2"), term("v3", -1)], relation: .equal, constant: 0.1)])
        let b = try FreeFluxBasis(network: n)
        #expect(b.names == ["v1.net", "v3.net", "v2.xch"])
        #expect(b.fixed == [0: 1, 2: 4])
        let eq = b.freeConstraints.filter { $0.relation == .equal }
        #expect(eq.count == 1)
        // v2 − v3 = (v1 − 2 v3) − v3 = v1 − 3 v3
        expectClose(eq[0].coefficients, [1, -3, 0])
        #expect(eq[0].constant == 0.1)
        let s = b.fluxState(free: [1, 0.3, 4])
        #expect(b.violations(of: s, in: n) == [])
    }

    @Test func cycleWithHomogeneousEquality() throws {
        let n = try cycleNetwork(constraints: [
            FluxConstraint(kind: .net, terms: [term("r2"), term("up", -2)], relation: .equal, constant: 0),
            FluxConstraint(kind: .net, reaction: "up", .equal, 1),
            FluxConstraint(kind: .exchange, terms: [term("r1"), term("r3", -1)], relation: .equal, constant: 0),
        ])
        let b = try FreeFluxBasis(network: n)
        #expect(b.names == ["up.net", "r1.xch", "r2.xch"])
        #expect(b.fixed == [0: 1])
        #expect(maxAbsSK(b, n) < 1e-12)
        let s = b.fluxState(free: [1, 0.5, 3])
        expectClose(s.net, [1, 2, 2, 1, 1])
        expectClose(s.exchange, [0, 0.5, 3, 0.5, 0])
        #expect(b.violations(of: s, in: n) == [])
        expectClose(b.freeFluxes(of: s), [1, 0.5, 3])

        // Without the homogeneous equality the cycle adds one free net flux.
        let openNetwork = try cycleNetwork(constraints: [])
        let open = try FreeFluxBasis(network: openNetwork)
        #expect(open.freeNet.count == 2)
        #expect(open.freeExchange.count == 3)
        #expect(open.fixed.isEmpty)
        #expect(maxAbsSK(open, openNetwork) < 1e-12)
    }

    @Test func networkWithoutBalancedConstraintsOrReactions() throws {
        // Only an uptake and an efflux through one pool: one free net flux, no exchange.
        func s(_ pool: String) -> ReactionParticipant { ReactionParticipant(pool: pool, atomMap: "a") }
        let n = try MetabolicNetwork(
            name: "line", pools: [Pool(id: "X", carbons: 1), Pool(id: "Y", carbons: 1)],
            reactions: [Reaction(id: "in", substrates: [s("X")], products: [s("Y")]),
                        Reaction(id: "out", substrates: [s("Y")], products: [])])
        let b = try FreeFluxBasis(network: n)
        #expect(b.names == ["in.net"])
        expectClose(b.fluxState(free: [2]).net, [2, 2])
    }
}
