import MLFluxCore

/// Draws feasible free-flux vectors θ = [θ_net…, θ_xch…] of a `FreeFluxBasis`.
///
/// The constraints on θ (`basis.fixed`, `basis.freeConstraints`) split into a net and an
/// exchange polytope that share no variable; each is reduced to its free coordinates (see
/// `ReducedPolytope`: given and implicit equalities solved, bounds of every flux from LPs)
/// and sampled on its own:
///
/// - **net**: `.uniform` draws each free coordinate uniformly in the polytope's bounding box
///   and rejects points outside (exact, independent; the init runs a pilot of 4,000 trials
///   with a fixed internal seed and throws `.lowAcceptance` below a rate of 10⁻³);
///   `.hitAndRun` runs artificial centering hit-and-run (`HitAndRunChain`). When the
///   polytope is a box (every constraint bounds one coordinate) both draw the coordinates
///   independently, which is exact and needs no chain.
/// - **exchange**: each free coordinate from its `CoordinateDistribution` (uniform,
///   log-uniform or log-normal between its bounds). If the exchange constraints are not a
///   box (a bound on a sum of exchange fluxes), `.uniform` uses hit-and-run and the log
///   methods sample the product distribution on the bounding box with rejection — the
///   chosen distribution restricted to the polytope — with the same pilot check.
///
/// `sample` uses only the generator it is given, so equal generator states give equal samples;
/// every call starts a fresh chain (with burn-in) from the Chebyshev center.
public struct FluxSpaceSampler: Sendable {
    public let network: MetabolicNetwork
    public let basis: FreeFluxBasis
    /// Settings with `thinning` and `burnIn` resolved (never 0).
    public let settings: SamplerSettings
    /// Lower and upper bound of every free flux (θ order) implied by all constraints, from LPs;
    /// fixed fluxes have `lower == upper`.
    public let bounds: [(lower: Double, upper: Double)]
    /// Dimension of the net and exchange polytopes after their equalities.
    public let netDimension: Int
    public let exchangeDimension: Int
    /// Non-redundant inequalities left on the net and exchange coordinates.
    public let netConstraintCount: Int
    public let exchangeConstraintCount: Int

    private let net: PartSampler
    private let exchange: PartSampler

    /// - Throws: `FluxSamplingError.infeasible` (naming an irreducible set of contradicting
    ///   constraints), `.unbounded` (naming a free flux without a lower or upper bound),
    ///   `.lowAcceptance` (uniform rejection sampling in a polytope that fills too little of
    ///   its bounding box: use hit-and-run), `.invalidSetting`.
    /// - Complexity: about 2 LPs per free flux (bounds), one for the Chebyshev center, plus one
    ///   per constraint when the constraints hide equalities; milliseconds for CCM.
    public init(network: MetabolicNetwork, basis: FreeFluxBasis, settings: SamplerSettings) throws {
        try Self.validate(settings)
        let nf = basis.freeNet.count, total = basis.count
        let names = basis.names
        var netRows: [LinearRow] = [], xchRows: [LinearRow] = []
        for c in basis.freeConstraints {
            let g = c.coefficients
            let onNet = g[0..<nf].contains { $0 != 0 }, onXch = g[nf..<total].contains { $0 != 0 }
            switch (onNet, onXch) {
            case (true, true):
                throw FluxSamplingError.mixedConstraint(c.origin)
            case (false, false):
                let holds: Bool
                switch c.relation {
                case .equal: holds = c.constant == 0
                case .lessOrEqual: holds = 0 <= c.constant
                case .greaterOrEqual: holds = 0 >= c.constant
                }
                if !holds { throw FluxSamplingError.infeasible(constraints: [c.origin]) }
            case (true, false):
                netRows.append(LinearRow(g: Array(g[0..<nf]), relation: c.relation, h: c.constant, origin: c.origin))
            case (false, true):
                xchRows.append(LinearRow(g: Array(g[nf..<total]), relation: c.relation, h: c.constant, origin: c.origin))
            }
        }
        for (k, v) in basis.fixed.sorted(by: { $0.key < $1.key }) {
            let onNet = k < nf
            var g = [Double](repeating: 0, count: onNet ? nf : total - nf)
            g[onNet ? k : k - nf] = 1
            let row = LinearRow(g: g, relation: .equal, h: v,
                                origin: Self.fixOrigin(k, value: v, basis: basis, network: network))
            if onNet { netRows.append(row) } else { xchRows.append(row) }
        }
        let netPolytope = try ReducedPolytope(names: Array(names[0..<nf]), rows: netRows)
        let xchPolytope = try ReducedPolytope(names: Array(names[nf..<total]), rows: xchRows)

        var resolved = settings
        let dim = max(netPolytope.dimension, 1)
        if resolved.thinning <= 0 { resolved.thinning = 2 * dim }
        if resolved.burnIn <= 0 { resolved.burnIn = 100 * dim }

        net = try PartSampler(net: netPolytope, settings: resolved)
        exchange = try PartSampler(exchange: xchPolytope, settings: resolved)
        self.network = network
        self.basis = basis
        self.settings = resolved
        bounds = netPolytope.bounds + xchPolytope.bounds
        netDimension = netPolytope.dimension
        exchangeDimension = xchPolytope.dimension
        netConstraintCount = netPolytope.rows
        exchangeConstraintCount = xchPolytope.rows
    }

    /// `count` feasible θ vectors; deterministic for a given generator state.
    ///
    /// Every returned θ satisfies all constraints: `basis.violations(of: basis.fluxState(free: θ),
    /// in: network)` is empty.
    /// - Complexity: hit-and-run: O(count · thinning · (rows + d)) plus O(count · rows · d);
    ///   box and exchange draws: O(count · free fluxes).
    public func sample<G: RandomNumberGenerator>(count: Int, using rng: inout G) -> [[Double]] {
        guard count > 0 else { return [] }
        let netPoints = net.sample(count: count, using: &rng)
        let xchPoints = exchange.sample(count: count, using: &rng)
        var out: [[Double]] = []
        out.reserveCapacity(count)
        for i in 0..<count { out.append(netPoints[i] + xchPoints[i]) }
        return out
    }

    private static func validate(_ s: SamplerSettings) throws {
        func check(_ name: String, _ v: Double, _ ok: Bool, _ requirement: String) throws {
            if !ok { throw FluxSamplingError.invalidSetting(name: name, value: v, requirement: requirement) }
        }
        try check("exchangeFloor", s.exchangeFloor, s.exchangeFloor > 0 && s.exchangeFloor.isFinite, "a positive number")
        try check("logNormalMedian", s.logNormalMedian, s.logNormalMedian > 0 && s.logNormalMedian.isFinite,
                  "a positive number")
        try check("logNormalSigmaDecades", s.logNormalSigmaDecades,
                  s.logNormalSigmaDecades > 0 && s.logNormalSigmaDecades.isFinite, "a positive number")
        try check("thinning", Double(s.thinning), s.thinning >= 0, "0 (automatic) or more")
        try check("burnIn", Double(s.burnIn), s.burnIn >= 0, "0 (automatic) or more")
    }

    /// The network equalities that fix free flux `k` (for error messages).
    private static func fixOrigin(_ k: Int, value: Double, basis: FreeFluxBasis, network: MetabolicNetwork) -> String {
        let nf = basis.freeNet.count
        let kind: FluxKind = k < nf ? .net : .exchange
        let reaction = basis.reactionIDs[k < nf ? basis.freeNet[k] : basis.freeExchange[k - nf]]
        let sources = network.constraints.filter {
            $0.kind == kind && $0.relation == .equal && $0.constant != 0 && $0.terms.map(\.reaction) == [reaction]
        }
        if sources.isEmpty { return "\(basis.names[k]) = \(value) (fixed by the network's equalities)" }
        return sources.map(\.description).joined(separator: " and ")
    }
}

extension FluxSpaceSampler {
    /// The range of the flux combination Σ aᵣ·vᵣ (net or exchange fluxes of reactions r)
    /// over every flux state the constraints allow, from two LPs; `-∞`/`+∞` on a side the
    /// constraints leave open. Used to name a measured flux the bounds cannot reach.
    public func range(of terms: [IndexedFluxTerm], kind: FluxKind) -> (lower: Double, upper: Double) {
        let part = kind == .net ? net : exchange
        let p = part.polytope
        let width = kind == .net ? basis.freeNet.count : basis.freeExchange.count
        let kernel = kind == .net ? basis.netKernel : basis.exchangeKernel
        var c = [Double](repeating: 0, count: width)
        for t in terms { for k in 0..<width { c[k] += t.coefficient * kernel[t.reaction * width + k] } }
        let base = zip(c, p.origin).reduce(0) { $0 + $1.0 * $1.1 }
        let d = p.dimension
        guard d > 0 else { return (base, base) }
        var dc = [Double](repeating: 0, count: d)
        for i in 0..<p.variableCount { for k in 0..<d { dc[k] += c[i] * p.directions[i * d + k] } }
        let lp = LinearProgram(a: p.a, b: p.b, rows: p.rows, columns: d)
        func extreme(_ sign: Double) -> Double {
            switch lp.maximize(dc.map { sign * $0 }) {
            case .optimal(_, let value): return base + sign * value
            case .unbounded: return sign * .infinity
            case .infeasible, .stalled: return sign * .infinity
            }
        }
        return (extreme(-1), extreme(1))
    }
}

/// Sampling of one part (net or exchange) of θ.
private struct PartSampler: Sendable {
    enum Mode: Sendable {
        /// Independent draws of every coordinate (the polytope is a box).
        case box([CoordinateDistribution])
        /// Independent draws in the bounding box, rejected outside the polytope.
        case rejection([CoordinateDistribution])
        case hitAndRun(HitAndRunChain)
    }

    let polytope: ReducedPolytope
    let mode: Mode

    init(net p: ReducedPolytope, settings: SamplerSettings) throws {
        polytope = p
        let uniform = Self.distributions(p, settings: settings, logScale: false)
        if p.dimension == 0 || p.isBox {
            mode = .box(uniform)
        } else if settings.net == .hitAndRun {
            mode = .hitAndRun(HitAndRunChain(polytope: p, thinning: settings.thinning, burnIn: settings.burnIn))
        } else {
            try Self.pilot(p, uniform, part: "net", suggestion: "use the net method 'hit-and-run'")
            mode = .rejection(uniform)
        }
    }

    init(exchange p: ReducedPolytope, settings: SamplerSettings) throws {
        polytope = p
        let dists = Self.distributions(p, settings: settings, logScale: true)
        if p.dimension == 0 || p.isBox {
            mode = .box(dists)
        } else if settings.exchange == .uniform {
            mode = .hitAndRun(HitAndRunChain(polytope: p, thinning: settings.thinning, burnIn: settings.burnIn))
        } else {
            try Self.pilot(p, dists, part: "exchange",
                           suggestion: "use the exchange method 'uniform' (hit-and-run) or bound the exchange fluxes one by one")
            mode = .rejection(dists)
        }
    }

    static func distributions(_ p: ReducedPolytope, settings: SamplerSettings, logScale: Bool) -> [CoordinateDistribution] {
        p.coordinates.map { i in
            CoordinateDistribution(lower: p.bounds[i].lower, upper: p.bounds[i].upper, settings: settings, logScale: logScale)
        }
    }

    /// 4,000 trial points with a fixed internal seed; throws below an acceptance rate of 10⁻³.
    static func pilot(_ p: ReducedPolytope, _ dists: [CoordinateDistribution], part: String, suggestion: String) throws {
        var rng = PilotGenerator()
        let trials = 4000
        var accepted = 0
        var z = [Double](repeating: 0, count: p.dimension)
        for _ in 0..<trials {
            for k in 0..<p.dimension { z[k] = dists[k].value(openUnit(&rng)) }
            if p.contains(z) { accepted += 1 }
        }
        let rate = Double(accepted) / Double(trials)
        if rate < 1e-3 { throw FluxSamplingError.lowAcceptance(part: part, rate: rate, suggestion: suggestion) }
    }

    /// `count` points of the part's variables.
    func sample<G: RandomNumberGenerator>(count: Int, using rng: inout G) -> [[Double]] {
        var out: [[Double]] = []
        out.reserveCapacity(count)
        let d = polytope.dimension
        var z = [Double](repeating: 0, count: d)
        switch mode {
        case .box(let dists):
            for _ in 0..<count {
                for k in 0..<d { z[k] = dists[k].value(openUnit(&rng)) }
                out.append(polytope.point(z))
            }
        case .rejection(let dists):
            while out.count < count {
                for k in 0..<d { z[k] = dists[k].value(openUnit(&rng)) }
                if polytope.contains(z) { out.append(polytope.point(z)) }
            }
        case .hitAndRun(let chain):
            chain.run(count: count, using: &rng) { out.append(polytope.point($0)) }
        }
        return out
    }
}

/// SplitMix64 for the pilot runs in `init`, so that they never touch the caller's generator.
private struct PilotGenerator: RandomNumberGenerator {
    var state: UInt64 = 0x5EED_F1E1_D5A3_9001
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
