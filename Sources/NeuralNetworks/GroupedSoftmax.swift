#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A softmax over each of several contiguous column groups: for a row `z` and a group `G`,
/// `p_j = e^(z_j) / Σ_{k∈G} e^(z_k)` for `j ∈ G`. Every group of every row is a probability
/// distribution (non-negative, summing to 1). Groups tile the columns: `groups[0]` starts at
/// column 0 and each next one starts where the previous ends.
///
/// Used for outputs that are several distributions at once (e.g. one per MID).
public struct GroupedSoftmax: Equatable, Sendable {
    /// Column ranges, in order, covering `0 ..< width` without gaps.
    public let groups: [Range<Int>]
    public var width: Int { groups.last?.upperBound ?? 0 }

    /// Groups of the given sizes (each ≥ 1), laid end to end.
    public init(sizes: [Int]) {
        precondition(sizes.allSatisfy { $0 >= 1 }, "every softmax group has at least one column")
        var start = 0, g: [Range<Int>] = []
        for n in sizes { g.append(start ..< start + n); start += n }
        groups = g
    }

    /// Probabilities, `[batch, width] → [batch, width]` (max-subtracted, so no overflow).
    public func callAsFunction(_ z: Matrix) -> Matrix {
        precondition(z.columns == width, "grouped softmax over \(width) columns, got \(z.columns)")
        var p = z
        let w = width
        p.storage.withUnsafeMutableBufferPointer { pp in
            for r in 0..<z.rows {
                let row = pp.baseAddress! + r * w
                for g in groups {
                    var m = -Float.infinity
                    for j in g { m = max(m, row[j]) }
                    var s: Float = 0
                    for j in g { row[j] = expf(row[j] - m); s += row[j] }
                    let inv = 1 / s
                    for j in g { row[j] *= inv }
                }
            }
        }
        return p
    }

    /// `∂L/∂z` from the probabilities `p` and `∂L/∂p`: per group, `p ⊙ (g − Σ_G g·p)`.
    public func backward(probabilities p: Matrix, outputGradient g: Matrix) -> Matrix {
        precondition(p.rows == g.rows && p.columns == width && g.columns == width)
        var out = g
        let w = width
        for r in 0..<p.rows {
            for grp in groups {
                var s: Float = 0
                for j in grp { s += g.storage[r * w + j] * p.storage[r * w + j] }
                for j in grp { out.storage[r * w + j] = p.storage[r * w + j] * (g.storage[r * w + j] - s) }
            }
        }
        return out
    }

    /// Weighted cross-entropy of the grouped softmax of `logits` against target distributions,
    /// and its gradient with respect to the **logits** (softmax and loss fused, so stable):
    ///
    /// `L = −(1/W) Σ_rows Σ_groups w_{r,g} Σ_{j∈g} y_j log p_j`, `W = Σ w_{r,g}` (1 when all zero),
    /// `∂L/∂z_j = (w_{r,g}/W)·(p_j·Σ_{k∈g} y_k − y_j)` (`= w(p − y)/W` for targets summing to 1).
    ///
    /// `weights` is `[batch, groups.count]` row-major: 1 for a group the loss counts (e.g. a
    /// hidden MID), 0 for one it ignores. `probabilities` is `self(logits)`.
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
