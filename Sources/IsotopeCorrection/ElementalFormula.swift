/// An elemental formula such as `C11H26NO2Si2` (the Ala m/z 232 fragment of TBDMS-alanine):
/// a count of atoms per element. Only elements of `ChemicalElement.known` are accepted.
public struct ElementalFormula: Hashable, Sendable, CustomStringConvertible {
    /// Atom counts by element symbol; no zero entries.
    public private(set) var counts: [String: Int]

    /// Most atoms of one element a formula may hold (a derivatised fragment has < 100).
    public static let maximumCount = 10_000

    /// A formula from counts (zero counts dropped).
    /// - Precondition: every symbol is known and every count is in `0...maximumCount`.
    public init(counts: [String: Int]) {
        precondition(counts.allSatisfy { ChemicalElement.named($0.key) != nil && (0...Self.maximumCount).contains($0.value) })
        self.counts = counts.filter { $0.value > 0 }
    }

    /// Why a formula string is refused; `description` names the formula and the place.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var formula: String
        public var reason: String
        public var description: String { "formula '\(formula)': \(reason)" }
    }

    /// Parses a formula: element symbols (capital letter, optional small letter) each followed
    /// by an optional count (`C3H7NO2`, `CH3CH2OH` adds up repeats). Spaces are not allowed.
    /// - Throws: `ParseError` for an empty string, an unknown element, a character that is not
    ///   part of a symbol or count, a count of 0 or above `maximumCount`.
    public init(parsing text: String) throws {
        let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
        func fail(_ why: String) -> ParseError { ParseError(formula: shown, reason: why) }
        let chars = Array(text)
        guard !chars.isEmpty else { throw fail("is empty") }
        var counts: [String: Int] = [:]
        var i = 0
        while i < chars.count {
            let c = chars[i]
            guard c.isASCII, c.isUppercase else {
                throw fail("unexpected '\(c)' at character \(i + 1); expected an element symbol such as C, H, N, O, Si")
            }
            var symbol = String(c)
            i += 1
            if i < chars.count, chars[i].isASCII, chars[i].isLowercase { symbol.append(chars[i]); i += 1 }
            guard ChemicalElement.named(symbol) != nil else {
                throw fail("unknown element '\(symbol)'; known: \(ChemicalElement.known.map(\.symbol).joined(separator: ", "))")
            }
            var digits = ""
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { digits.append(chars[i]); i += 1 }
            var n = 1
            if !digits.isEmpty {
                guard digits.count <= 6, let v = Int(digits), v >= 1 else {
                    throw fail("count '\(digits)' of \(symbol) must be a whole number 1…\(Self.maximumCount)")
                }
                n = v
            }
            let total = counts[symbol, default: 0] + n
            guard total <= Self.maximumCount else { throw fail("more than \(Self.maximumCount) atoms of \(symbol)") }
            counts[symbol] = total
        }
        self.counts = counts
    }

    /// Number of atoms of `element` (0 when absent).
    public func count(of element: ChemicalElement) -> Int { counts[element.symbol] ?? 0 }

    /// The formula with `n` atoms of `element` removed, or `nil` when it has fewer.
    public func removing(_ n: Int, of element: ChemicalElement) -> ElementalFormula? {
        let have = count(of: element)
        guard n >= 0, have >= n else { return nil }
        var c = counts
        c[element.symbol] = have - n
        return ElementalFormula(counts: c)
    }

    /// Hill notation: C first, then H, then the rest alphabetically (`C11H26NO2Si2`).
    public var description: String {
        ChemicalElement.known.compactMap { e in
            counts[e.symbol].map { $0 == 1 ? e.symbol : "\(e.symbol)\($0)" }
        }.joined()
    }
}
