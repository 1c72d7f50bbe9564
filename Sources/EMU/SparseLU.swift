/// A sparse LU factorisation with a pattern fixed at compile time, for the strongly
/// connected blocks of an EMU level.
///
/// EMU matrices `A = diag(total production) − coupling` are row diagonally dominant
/// (the coupling into an EMU never exceeds its pool's total production), so Gaussian
/// elimination needs no pivoting for stability: the elimination order can be chosen
/// for sparsity alone (greedy minimum degree) once per network, and each flux state
/// only runs the precomputed numeric operations. Triangular solves work on row-major
/// right-hand sides (one contiguous row per EMU), so all experiments and all derivative
/// columns are processed by the same contiguous `axpy` loops.
///
/// - Complexity: symbolic O(b³) once (b = block size); numeric factorisation
///   O(Σ_k |L_k|·|U_k|); a solve with `w` right-hand sides O(nnz(L+U)·w).
struct SparseLU: Sendable {
    /// Block size.
    let n: Int
    /// Packed index of `U[k,k]`.
    let pivot: [Int32]
    /// Entries `L[i,k]` of column `k`: `lStart[k] ..< lStart[k+1]` into `lRow`/`lIndex`.
    let lStart: [Int], lRow: [Int32], lIndex: [Int32]
    /// Entries `U[k,j]`, j > k, of row `k`: `uStart[k] ..< uStart[k+1]` into `uCol`/`uIndex`.
    let uStart: [Int], uCol: [Int32], uIndex: [Int32]
    /// Elimination updates of pivot `k` (`updStart[k] ..< updStart[k+1]`):
    /// `a[target] −= a[l] · a[u]`.
    let updStart: [Int], updTarget: [Int32], updL: [Int32], updU: [Int32]
    /// Number of packed values (structural nonzeros of L + U including fill).
    let valueCount: Int
    /// `index[i * n + j]` = packed index of entry (i, j), or -1 if structurally zero.
    let index: [Int32]

    /// Greedy minimum-degree order of a structurally symmetric-ised pattern.
    /// `pattern[i]` holds the columns of row `i` (off-diagonal).
    static func minimumDegreeOrder(n: Int, pattern: [[Int]]) -> [Int] {
        var adj = [Set<Int>](repeating: [], count: n)
        for i in 0..<n { for j in pattern[i] where j != i { adj[i].insert(j); adj[j].insert(i) } }
        var eliminated = [Bool](repeating: false, count: n)
        var order: [Int] = []
        for _ in 0..<n {
            var best = -1
            for v in 0..<n where !eliminated[v] {
                if best < 0 || adj[v].count < adj[best].count { best = v }
            }
            order.append(best)
            eliminated[best] = true
            let nbrs = Array(adj[best])
            for a in nbrs {
                adj[a].remove(best)
                for b in nbrs where b != a { adj[a].insert(b) }
            }
            adj[best] = []
        }
        return order
    }

    /// Symbolic factorisation of the `n×n` pattern (diagonal implied), rows/columns
    /// already in elimination order.
    init(n: Int, pattern: [[Int]]) {
        self.n = n
        var nz = [Bool](repeating: false, count: n * n)
        for i in 0..<n {
            nz[i * n + i] = true
            for j in pattern[i] { nz[i * n + j] = true }
        }
        for k in 0..<n {
            for i in (k + 1)..<n where nz[i * n + k] {
                for j in (k + 1)..<n where nz[k * n + j] { nz[i * n + j] = true }
            }
        }
        var index = [Int32](repeating: -1, count: n * n)
        var count: Int32 = 0
        for p in 0..<(n * n) where nz[p] { index[p] = count; count += 1 }
        var pivot: [Int32] = [], lStart = [0], lRow: [Int32] = [], lIndex: [Int32] = []
        var uStart = [0], uCol: [Int32] = [], uIndex: [Int32] = []
        var updStart = [0], updTarget: [Int32] = [], updL: [Int32] = [], updU: [Int32] = []
        for k in 0..<n {
            pivot.append(index[k * n + k])
            for i in (k + 1)..<n where nz[i * n + k] { lRow.append(Int32(i)); lIndex.append(index[i * n + k]) }
            for j in (k + 1)..<n where nz[k * n + j] { uCol.append(Int32(j)); uIndex.append(index[k * n + j]) }
            for i in (k + 1)..<n where nz[i * n + k] {
                for j in (k + 1)..<n where nz[k * n + j] {
                    updTarget.append(index[i * n + j]); updL.append(index[i * n + k]); updU.append(index[k * n + j])
                }
            }
            lStart.append(lRow.count); uStart.append(uCol.count); updStart.append(updTarget.count)
        }
        self.pivot = pivot
        self.lStart = lStart; self.lRow = lRow; self.lIndex = lIndex
        self.uStart = uStart; self.uCol = uCol; self.uIndex = uIndex
        self.updStart = updStart; self.updTarget = updTarget; self.updL = updL; self.updU = updU
        self.valueCount = Int(count)
        self.index = index
    }

    /// In-place numeric factorisation of the packed values `a` (filled with the matrix
    /// entries, fill positions zero). Returns the local index of the first pivot whose
    /// magnitude is ≤ `tolerance`, or `nil` on success.
    func factor(_ a: UnsafeMutablePointer<Double>, tolerance: Double) -> Int? {
        for k in 0..<n {
            let p = a[Int(pivot[k])]
            if !(abs(p) > tolerance) { return k }
            let inv = 1 / p
            for e in lStart[k]..<lStart[k + 1] { a[Int(lIndex[e])] *= inv }
            for e in updStart[k]..<updStart[k + 1] {
                a[Int(updTarget[e])] -= a[Int(updL[e])] * a[Int(updU[e])]
            }
        }
        return nil
    }

    /// Solves `A·X = B` in place; row `i` of `X` starts at `x + i * stride` and has `width` entries.
    func solve(_ a: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>, width: Int, stride: Int) {
        for k in 0..<n {
            let xk = x + k * stride
            for e in lStart[k]..<lStart[k + 1] {
                let l = a[Int(lIndex[e])]
                let xi = x + Int(lRow[e]) * stride
                for c in 0..<width { xi[c] -= l * xk[c] }
            }
        }
        var k = n - 1
        while k >= 0 {
            defer { k -= 1 }
            let xk = x + k * stride
            for e in uStart[k]..<uStart[k + 1] {
                let u = a[Int(uIndex[e])]
                let xj = x + Int(uCol[e]) * stride
                for c in 0..<width { xk[c] -= u * xj[c] }
            }
            let inv = 1 / a[Int(pivot[k])]
            for c in 0..<width { xk[c] *= inv }
        }
    }
}
