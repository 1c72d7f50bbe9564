/// A chemical element with the natural abundances of its stable isotopes, indexed by
/// nominal mass shift over the lightest isotope (`abundances[k]` = fraction of atoms that
/// weigh `k` Da more; a gap such as ³⁵S is 0).
///
/// Values are the representative isotopic compositions of IUPAC: M. Berglund and
/// M. E. Wieser, "Isotopic compositions of the elements 2009 (IUPAC Technical Report)",
/// *Pure Appl. Chem.* 83(2), 397–410 (2011), doi:10.1351/PAC-REP-10-06-02, Table 1 — the
/// same numbers IsoCor 2 ships (`isocor/data/Isotopes.dat`).
public struct ChemicalElement: Hashable, Sendable, CustomStringConvertible {
    /// Element symbol as written in formulas (`"C"`, `"Si"`).
    public let symbol: String
    /// Natural abundance by nominal mass shift; sums to 1.
    public let abundances: [Double]

    public init(symbol: String, abundances: [Double]) {
        self.symbol = symbol
        self.abundances = abundances
    }

    public var description: String { symbol }

    /// ¹H 0.999885, ²H 0.000115.
    public static let hydrogen = ChemicalElement(symbol: "H", abundances: [0.999885, 0.000115])
    /// ¹²C 0.9893, ¹³C 0.0107.
    public static let carbon = ChemicalElement(symbol: "C", abundances: [0.9893, 0.0107])
    /// ¹⁴N 0.99636, ¹⁵N 0.00364.
    public static let nitrogen = ChemicalElement(symbol: "N", abundances: [0.99636, 0.00364])
    /// ¹⁶O 0.99757, ¹⁷O 0.00038, ¹⁸O 0.00205.
    public static let oxygen = ChemicalElement(symbol: "O", abundances: [0.99757, 0.00038, 0.00205])
    /// ²⁸Si 0.92223, ²⁹Si 0.04685, ³⁰Si 0.03092.
    public static let silicon = ChemicalElement(symbol: "Si", abundances: [0.92223, 0.04685, 0.03092])
    /// ³¹P 1 (monoisotopic).
    public static let phosphorus = ChemicalElement(symbol: "P", abundances: [1])
    /// ³²S 0.9499, ³³S 0.0075, ³⁴S 0.0425, ³⁶S 0.0001.
    public static let sulfur = ChemicalElement(symbol: "S", abundances: [0.9499, 0.0075, 0.0425, 0, 0.0001])

    /// Every element a formula may contain, in Hill order (C, H, then alphabetical).
    public static let known: [ChemicalElement] = [.carbon, .hydrogen, .nitrogen, .oxygen, .phosphorus, .sulfur, .silicon]

    /// The element of `symbol`, or `nil` when it is not in `known`.
    public static func named(_ symbol: String) -> ChemicalElement? { known.first { $0.symbol == symbol } }
}
