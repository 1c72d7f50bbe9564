/// One substrate or product occurrence of a reaction, with its atom map.
///
/// `atomMap` holds one letter per atom of the pool, in the pool's atom order
/// (carbons, then hydrogens). The same letter on the substrate and the product
/// side denotes the same atom. A pool appearing twice on one side is two
/// occurrences (toy `v4` makes two E).
public struct ReactionParticipant: Hashable, Sendable {
    public var pool: String
    public var atomMap: [Character]
    public var line: Int?

    public init(pool: String, atomMap: [Character], line: Int? = nil) {
        self.pool = pool
        self.atomMap = atomMap
        self.line = line
    }

    public init(pool: String, atomMap: String, line: Int? = nil) {
        self.init(pool: pool, atomMap: Array(atomMap), line: line)
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
}
