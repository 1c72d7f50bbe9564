/// Reduced row echelon form by Gauss–Jordan elimination with partial pivoting.
///
/// The matrix is row-major `[rows × width]`; only the first `pivotable` columns may hold
/// pivots. The remaining columns are *augmented* columns (right-hand sides, an identity
/// that records which original rows were combined) and are transformed along.
///
/// An entry counts as zero when `|x| ≤ relativeTolerance · max|A[:, 0..<pivotable]|`.
///
/// - Complexity: O(rows · width · min(rows, pivotable)).
struct RowEchelonForm {
    let rows: Int
    let width: Int
    let pivotable: Int
    /// The transformed matrix, row-major `[rows × width]`.
    private(set) var entries: [Double]
    /// `pivotColumns[i]` is the pivot column of row `i`, for `i < rank`.
    private(set) var pivotColumns: [Int] = []
    /// Absolute tolerance used on the pivotable columns.
    let tolerance: Double

    var rank: Int { pivotColumns.count }

    init(matrix: [Double], rows: Int, width: Int, pivotable: Int, relativeTolerance: Double = 1e-10) {
        precondition(matrix.count == rows * width && pivotable <= width, "RowEchelonForm: bad shape")
        self.rows = rows
        self.width = width
        self.pivotable = pivotable
        var scale = 0.0
        for i in 0..<rows { for j in 0..<pivotable { scale = max(scale, abs(matrix[i * width + j])) } }
        tolerance = relativeTolerance * scale
        entries = matrix
        reduce()
    }

    subscript(_ i: Int, _ j: Int) -> Double { entries[i * width + j] }

    private mutating func reduce() {
        guard tolerance > 0 else { return }  // zero (or empty) pivotable block: rank 0
        var r = 0
        entries.withUnsafeMutableBufferPointer { a in
            for c in 0..<pivotable where r < rows {
                var best = r, bestAbs = abs(a[r * width + c])
                for i in (r + 1)..<rows where abs(a[i * width + c]) > bestAbs {
                    best = i; bestAbs = abs(a[i * width + c])
                }
                guard bestAbs > tolerance else {
                    for i in r..<rows { a[i * width + c] = 0 }  // numerically zero: clean it
                    continue
                }
                if best != r {
                    for j in 0..<width { a.swapAt(r * width + j, best * width + j) }
                }
                let inv = 1 / a[r * width + c]
                for j in 0..<width { a[r * width + j] *= inv }
                a[r * width + c] = 1
                for i in 0..<rows where i != r {
                    let f = a[i * width + c]
                    if f == 0 { continue }
                    for j in 0..<width { a[i * width + j] -= f * a[r * width + j] }
                    a[i * width + c] = 0
                }
                pivotColumns.append(c)
                r += 1
            }
        }
    }

    /// Pivotable columns that hold no pivot, ascending.
    var freeColumns: [Int] {
        var isPivot = [Bool](repeating: false, count: pivotable)
        for c in pivotColumns { isPivot[c] = true }
        return (0..<pivotable).filter { !isPivot[$0] }
    }

    /// Basis of the null space of the pivotable block, one vector per free column
    /// (in `freeColumns` order): 1 on its free column, 0 on the other free columns,
    /// `−R[i, f]` on the pivot column of row `i`. Entries below the tolerance are set to 0.
    func nullSpace() -> [[Double]] {
        freeColumns.map { f in
            var x = [Double](repeating: 0, count: pivotable)
            x[f] = 1
            for (i, p) in pivotColumns.enumerated() {
                let v = -self[i, f]
                x[p] = abs(v) <= max(tolerance, 1e-14) ? 0 : v
            }
            return x
        }
    }
}
