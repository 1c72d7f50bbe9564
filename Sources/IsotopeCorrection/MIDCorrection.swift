import LinearAlgebra

/// A measured MID corrected for natural abundance and tracer purity (IsoCor's result).
public struct CorrectedMID: Equatable, Sendable {
    /// Tracer-derived MID of the traced positions, M+0 … M+n, non-negative, summing to 1.
    public var fractions: [Double]
    /// `measured − C·x` for the unnormalised solution `x`, divided by `Σ measured`
    /// (IsoCor's residuum; the misfit the correction could not explain).
    public var residuum: [Double]
    /// Mean enrichment of the traced positions: `Σ k·fractions[k] / n` (0 for `n = 0`).
    public var meanEnrichment: Double
}

extension CorrectionMatrix {
    /// Why a measurement cannot be corrected.
    public struct CorrectionError: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Corrects a measured MID (fractions or raw areas, M+0 … M+n) as IsoCor does: the
    /// non-negative `x` minimising `‖C·x − measured‖²` (Lawson–Hanson NNLS, where IsoCor uses
    /// L-BFGS-B with bounds — the same convex problem), renormalised to sum 1.
    /// - Throws: `CorrectionError` for a wrong length, a negative or non-finite entry, an
    ///   all-zero measurement, or a solver failure.
    public func correct(_ measured: [Double]) throws -> CorrectedMID {
        let size = tracedAtoms + 1
        guard measured.count == size else {
            throw CorrectionError(reason: "\(measured.count) isotopologues given, \(size) expected (M+0…M+\(tracedAtoms))")
        }
        guard measured.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw CorrectionError(reason: "measured values must be finite and ≥ 0")
        }
        let total = measured.reduce(0, +)
        guard total > 0 else { throw CorrectionError(reason: "every measured value is 0") }
        // Column-major copy for LAPACK.
        var a = [Double](repeating: 0, count: size * size)
        for i in 0..<size { for j in 0..<size { a[i + size * j] = values[i * size + j] } }
        guard let x = LinearAlgebra.nonNegativeLeastSquares(m: size, n: size, a: a, b: measured) else {
            throw CorrectionError(reason: "the non-negative least-squares solve did not converge")
        }
        let sum = x.reduce(0, +)
        guard sum > 0 else { throw CorrectionError(reason: "the corrected MID is all zero") }
        let fitted = apply(x)
        let fractions = x.map { $0 / sum }
        let enrichment = tracedAtoms == 0 ? 0
            : fractions.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element } / Double(tracedAtoms)
        return CorrectedMID(fractions: fractions,
                            residuum: zip(measured, fitted).map { ($0 - $1) / total },
                            meanEnrichment: enrichment)
    }
}
