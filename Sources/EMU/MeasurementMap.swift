/// What the instrument does to a simulated fragment MID before it is compared with data:
/// a linear map `C` (e.g. natural abundance of the derivative's atoms and of the unlabeled
/// positions, see `IsotopeCorrection.CorrectionMatrix`) followed by renormalisation over
/// the measured entries,
///
///     y = C·x / (1ᵀ·C·x),     ∂y/∂θ = (C·∂x/∂θ − y · 1ᵀ·C·∂x/∂θ) / (1ᵀ·C·x),
///
/// where `x` is the simulated (pure tracer) MID of the fragment's traced atoms, M+0 … M+n.
/// The Jacobian of the fit gets the same map (quotient rule above).
public struct MeasurementMap: Hashable, Sendable {
    /// `n + 1`: entries of the fragment's MID.
    public let size: Int
    /// Row-major `size × size`: `matrix[i * size + j]` = `C[i][j]`, all ≥ 0.
    public let matrix: [Double]
    /// `1ᵀ·C`: column sums.
    let columnSums: [Double]

    /// - Precondition: `matrix.count == size²`, finite non-negative entries, each column sum > 0.
    public init(size: Int, matrix: [Double]) {
        precondition(size >= 1 && matrix.count == size * size && matrix.allSatisfy { $0.isFinite && $0 >= 0 })
        self.size = size
        self.matrix = matrix
        self.columnSums = (0..<size).map { j in (0..<size).reduce(0) { $0 + matrix[$1 * size + j] } }
        precondition(columnSums.allSatisfy { $0 > 0 })
    }

    /// Maps `x` (and its Jacobian rows, row-major `size × P`) in place.
    func apply(_ x: UnsafeMutablePointer<Double>, jacobian: UnsafeMutablePointer<Double>?, columns P: Int) {
        let n = size
        var y = [Double](repeating: 0, count: n)
        var s = 0.0
        for i in 0..<n {
            var v = 0.0
            for j in 0..<n { v += matrix[i * n + j] * x[j] }
            y[i] = v
        }
        for j in 0..<n { s += columnSums[j] * x[j] }
        for i in 0..<n { x[i] = y[i] / s }
        guard let jac = jacobian, P > 0 else { return }
        var cj = [Double](repeating: 0, count: n * P)
        var sj = [Double](repeating: 0, count: P)
        for i in 0..<n {
            for j in 0..<n where matrix[i * n + j] != 0 {
                let c = matrix[i * n + j]
                for q in 0..<P { cj[i * P + q] += c * jac[j * P + q] }
            }
        }
        for j in 0..<n { for q in 0..<P { sj[q] += columnSums[j] * jac[j * P + q] } }
        for i in 0..<n { for q in 0..<P { jac[i * P + q] = (cj[i * P + q] - x[i] * sj[q]) / s } }
    }
}
