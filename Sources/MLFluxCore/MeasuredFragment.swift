/// A measured metabolite or fragment: a pool and the atoms (0-based, carbons then
/// hydrogens) that the fragment keeps. Its MID has `atoms.count + 1` entries.
public struct MeasuredFragment: Hashable, Sendable, CustomStringConvertible {
    /// Name used in outputs and layouts (e.g. `"molF"` or `"Glu_1:2:3:4:5"`).
    public var name: String
    public var pool: String
    /// Atom positions, sorted ascending.
    public var atoms: [Int]

    public init(name: String, pool: String, atoms: [Int]) {
        self.name = name
        self.pool = pool
        self.atoms = atoms.sorted()
    }

    /// The whole molecule of `pool`.
    public static func whole(_ pool: Pool) -> MeasuredFragment {
        MeasuredFragment(name: pool.id, pool: pool.id, atoms: Array(0..<pool.atomCount))
    }

    public var description: String {
        "\(pool)[\(atoms.map { String($0 + 1) }.joined(separator: ","))]"
    }
}
