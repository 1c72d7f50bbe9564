import MLFluxCore

/// Everything `mlflux describe` shows about a model, as plain data (Codable for `--format json`).
public struct ModelDescription: Codable, Sendable {
    public struct PoolInfo: Codable, Sendable {
        public var id: String
        public var carbons: Int
        public var hydrogens: Int
        /// `"input"` (set by the tracer) or `"balanced"`.
        public var role: String
        public var symmetric: Bool
    }
    public struct ReactionInfo: Codable, Sendable {
        public var id: String
        /// `"molB (abc) + molC (AB) -> molD (bcA) + molE (a) + molE (B)"`.
        public var equation: String
        /// `"bidirectional"`, `"uptake"` or `"efflux"`.
        public var direction: String
    }
    public struct FreeFluxInfo: Codable, Sendable {
        public var name: String
        /// The value an equality constraint fixes it to, if any.
        public var fixed: Double?
    }
    public struct InputInfo: Codable, Sendable {
        public var pool: String
        /// `[{"pattern": "100", "fraction": 1.0, "purity": 1.0}]`; the rest is unlabeled.
        public var components: [ComponentInfo]
    }
    public struct ComponentInfo: Codable, Sendable {
        public var pattern: String
        public var fraction: Double
        public var purity: Double
    }
    public struct ExperimentInfo: Codable, Sendable {
        public var id: String
        public var inputs: [InputInfo]
    }
    public struct FragmentInfo: Codable, Sendable {
        public var name: String
        public var pool: String
        /// 1-based atom positions (carbons, then hydrogens).
        public var atoms: [Int]
        /// Elemental formula of the measured ion when the manifest gives one (natural abundance).
        public var formula: String?
    }

    public var name: String
    public var description: String
    public var network: String
    public var networkFile: String
    public var bundle: String
    public var pools: [PoolInfo]
    public var reactions: [ReactionInfo]
    public var constraints: [String]
    public var freeFluxes: [FreeFluxInfo]
    public var experiments: [ExperimentInfo]
    public var measured: [FragmentInfo]

    public init(_ bundle: ModelBundle) {
        let network = bundle.network
        name = bundle.name
        description = bundle.manifest.description
        self.network = network.name
        networkFile = bundle.networkPath
        self.bundle = bundle.directory
        pools = network.pools.enumerated().map { i, p in
            PoolInfo(id: p.id, carbons: p.carbons, hydrogens: p.hydrogens,
                     role: network.isInput[i] ? "input" : "balanced", symmetric: p.isSymmetric)
        }
        reactions = network.reactions.enumerated().map { j, r in
            let direction = network.isBidirectional[j] ? "bidirectional"
                : r.isEfflux ? "efflux"
                : r.isDrain(atomCount: { network.pool($0)?.atomCount ?? 0 }) ? "drain"
                : r.substrates.allSatisfy({ network.poolIndex[$0.pool].map { network.isInput[$0] } ?? false }) ? "uptake" : "one-way"
            return ReactionInfo(id: r.id, equation: Self.equation(r), direction: direction)
        }
        constraints = network.constraints.map(\.description)
        let basis = bundle.basis
        freeFluxes = basis.names.enumerated().map { k, n in FreeFluxInfo(name: n, fixed: basis.fixed[k]) }
        experiments = bundle.experiments.map { e in
            ExperimentInfo(id: e.id, inputs: e.inputs.map { input in
                InputInfo(pool: input.pool, components: input.components.map {
                    ComponentInfo(pattern: $0.patternString, fraction: $0.fraction, purity: $0.purity)
                })
            })
        }
        measured = bundle.measured.map {
            FragmentInfo(name: $0.name, pool: $0.pool, atoms: $0.atoms.map { $0 + 1 },
                         formula: bundle.naturalAbundance[$0.name].map { "\($0.formula)" })
        }
    }

    /// `"A (abc) + B (de) -> C (abcde)"`; an efflux reads `"E (a) ->"`; a coefficient other
    /// than 1 precedes its pool (`"0.488 Ala (abc) -> BM ()"`). Leak atoms are listed after the
    /// equation as `[leak: x]`.
    public static func equation(_ r: Reaction) -> String {
        func side(_ ps: [ReactionParticipant]) -> String {
            ps.map { ($0.coefficient == 1 ? "" : "\($0.coefficient) ") + "\($0.pool) (\(String($0.atomMap)))" }.joined(separator: " + ")
        }
        var s = side(r.substrates) + " ->" + (r.products.isEmpty ? "" : " " + side(r.products))
        if !r.leakAtoms.isEmpty { s += " [leak: \(String(r.leakAtoms.sorted()))]" }
        return s
    }
}
