import MLFluxCore
import NeuralNetworks

/// K-nearest-neighbour regression over simulated labeling patterns (ML-Flux, Fig. 3a): the
/// missing entries of a measurement are the distance-weighted mean of the same entries of the
/// `k` reference patterns nearest to it, distances taken over the **measured entries only**.
///
/// - Distance: Euclidean over measured entries, `d(q, r)² = Σ_{j measured} (q_j − r_j)²`.
/// - Weights: `1/d` (scikit-learn's `weights="distance"`); a reference at distance 0 takes all the
///   weight (several at 0 share it equally), so a query equal to a reference gets that pattern.
/// - σ of an imputed entry: the weighted standard deviation of the neighbours' values.
/// - Each imputed MID is clamped at 0 and rescaled to sum 1 (`ImputedLabeling(completing:…)`).
///
/// Search: exhaustive. One query reads only its measured entries of the reference set, stored
/// entry-major (`referenceByEntry`, `[entries, references]`), so the cost is
/// `O(measured · references)`; a batch of queries uses one BLAS product
/// `[−2q⊙m, m]·[r, r⊙r]ᵀ + ‖q⊙m‖²` for all distances at once (`impute(batch:)`). The `k + 2`
/// best candidates are re-ranked in Float64 on the measured entries, so rounding in the
/// fast distances cannot change which of two nearly equal neighbours wins by much.
public struct KNNImputer: Imputer {
    public let name: String
    public let layout: LabelingLayout
    /// Neighbours averaged (paper: 3; its code: 5).
    public let k: Int
    /// Reference patterns `[references, layout.count]` (row-major).
    public let reference: Matrix
    /// The same values entry-major: `referenceByEntry[j · references + n] = reference[n, j]`.
    let referenceByEntry: [Float]
    /// `[r, r ⊙ r]` per reference, `[references, 2 · layout.count]` (the batched kernel).
    let stacked: Matrix

    public var count: Int { reference.rows }

    /// - Parameters:
    ///   - reference: complete patterns, one per row, in `layout` order (at least one row).
    ///   - k: neighbours to average, `1 … reference.rows`.
    public init(reference: Matrix, k: Int, layout: LabelingLayout, name: String = "knn") {
        precondition(reference.columns == layout.count, "reference rows have \(reference.columns) entries, the layout \(layout.count)")
        precondition(reference.rows >= 1 && k >= 1, "KNN needs at least one reference pattern and k ≥ 1")
        self.name = name
        self.layout = layout
        self.k = min(k, reference.rows)
        self.reference = reference
        let n = reference.rows, d = reference.columns
        referenceByEntry = reference.transposed.storage
        stacked = Matrix(rows: n, columns: 2 * d) { out in
            for r in 0..<n {
                for j in 0..<d {
                    let x = reference.storage[r * d + j]
                    out[r * 2 * d + j] = x
                    out[r * 2 * d + d + j] = x * x
                }
            }
        }
    }

    public func impute(_ measured: MeasuredLabeling) throws -> ImputedLabeling {
        try checkInput(measured)
        let known = measured.mask.indices.filter { measured.mask[$0] }
        let n = count
        var dist = [Float](repeating: 0, count: n)
        referenceByEntry.withUnsafeBufferPointer { ref in
            dist.withUnsafeMutableBufferPointer { pd in
                for j in known {
                    let q = Float(measured.values[j])
                    let col = ref.baseAddress! + j * n
                    for r in 0..<n { let t = col[r] - q; pd[r] += t * t }
                }
            }
        }
        return complete(measured, known: known, squaredDistances: dist[...])
    }

    /// All queries' distances from one matrix product per chunk of 256 queries.
    /// - Complexity: `4 · queries · references · entries` flops.
    public func impute(batch: [MeasuredLabeling]) throws -> [ImputedLabeling] {
        for m in batch { try checkInput(m) }
        let d = layout.count, n = count
        var out: [ImputedLabeling] = []
        out.reserveCapacity(batch.count)
        var start = 0
        while start < batch.count {
            let part = batch[start ..< min(start + 256, batch.count)]
            var q = Matrix(rows: part.count, columns: 2 * d)
            var norms = [Float](repeating: 0, count: part.count)
            for (b, m) in part.enumerated() {
                for j in 0..<d where m.mask[j] {
                    let x = Float(m.values[j])
                    q.storage[b * 2 * d + j] = -2 * x
                    q.storage[b * 2 * d + d + j] = 1
                    norms[b] += x * x
                }
            }
            var dist = Matrix(rows: part.count, columns: n)
            Matrix.gemm(q, stacked, transposeB: true, into: &dist)
            for (b, m) in part.enumerated() {
                for r in 0..<n { dist.storage[b * n + r] += norms[b] }
                let known = m.mask.indices.filter { m.mask[$0] }
                out.append(complete(m, known: known, squaredDistances: dist.storage[(b * n) ..< ((b + 1) * n)]))
            }
            start += part.count
        }
        return out
    }

    /// The neighbours' weighted mean at the missing entries, from approximate squared distances.
    func complete(_ measured: MeasuredLabeling, known: [Int], squaredDistances dist: ArraySlice<Float>) -> ImputedLabeling {
        let d = layout.count
        // The k + 2 smallest approximate distances (insertion into a short sorted list).
        let want = min(k + 2, count)
        var best: [(Float, Int)] = []
        best.reserveCapacity(want + 1)
        for (r, x) in zip(0..., dist) {
            if best.count == want, x >= best[want - 1].0 { continue }
            var i = best.count
            while i > 0 && best[i - 1].0 > x { i -= 1 }
            best.insert((x, r), at: i)
            if best.count > want { best.removeLast() }
        }
        // Exact distances in Float64 over the measured entries, then the k nearest.
        var exact = best.map { _, r -> (Double, Int) in
            var s = 0.0
            for j in known { let t = Double(reference.storage[r * d + j]) - measured.values[j]; s += t * t }
            return (s.squareRoot(), r)
        }
        exact.sort { $0 < $1 }
        let nearest = Array(exact.prefix(k))
        var weights: [Double]
        if nearest[0].0 == 0 {
            weights = nearest.map { $0.0 == 0 ? 1 : 0 }
        } else {
            weights = nearest.map { 1 / $0.0 }
        }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        var estimate = [Double](repeating: 0, count: d), sigma = estimate
        for j in 0..<d where !measured.mask[j] {
            var mean = 0.0
            for (w, (_, r)) in zip(weights, nearest) { mean += w * Double(reference.storage[r * d + j]) }
            var v = 0.0
            for (w, (_, r)) in zip(weights, nearest) { let t = Double(reference.storage[r * d + j]) - mean; v += w * t * t }
            estimate[j] = mean
            sigma[j] = v.squareRoot()
        }
        return ImputedLabeling(completing: measured, estimate: estimate, sigma: sigma)
    }
}
