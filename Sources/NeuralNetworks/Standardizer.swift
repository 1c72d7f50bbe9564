/// Per-column standardisation `z = (x − mean) / std`, fitted on training data and stored with
/// the model (safetensors keys `<prefix>.mean` and `<prefix>.std`, both `[columns]`).
///
/// A column with zero spread gets `std = 1`, so it maps to 0 instead of dividing by zero.
public struct Standardizer: Equatable, Sendable {
    /// `[columns]`.
    public var mean: [Float]
    /// `[columns]`, all positive.
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "mean and std lengths differ")
        self.mean = mean
        self.std = std
    }

    /// The identity transform on `columns` columns.
    public static func identity(columns: Int) -> Standardizer {
        Standardizer(mean: .init(repeating: 0, count: columns), std: .init(repeating: 1, count: columns))
    }

    /// Column means and population standard deviations of `data` (accumulated in `Double`).
    public init(fitting data: Matrix) {
        let c = data.columns, n = max(data.rows, 1)
        var s = [Double](repeating: 0, count: c), ss = s
        for r in 0..<data.rows {
            for j in 0..<c { s[j] += Double(data.storage[r * c + j]) }
        }
        for j in 0..<c { s[j] /= Double(n) }
        for r in 0..<data.rows {
            for j in 0..<c { let d = Double(data.storage[r * c + j]) - s[j]; ss[j] += d * d }
        }
        let sd = ss.map { v -> Float in
            let x = Float((v / Double(n)).squareRoot())
            return x > 1e-12 && x.isFinite ? x : 1
        }
        self.init(mean: s.map(Float.init), std: sd)
    }

    public var columns: Int { mean.count }

    /// `(x − mean) / std` column by column.
    public func transform(_ x: Matrix) -> Matrix {
        precondition(x.columns == columns, "standardizer has \(columns) columns, data \(x.columns)")
        var out = x
        let inv = std.map { 1 / $0 }
        for r in 0..<x.rows { for j in 0..<columns { out.storage[r * columns + j] = (x.storage[r * columns + j] - mean[j]) * inv[j] } }
        return out
    }

    /// `z·std + mean` column by column (back to original units).
    public func inverse(_ z: Matrix) -> Matrix {
        precondition(z.columns == columns, "standardizer has \(columns) columns, data \(z.columns)")
        var out = z
        for r in 0..<z.rows { for j in 0..<columns { out.storage[r * columns + j] = z.storage[r * columns + j] * std[j] + mean[j] } }
        return out
    }
}
