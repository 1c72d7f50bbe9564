#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A softmax over each of several groups of entries of a flattened sample, so that every
/// group is non-negative and sums to 1 (e.g. one group per mass isotopomer distribution).
///
/// For a sample `x` (`width` values) and each group `g` (a range of indices):
/// `y_i = e^{x_i} / Σ_{j∈g} e^{x_j}` for `i ∈ g`; entries in no group pass through (`y_i = x_i`).
/// Groups must be non-empty, disjoint and inside `0..<width`.
///
/// Backward, per group: `∂L/∂x_i = y_i·(G_i − Σ_{j∈g} y_j G_j)`; identity elsewhere.
///
/// Applied to a `PartialConvUNet` output, the flattened sample is `Tensor4.flattened`'s row
/// (`(c, y, x)` order), so index `(c·H + y)·W + x` is channel `c`, cell `(y, x)`.
public struct GroupSoftmax: Equatable, Sendable {
    /// Values per sample.
    public let width: Int
    public let groups: [Range<Int>]

    public init(width: Int, groups: [Range<Int>]) {
        let sorted = groups.sorted { $0.lowerBound < $1.lowerBound }
        precondition(sorted.allSatisfy { !$0.isEmpty && $0.lowerBound >= 0 && $0.upperBound <= width },
                     "every softmax group must be non-empty and inside 0..<\(width)")
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            precondition(a.upperBound <= b.lowerBound, "softmax groups \(a) and \(b) overlap")
        }
        self.width = width
        self.groups = groups
    }

    /// `[N, width] → [N, width]`.
    /// - Complexity: `O(N·width)`.
    public func callAsFunction(_ x: Matrix) -> Matrix {
        precondition(x.columns == width, "GroupSoftmax expects \(width) columns, got \(x.columns)")
        var y = x
        for r in 0..<x.rows {
            let base = r * width
            for g in groups {
                var m = -Float.infinity
                for i in g { m = max(m, x.storage[base + i]) }
                var s: Float = 0
                for i in g {
                    let e = expf(x.storage[base + i] - m)
                    y.storage[base + i] = e
                    s += e
                }
                let inv = 1 / s
                for i in g { y.storage[base + i] *= inv }
            }
        }
        return y
    }

    /// `∂L/∂x` from the forward output `y` and `∂L/∂y`.
    public func backward(output y: Matrix, outputGradient g: Matrix) -> Matrix {
        precondition(y.columns == width && g.columns == width && y.rows == g.rows, "GroupSoftmax backward: shapes differ")
        var gx = g
        for r in 0..<y.rows {
            let base = r * width
            for grp in groups {
                var dot: Float = 0
                for i in grp { dot += y.storage[base + i] * g.storage[base + i] }
                for i in grp { gx.storage[base + i] = y.storage[base + i] * (g.storage[base + i] - dot) }
            }
        }
        return gx
    }
}
