/// A metabolite pool of a network.
///
/// Atoms are indexed `0..<atomCount`: the carbons first (`0..<carbons`), then the
/// hydrogens (`carbons..<atomCount`). An isotopologue index counts heavy atoms of
/// both elements (13C and 2H both shift the mass by ~1 Da on a low-resolution MS).
public struct Pool: Hashable, Sendable {
    /// Identifier as written in the network file (e.g. `"g6p"`).
    public var id: String
    /// Number of carbon atoms traced.
    public var carbons: Int
    /// Number of hydrogen atoms traced.
    public var hydrogens: Int
    /// `true` for a rotationally symmetric molecule (FluxML `symm="180"`, e.g. succinate):
    /// a product written `ABCD` is half `ABCD`, half `DCBA`.
    public var isSymmetric: Bool
    /// Line in the source file, when read from one.
    public var line: Int?

    public init(id: String, carbons: Int, hydrogens: Int = 0, isSymmetric: Bool = false, line: Int? = nil) {
        self.id = id
        self.carbons = carbons
        self.hydrogens = hydrogens
        self.isSymmetric = isSymmetric
        self.line = line
    }

    /// Total number of traced atoms (carbons + hydrogens); an MID has `atomCount + 1` entries.
    public var atomCount: Int { carbons + hydrogens }

    /// The element of atom `position` (0-based): carbons first, then hydrogens.
    public func element(at position: Int) -> Element {
        position < carbons ? .carbon : .hydrogen
    }
}

/// Traced chemical element.
public enum Element: String, Sendable, Hashable {
    case carbon = "C"
    case hydrogen = "H"
}
