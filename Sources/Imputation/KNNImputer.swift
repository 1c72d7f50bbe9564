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
/// Search: exhaustive, reading only the query's measured entries of the reference set, which
/// is stored entry-major (`referenceByEntry`, `[entries, references]`): `O(measured ·
/// references)` per query. (A BLAS-batched alternative, all distances of 256 queries from one
/// `sgemm` of `[−2q⊙m, m]·[r, r⊙r]ᵀ`, was measured slower on toy and glycolysis — 0.7–1.1 ms vs
/// 0.26–0.75 ms per query on 2 shared cores — since it reads every entry, measured or not.)
/// The `k + 2` best candidates are re-ranked in Float64 on the measured entries, so a query
/// equal to a reference finds it at distance exactly 0.
public struct KNNImputer: Imputer {
    public let name: String
    public let layout: LabelingLayout
    /// Neighbours averaged (paper: 3; its code: 5).
    public let k: Int
    /// Reference patterns `[references, layout.count]` (row-major).
    public let reference: Matrix
    /// The same values entry-major: `referenceByEntry[j · references + n] = reference[n, j]`.
    let referenceByEntry: [Float]

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
        referenceByEntry = reference.transposed.storage
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
