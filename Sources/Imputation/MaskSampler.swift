import MLFluxCore

/// Random observation masks that mimic partial experiments: a few tracer experiments kept, and
/// in them a subset of the metabolites measured (whole MIDs, as a lab table gives them).
///
/// For one mask: `e` experiments kept, `e` uniform in `experiments` (clamped to the layout);
/// a share `s` uniform in `metabolites`; `max(1, round(s · fragments))` fragments drawn without
/// replacement. With `sharedMetabolites` the same fragments are measured in every kept
/// experiment (one instrument method); otherwise each kept experiment draws its own.
public struct MaskSampler: Sendable, Equatable {
    public var experiments: ClosedRange<Int>
    public var metabolites: ClosedRange<Double>
    public var sharedMetabolites: Bool

    public init(experiments: ClosedRange<Int>, metabolites: ClosedRange<Double>, sharedMetabolites: Bool = true) {
        precondition(experiments.lowerBound >= 1, "at least one experiment is kept")
        precondition(metabolites.lowerBound >= 0 && metabolites.upperBound <= 1, "the metabolite share lies in 0…1")
        self.experiments = experiments
        self.metabolites = metabolites
        self.sharedMetabolites = sharedMetabolites
    }

    /// An entry mask in `layout` order (`true` = measured); at least one MID is measured.
    public func sample(_ layout: LabelingLayout, using rng: inout some RandomNumberGenerator) -> [Bool] {
        let ne = layout.experimentIDs.count, nf = layout.fragmentNames.count
        let lo = min(experiments.lowerBound, ne), hi = min(experiments.upperBound, ne)
        let keepE = lo + Int(rng.next() % UInt64(hi - lo + 1))
        let exps = Self.choose(keepE, from: ne, using: &rng)
        func fragments() -> [Int] {
            let s = metabolites.lowerBound + (metabolites.upperBound - metabolites.lowerBound) * (Double(rng.next() >> 11) * 0x1p-53)
            return Self.choose(max(1, min(nf, Int((s * Double(nf)).rounded()))), from: nf, using: &rng)
        }
        let shared = fragments()
        var mask = [Bool](repeating: false, count: layout.count)
        for e in exps {
            for f in sharedMetabolites ? shared : fragments() {
                for i in layout.range(experiment: e, fragment: f) { mask[i] = true }
            }
        }
        return mask
    }

    /// `count` distinct indices of `0 ..< n` (partial Fisher–Yates), sorted.
    static func choose(_ count: Int, from n: Int, using rng: inout some RandomNumberGenerator) -> [Int] {
        var a = Array(0..<n)
        for i in 0..<min(count, n) {
            let j = i + Int(rng.next() % UInt64(n - i))
            a.swapAt(i, j)
        }
        return a.prefix(count).sorted()
    }
}

/// Measurement noise on MIDs: independent Gaussian noise of σ on every measured entry, then
/// each MID clamped at 0 and rescaled to sum 1 (what a lab reports after correction).
public enum MIDNoise {
    /// `values` with noise on the entries where `mask` is `true` (others untouched).
    public static func perturb(_ values: [Double], mask: [Bool], sigma: Double, layout: LabelingLayout,
                               using rng: inout some RandomNumberGenerator) -> [Double] {
        guard sigma > 0 else { return values }
        var out = values
        for e in layout.experimentIDs.indices {
            for f in layout.fragmentNames.indices {
                let range = layout.range(experiment: e, fragment: f)
                guard mask[range.lowerBound] else { continue }
                var sum = 0.0
                for i in range { out[i] = max(out[i] + sigma * rng.nextGaussian(), 0); sum += out[i] }
                for i in range { out[i] = sum > 0 ? out[i] / sum : 1 / Double(range.count) }
            }
        }
        return out
    }
}
