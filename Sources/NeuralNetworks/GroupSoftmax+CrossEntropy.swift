#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension GroupSoftmax {
    /// Groups of the given sizes (each ≥ 1) laid end to end, covering every column.
    public init(sizes: [Int]) {
        precondition(sizes.allSatisfy { $0 >= 1 }, "every softmax group has at least one column")
        var start = 0, g: [Range<Int>] = []
        for n in sizes { g.append(start ..< start + n); start += n }
        self.init(width: start, groups: g)
    }

    /// Weighted cross-entropy of the group softmax of `logits` against target distributions,
    /// and its gradient with respect to the **logits** (softmax and loss fused, so stable):
    ///
    /// `L = −(1/W) Σ_rows Σ_groups w_{r,g} Σ_{j∈g} y_j log p_j`, `W = Σ w_{r,g}` (1 when all zero),
    /// `∂L/∂z_j = (w_{r,g}/W)·(p_j·Σ_{k∈g} y_k − y_j)` (`= w(p − y)/W` for targets summing to 1).
    ///
    /// `weights` is `[batch, groups.count]` row-major: 1 for a group the loss counts (e.g. a
    /// hidden MID), 0 for one it ignores. `probabilities` is `self(logits)`. Columns in no group
    /// get a zero gradient.
    public func crossEntropy(probabilities p: Matrix, targets y: Matrix, weights: [Float]) -> (value: Float, gradient: Matrix) {
        precondition(p.rows == y.rows && p.columns == width && y.columns == width, "cross-entropy shapes differ")
        precondition(weights.count == p.rows * groups.count, "cross-entropy needs one weight per row and group")
        let total = weights.reduce(0, +)
        let scale = total > 0 ? 1 / total : 1
        var grad = Matrix(rows: p.rows, columns: width)
        var loss = 0.0
        let w = width, ng = groups.count
        for r in 0..<p.rows {
            for (gi, grp) in groups.enumerated() {
                let wt = weights[r * ng + gi]
                guard wt != 0 else { continue }
                var ysum: Float = 0
                for j in grp { ysum += y.storage[r * w + j] }
                for j in grp {
                    let pj = p.storage[r * w + j], yj = y.storage[r * w + j]
                    if yj != 0 { loss -= Double(wt) * Double(yj) * log(max(Double(pj), 1e-30)) }
                    grad.storage[r * w + j] = wt * scale * (pj * ysum - yj)
                }
            }
        }
        return (Float(loss * Double(scale)), grad)
    }
}
