import LinearAlgebra

/// A dense Float32 matrix stored **row-major**: element `(i, j)` lives at `storage[i * columns + j]`.
///
/// Networks use one sample per row, so a batch is `[batch, features]` and a layer maps
/// `[batch, inputs] → [batch, outputs]`. A row-major `r × c` matrix is, bit for bit, the
/// column-major `c × r` matrix of its transpose; the products below use that to call
/// `cblas_sgemm` (through `LinearAlgebra.gemm`) without copying.
public struct Matrix: Equatable, Sendable, CustomStringConvertible {
    /// Number of rows (samples).
    public let rows: Int
    /// Number of columns (features).
    public let columns: Int
    /// `rows × columns` values, row-major.
    public var storage: [Float]

    /// A matrix with every element equal to `value`.
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && columns >= 0, "negative matrix dimension")
        self.rows = rows
        self.columns = columns
        storage = [Float](repeating: value, count: rows * columns)
    }

    /// Wraps row-major values; `storage.count` must equal `rows × columns`.
    public init(rows: Int, columns: Int, storage: [Float]) {
        precondition(storage.count == rows * columns,
                     "matrix storage has \(storage.count) values, \(rows)×\(columns) needs \(rows * columns)")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix from nested rows (`rows[i][j]` is element `(i, j)`); all rows must have equal length.
    public init(_ rowValues: [[Float]]) {
        let c = rowValues.first?.count ?? 0
        precondition(rowValues.allSatisfy { $0.count == c }, "ragged rows")
        self.init(rows: rowValues.count, columns: c, storage: rowValues.flatMap { $0 })
    }

    /// A matrix whose storage is written by `body` (every element must be initialised).
    @inlinable
    public init(rows: Int, columns: Int,
                unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        self.rows = rows
        self.columns = columns
        storage = [Float](unsafeUninitializedCapacity: rows * columns) { buffer, count in
            body(buffer)
            count = rows * columns
        }
    }

    /// Element `(row, column)`.
    @inlinable
    public subscript(row: Int, column: Int) -> Float {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> [Float] { Array(storage[(i * columns)..<((i + 1) * columns)]) }

    /// The rows at `indices`, in that order (a mini-batch).
    public func gatherRows(_ indices: some Collection<Int>) -> Matrix {
        var out = Matrix(rows: indices.count, columns: columns)
        out.gatherRows(from: self, indices)
        return out
    }

    /// Overwrites `self` with rows `indices` of `source` (`self.rows == indices.count`).
    public mutating func gatherRows(from source: Matrix, _ indices: some Collection<Int>) {
        precondition(indices.count == rows && source.columns == columns)
        let c = columns
        source.storage.withUnsafeBufferPointer { src in
            storage.withUnsafeMutableBufferPointer { dst in
                var r = 0
                for i in indices {
                    dst.baseAddress!.advanced(by: r * c).update(from: src.baseAddress!.advanced(by: i * c), count: c)
                    r += 1
                }
            }
        }
    }

    /// Rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, columns: columns,
               storage: Array(storage[(range.lowerBound * columns)..<(range.upperBound * columns)]))
    }

    /// The transpose, `columns × rows`.
    public var transposed: Matrix {
        Matrix(rows: columns, columns: rows) { out in
            for i in 0..<rows { for j in 0..<columns { out[j * rows + i] = storage[i * columns + j] } }
        }
    }

    public var description: String {
        "Matrix(\(rows)×\(columns))" + (rows * columns <= 64
            ? ": " + (0..<rows).map { row($0).description }.joined(separator: ", ") : "")
    }
}

// MARK: - Products

extension Matrix {
    /// `C ← alpha·op(A)·op(B) + beta·C` for row-major matrices, where `op(X)` is `X` or `Xᵀ`.
    ///
    /// Row-major `C = op(A)·op(B)` is column-major `Cᵀ = op(B)ᵀ·op(A)ᵀ`, so this is one
    /// `sgemm` with the operands swapped (`sgemv` when `C` has one row).
    /// - Complexity: `2·m·n·k` flops.
    @inlinable
    public static func gemm(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
                            alpha: Float = 1, beta: Float = 0, into c: inout Matrix) {
        let m = transposeA ? a.columns : a.rows       // rows of C
        let k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns       // columns of C
        precondition((transposeB ? b.columns : b.rows) == k, "inner dimensions differ: \(k) vs \(transposeB ? b.columns : b.rows)")
        precondition(c.rows == m && c.columns == n, "result is \(c.rows)×\(c.columns), expected \(m)×\(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { c.storage.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
            else { for i in c.storage.indices { c.storage[i] *= beta } }
            return
        }
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    if m == 1 {
                        // One output row (single-sample inference): Cᵀ = op(B)ᵀ·op(A)ᵀ is a
                        // matrix–vector product, and op(A) is k contiguous values either way.
                        LinearAlgebra.gemv(transA: transposeB, m: b.columns, n: b.rows, alpha: alpha,
                                           a: pb.baseAddress!, lda: max(1, b.columns), x: pa.baseAddress!,
                                           beta: beta, y: pc.baseAddress!)
                        return
                    }
                    LinearAlgebra.gemm(transA: transposeB, transB: transposeA, m: n, n: m, k: k, alpha: alpha,
                                       a: pb.baseAddress!, lda: max(1, b.columns),
                                       b: pa.baseAddress!, ldb: max(1, a.columns),
                                       beta: beta, c: pc.baseAddress!, ldc: max(1, n))
                }
            }
        }
    }

    /// `op(A)·op(B)` as a new matrix.
    @inlinable
    public static func matmul(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false) -> Matrix {
        let m = transposeA ? a.columns : a.rows
        let n = transposeB ? b.rows : b.columns
        var c = Matrix(rows: m, columns: n, unsafeUninitialized: { $0.update(repeating: 0) })
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
        return c
    }

    /// Largest absolute element-wise difference (for tests and diagnostics).
    public func maxAbsDifference(_ other: Matrix) -> Float {
        precondition(rows == other.rows && columns == other.columns)
        var d: Float = 0
        for i in storage.indices { d = max(d, abs(storage[i] - other.storage[i])) }
        return d
    }
}
