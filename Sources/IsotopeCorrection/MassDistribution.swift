/// Mass distributions (MIDs by nominal mass shift) of independent atom sets.
///
/// The distribution of a union of independent atoms is the convolution of theirs:
/// `(a ∗ b)[k] = Σ_{i+j=k} a[i]·b[j]`. A formula at natural abundance is the convolution
/// of `count` copies of each element's abundance vector (IsoCor's "convolution method",
/// Millard et al., *Bioinformatics* 28, 1294 (2012)).
public enum MassDistribution {
    /// `a ∗ b`, of length `a.count + b.count − 1`.
    /// - Complexity: O(a.count · b.count).
    public static func convolve(_ a: [Double], _ b: [Double]) -> [Double] {
        guard !a.isEmpty, !b.isEmpty else { return [] }
        var out = [Double](repeating: 0, count: a.count + b.count - 1)
        for (i, ai) in a.enumerated() where ai != 0 {
            for (j, bj) in b.enumerated() { out[i + j] += ai * bj }
        }
        return out
    }

    /// `v` convolved with itself `n` times (`[1]` for `n = 0`), by repeated squaring.
    public static func power(_ v: [Double], _ n: Int) -> [Double] {
        precondition(n >= 0)
        var result: [Double] = [1], base = v, e = n
        while e > 0 {
            if e & 1 == 1 { result = convolve(result, base) }
            e >>= 1
            if e > 0 { base = convolve(base, base) }
        }
        return result
    }

    /// The natural-abundance mass distribution of `formula` (entry `k`: fraction of molecules
    /// `k` Da above the monoisotopic mass), full length (Σ count · (isotopes − 1) + 1).
    public static func natural(_ formula: ElementalFormula) -> [Double] {
        var out: [Double] = [1]
        for e in ChemicalElement.known {
            let n = formula.count(of: e)
            if n > 0 { out = convolve(out, power(e.abundances, n)) }
        }
        return out
    }
}
