/// The classical correction matrix of a measured fragment (IsoCor's low-resolution
/// convention, Millard et al., *Bioinformatics* 28, 1294 (2012) and IsoCor 2, *Bioinformatics*
/// 35, 4484 (2019)): it maps the MID of the `n` traced positions of a fragment (the tracer-
/// derived MID, entries M+0 … M+n) to the MID the mass spectrometer sees for the whole ion of
/// elemental formula `formula` (entries M+0 … M+n, nominal mass shifts):
///
///     measured ∝ C · tracerMID,   C[i][j] = P(ion is i Da heavy | j traced positions labeled)
///
/// Column `j` is the convolution of
/// - `[1 − purity, purity]` `j` times (the labeled positions, tracer purity),
/// - the tracer element's natural abundance `n − j` times (the unlabeled traced positions;
///   only with `tracerNaturalAbundance`, IsoCor's `correct_NA_tracer`),
/// - the natural mass distribution of every other atom of `formula` (the formula less the `n`
///   traced atoms: the derivative's Si, C, H, N, O and the fragment's other atoms),
///
/// truncated to its first `n + 1` entries (heavier ions fall outside the measured cluster,
/// so columns sum to slightly less than 1).
public struct CorrectionMatrix: Hashable, Sendable {
    /// Number of traced positions `n`; the matrix is `(n+1) × (n+1)`.
    public let tracedAtoms: Int
    /// Row-major: `values[i * (n+1) + j]` = `C[i][j]`.
    public let values: [Double]
    public let formula: ElementalFormula
    public let tracer: ChemicalElement
    public let purity: Double
    public let tracerNaturalAbundance: Bool

    /// Why a matrix cannot be built.
    public struct Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// - Parameters:
    ///   - tracedAtoms: `n`, the traced positions of the fragment (backbone atoms it keeps).
    ///   - formula: the elemental formula of the measured ion (including the `n` traced atoms).
    ///   - tracer: the traced element; its heavy isotope is its second (¹³C, ²H, ¹⁵N).
    ///   - purity: isotopic purity of the tracer's labeled positions, in (0, 1].
    ///   - tracerNaturalAbundance: unlabeled traced positions carry the tracer element's
    ///     natural abundance (true for a fit of uncorrected data; IsoCor's `-n`).
    /// - Throws: `Error` when `formula` has fewer than `n` atoms of `tracer`, the tracer has
    ///   not exactly two stable isotopes, or `purity` is outside (0, 1].
    public init(tracedAtoms n: Int, formula: ElementalFormula, tracer: ChemicalElement = .carbon,
                purity: Double = 1, tracerNaturalAbundance: Bool = true) throws {
        guard n >= 0 else { throw Error(reason: "traced atoms \(n) must be ≥ 0") }
        guard tracer.abundances.count == 2 else {
            throw Error(reason: "tracer element \(tracer.symbol) must have two stable isotopes (C, H or N)")
        }
        guard purity.isFinite, purity > 0, purity <= 1 else {
            throw Error(reason: "tracer purity \(purity) must be in (0, 1]")
        }
        guard let rest = formula.removing(n, of: tracer) else {
            throw Error(reason: "formula \(formula) has \(formula.count(of: tracer)) \(tracer.symbol) atoms, fewer than the \(n) traced positions of the fragment")
        }
        let size = n + 1
        let background = MassDistribution.natural(rest)
        let labeled = [1 - purity, purity]
        var values = [Double](repeating: 0, count: size * size)
        for j in 0...n {
            var column = MassDistribution.convolve(background, MassDistribution.power(labeled, j))
            if tracerNaturalAbundance {
                column = MassDistribution.convolve(column, MassDistribution.power(tracer.abundances, n - j))
            }
            for i in 0..<min(size, column.count) { values[i * size + j] = column[i] }
        }
        self.tracedAtoms = n
        self.values = values
        self.formula = formula
        self.tracer = tracer
        self.purity = purity
        self.tracerNaturalAbundance = tracerNaturalAbundance
    }

    /// `C[i][j]`.
    public subscript(i: Int, j: Int) -> Double { values[i * (tracedAtoms + 1) + j] }

    /// `C · mid` (not renormalised; sums to slightly less than `Σ mid`).
    public func apply(_ mid: [Double]) -> [Double] {
        let size = tracedAtoms + 1
        precondition(mid.count == size)
        return (0..<size).map { i in (0..<size).reduce(0) { $0 + values[i * size + $1] * mid[$1] } }
    }

    /// The measured MID of a fragment whose traced positions have `mid`: `C · mid`
    /// renormalised to sum 1 over M+0 … M+n (what a table of measured fractions holds).
    public func measured(from mid: [Double]) -> [Double] {
        let y = apply(mid)
        let s = y.reduce(0, +)
        return y.map { $0 / s }
    }
}
