/// Distance-weighted acceptance (paper, toy model; Extended Data Fig. 1c,d): builds a training
/// set whose labeling patterns cover pattern space evenly rather than crowding where most
/// flux states map.
///
/// A new pattern `x` is accepted with probability `D / D_max`, where `D` is the mean
/// Euclidean distance from `x` to its `neighbours` nearest patterns already accepted and
/// `D_max` the largest distance between any two accepted patterns (kept up to date as
/// patterns are accepted: each acceptance compares the new pattern with all accepted ones,
/// which the nearest-neighbour search does anyway). The first `neighbours` offers are
/// accepted unconditionally; a probability above 1 (a pattern farther out than any pair so
/// far) accepts. Each offer after the first `neighbours` uses exactly one uniform draw from
/// the generator, so a seeded generator gives a reproducible set.
///
/// - Complexity: `offer` is O(accepted · dimension) (brute-force neighbour search); a set of
///   `N` accepted patterns costs O(N² · dimension) over all offers.
public struct DistanceWeightedAcceptance: Sendable {
    public let neighbours: Int
    /// Accepted patterns, concatenated.
    private var patterns: [Double] = []
    private var dimension = 0
    private var maxDistance = 0.0
    public private(set) var accepted = 0

    public init(neighbours: Int = 10) {
        precondition(neighbours >= 1, "neighbours must be at least 1")
        self.neighbours = neighbours
    }

    /// The largest distance between two accepted patterns (`D_max`).
    public var largestDistance: Double { maxDistance }

    /// Offers a pattern; returns whether it is accepted (and then stored).
    public mutating func offer<G: RandomNumberGenerator>(_ pattern: [Double], using rng: inout G) -> Bool {
        if accepted == 0 { dimension = pattern.count }
        precondition(pattern.count == dimension, "pattern has \(pattern.count) entries, earlier ones \(dimension)")
        let d = dimension, count = accepted, k = neighbours
        // Distances to all accepted patterns: the k smallest (sorted insertion) and the largest.
        var nearest = [Double](repeating: .infinity, count: min(k, max(count, 1)))
        var farthest = 0.0
        patterns.withUnsafeBufferPointer { p in
            for j in 0..<count {
                var s = 0.0
                let base = j * d
                for t in 0..<d {
                    let e = p[base + t] - pattern[t]
                    s += e * e
                }
                let dist = s.squareRoot()
                farthest = max(farthest, dist)
                if dist < nearest[nearest.count - 1] {
                    var pos = nearest.count - 1
                    while pos > 0 && nearest[pos - 1] > dist {
                        nearest[pos] = nearest[pos - 1]
                        pos -= 1
                    }
                    nearest[pos] = dist
                }
            }
        }
        let accept: Bool
        if count < k {
            accept = true
        } else {
            let mean = nearest.reduce(0, +) / Double(nearest.count)
            let u = openUnit(&rng)
            accept = maxDistance > 0 ? u < mean / maxDistance : mean > 0
        }
        if accept {
            patterns += pattern
            accepted += 1
            maxDistance = max(maxDistance, farthest)
        }
        return accept
    }
}
