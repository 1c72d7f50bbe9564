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
    /// Standard deviation of each corrected fraction propagated from the measurement's σ
    /// (`correct(_:stddev:)`), `nil` without one. Linearised: `J·diag(σ²)·Jᵀ` with
    /// `J = (I − f·1ᵀ)/Σx · C⁺` (the unconstrained least-squares solution's derivative, exact
    /// where no fraction sits at the bound 0, conservative where one does).
    public var stddev: [Double]? = nil
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

    /// `correct(_:)` with the σ of each measured value (same units) propagated to the corrected
    /// fractions (`CorrectedMID.stddev`).
    /// - Throws: as `correct(_:)`; `CorrectionError` for a σ list of the wrong length, or a
    ///   negative or non-finite σ.
    public func correct(_ measured: [Double], stddev: [Double]) throws -> CorrectedMID {
        var result = try correct(measured)
        let size = tracedAtoms + 1
        guard stddev.count == size else {
            throw CorrectionError(reason: "\(stddev.count) standard deviations given, \(size) expected")
        }
        guard stddev.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw CorrectionError(reason: "standard deviations must be finite and ≥ 0")
        }
        // C⁺ (column-major) from the least-squares solve of C·X = I.
        var a = [Double](repeating: 0, count: size * size)
        var pinv = [Double](repeating: 0, count: size * size)
        for i in 0..<size {
            pinv[i + size * i] = 1
            for j in 0..<size { a[i + size * j] = values[i * size + j] }
        }
        guard LinearAlgebra.leastSquares(m: size, n: size, nrhs: size, a: &a, b: &pinv) != nil else {
            throw CorrectionError(reason: "the correction matrix could not be inverted to propagate σ")
        }
        // Unnormalised solution x = C⁺·y, its total, and J = (I − f·1ᵀ)/Σx · C⁺.
        let x = (0..<size).map { i in (0..<size).reduce(0.0) { $0 + pinv[i + size * $1] * measured[$1] } }
        let total = x.reduce(0, +)
        guard total > 0 else { return result }
        let f = result.fractions
        let columnSums = (0..<size).map { k in (0..<size).reduce(0.0) { $0 + pinv[$1 + size * k] } }
        result.stddev = (0..<size).map { i in
            var variance = 0.0
            for k in 0..<size {
                let j = (pinv[i + size * k] - f[i] * columnSums[k]) / total
                variance += j * j * stddev[k] * stddev[k]
            }
            return variance.squareRoot()
        }
        return result
    }
}
