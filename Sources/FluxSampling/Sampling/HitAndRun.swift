/// Artificial centering hit-and-run (ACHR; Kaufman & Smith 1998, as in the COBRA Toolbox's
/// `ACHRSampler` and cobrapy's `ACHRSampler`) on a full-dimensional polytope `{z : A z ≤ b}`.
///
/// Warm-up points are the LP vertices that bound each flux, pulled towards the Chebyshev
/// center (`w = 0.33·vertex + 0.67·center`, as COBRA does with the centroid) so that they
/// are interior. One step: pick a warm-up point `w` at random, direction `u = (w − c)/‖w − c‖`
/// with `c` the running mean of the warm-ups and all points visited so far; the chord
/// through the current point `z` along `u` is cut by every row (`t ∈ [t_min, t_max]`), and
/// `t` is drawn uniformly on the open chord; then `c` is updated. The chain starts at the
/// Chebyshev center. Directions adapt to the shape of the polytope (long axes are proposed
/// more often), which is what makes ACHR mix well on the thin, elongated flux polytopes.
///
/// - Complexity: one step is O(rows + d): the slacks `s = b − A z` are updated in place,
///   `A u` comes from the stored `A w` and the running `A c`; every kept point recomputes the
///   slacks exactly (O(rows · d)) so that round-off cannot accumulate.
struct HitAndRunChain: Sendable {
    let d: Int
    let m: Int
    let a: [Double]
    let b: [Double]
    /// Warm-up points `[k × d]` and their images `A w` `[k × m]`.
    let warmup: [Double]
    let warmupA: [Double]
    let warmupCount: Int
    let start: [Double]
    let thinning: Int
    let burnIn: Int

    init(polytope p: ReducedPolytope, thinning: Int, burnIn: Int) {
        d = p.dimension
        m = p.rows
        a = p.a
        b = p.b
        let center = p.chebyshevCenter
        var points: [[Double]] = p.extremePoints.map { v in zip(v, center).map { 0.33 * $0 + 0.67 * $1 } }
        // Coordinate directions too, so that every axis is proposed even if LP vertices coincide.
        for k in 0..<d {
            for sign in [1.0, -1.0] {
                var u = [Double](repeating: 0, count: d)
                u[k] = sign
                let (_, hi) = Self.chord(a: p.a, b: p.b, d: d, m: m, z: center, u: u)
                if hi.isFinite && hi > 0 {
                    var w = center
                    w[k] += sign * 0.67 * hi
                    points.append(w)
                }
            }
        }
        warmupCount = points.count
        warmup = points.flatMap { $0 }
        var wa = [Double](repeating: 0, count: points.count * m)
        for (j, w) in points.enumerated() {
            for i in 0..<m {
                var s = 0.0
                for k in 0..<d { s += p.a[i * d + k] * w[k] }
                wa[j * m + i] = s
            }
        }
        warmupA = wa
        start = center
        self.thinning = max(1, thinning)
        self.burnIn = max(0, burnIn)
    }

    /// The chord `{t : A(z + t u) ≤ b}` as `[t_min, t_max]`.
    static func chord(a: [Double], b: [Double], d: Int, m: Int, z: [Double], u: [Double]) -> (Double, Double) {
        var lo = -Double.infinity, hi = Double.infinity
        for i in 0..<m {
            var au = 0.0, az = 0.0
            for k in 0..<d { au += a[i * d + k] * u[k]; az += a[i * d + k] * z[k] }
            let s = max(b[i] - az, 0)
            if au > 1e-14 { hi = min(hi, s / au) } else if au < -1e-14 { lo = max(lo, s / au) }
        }
        return (lo, hi)
    }

    /// Runs a fresh chain from the start point and hands `count` kept points to `emit`.
    func run<G: RandomNumberGenerator>(count: Int, using rng: inout G, emit: ([Double]) -> Void) {
        if count <= 0 { return }
        let d = self.d, m = self.m, k = warmupCount
        var z = start
        var slack = [Double](repeating: 0, count: m)
        var center = [Double](repeating: 0, count: d)
        var centerA = [Double](repeating: 0, count: m)
        var u = [Double](repeating: 0, count: d)
        var au = [Double](repeating: 0, count: m)
        a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
        warmup.withUnsafeBufferPointer { w in
        warmupA.withUnsafeBufferPointer { wa in
        z.withUnsafeMutableBufferPointer { z in
        slack.withUnsafeMutableBufferPointer { slack in
        center.withUnsafeMutableBufferPointer { center in
        centerA.withUnsafeMutableBufferPointer { centerA in
        u.withUnsafeMutableBufferPointer { u in
        au.withUnsafeMutableBufferPointer { au in
            for j in 0..<k {
                for c in 0..<d { center[c] += w[j * d + c] }
                for i in 0..<m { centerA[i] += wa[j * m + i] }
            }
            for c in 0..<d { center[c] /= Double(k) }
            for i in 0..<m { centerA[i] /= Double(k) }
            var visited = Double(k)

            @inline(__always) func resetSlack() {
                for i in 0..<m {
                    var s = 0.0
                    for c in 0..<d { s += a[i * d + c] * z[c] }
                    slack[i] = b[i] - s
                }
            }
            @inline(__always) func step(_ rng: inout G) {
                let j = Int(truncatingIfNeeded: rng.next() % UInt64(k))
                var norm = 0.0
                for c in 0..<d {
                    let v = w[j * d + c] - center[c]
                    u[c] = v
                    norm += v * v
                }
                norm = norm.squareRoot()
                guard norm > 1e-14 else { return }
                let inv = 1 / norm
                var lo = -Double.infinity, hi = Double.infinity
                for i in 0..<m {
                    let v = (wa[j * m + i] - centerA[i]) * inv
                    au[i] = v
                    let s = max(slack[i], 0)
                    if v > 1e-14 { hi = min(hi, s / v) } else if v < -1e-14 { lo = max(lo, s / v) }
                }
                guard lo.isFinite, hi.isFinite, hi > lo else { return }
                let t = lo + (hi - lo) * openUnit(&rng)
                let tu = t * inv
                for c in 0..<d { z[c] += tu * u[c] }
                for i in 0..<m { slack[i] -= t * au[i] }
                visited += 1
                let f = 1 / visited
                for c in 0..<d { center[c] += (z[c] - center[c]) * f }
                for i in 0..<m { centerA[i] += ((b[i] - slack[i]) - centerA[i]) * f }
            }

            resetSlack()
            for _ in 0..<burnIn { step(&rng) }
            for _ in 0..<count {
                for _ in 0..<thinning { step(&rng) }
                resetSlack()
                emit(Array(z))
            }
        }}}}}}}}}}
    }
}

/// A uniform double in the open interval (0, 1) from 53 random bits.
@inline(__always)
func openUnit<G: RandomNumberGenerator>(_ rng: inout G) -> Double {
    (Double(rng.next() >> 11) + 0.5) * 0x1p-53
}
