/// One substrate or product occurrence of a reaction, with its atom map.
///
/// `atomMap` holds one letter per atom of the pool, in the pool's atom order
/// (carbons, then hydrogens). The same letter on the substrate and the product
/// side denotes the same atom. A pool appearing twice on one side is two
/// occurrences (toy `v4` makes two E).
///
/// `coefficient` is the stoichiometric coefficient (> 0, default 1) in the mass balances. A
/// coefficient other than 1 is for participants whose atoms are not traced through it: a pool
/// with no traced atoms (biomass, a cofactor), or a substrate of a drain whose products carry
/// no traced atoms (`0.488 Ala + … -> biomass`); `MetabolicNetwork` rejects any other.
public struct ReactionParticipant: Hashable, Sendable {
    public var pool: String
    public var atomMap: [Character]
    public var coefficient: Double
    public var line: Int?

    public init(pool: String, atomMap: [Character], coefficient: Double = 1, line: Int? = nil) {
        self.pool = pool
        self.atomMap = atomMap
        self.coefficient = coefficient
        self.line = line
    }

    public init(pool: String, atomMap: String, coefficient: Double = 1, line: Int? = nil) {
        self.init(pool: pool, atomMap: Array(atomMap), coefficient: coefficient, line: line)
    }
}

/// A reaction with substrate and product atom maps.
///
/// Directionality: a reaction with no product is an **efflux**; a reaction whose
/// substrates are all input pools is an **uptake**. Both are one-way (net flux
/// only, exchange 0). Every other reaction is bidirectional with a net and an
/// exchange flux, unless a constraint fixes its exchange to 0 or the network declares it
/// one-way (`declaredOneWay`, FluxML `bidirectional="false"`: net ≥ 0, no exchange flux).
public struct Reaction: Hashable, Sendable {
    public var id: String
    public var substrates: [ReactionParticipant]
    public var products: [ReactionParticipant]
    /// Atom letters (hydrogens) that exchange with unlabeled solvent (FluxML `leak`):
    /// in a product of either direction such an atom is unlabeled.
    public var leakAtoms: Set<Character>
    /// Declared irreversible (FluxML `bidirectional="false"`): one-way like an efflux.
    public var declaredOneWay = false
    public var line: Int?

    public init(id: String, substrates: [ReactionParticipant], products: [ReactionParticipant],
                leakAtoms: Set<Character> = [], line: Int? = nil) {
        self.id = id
        self.substrates = substrates
        self.products = products
        self.leakAtoms = leakAtoms
        self.line = line
    }

    /// `true` when the reaction has no product (it leaves the system).
    public var isEfflux: Bool { products.isEmpty }

    /// `true` when the substrates' traced atoms leave the system although the reaction has
    /// products: every product carries no traced atoms (a biomass drain `0.488 Ala + … -> BM`).
    /// Such a reaction is one-way like an efflux.
    public func isDrain(atomCount: (String) -> Int) -> Bool {
        !products.isEmpty && products.allSatisfy { atomCount($0.pool) == 0 } && substrates.contains { atomCount($0.pool) > 0 }
    }
}
