import Foundation
import MLFluxCore
import NeuralNetworks

/// Imputation accuracy and speed on held-out complete patterns: each pattern is masked
/// (`MaskSampler`), optionally given measurement noise on its measured entries (`MIDNoise`),
/// imputed, and the imputed entries are compared with the exact ones.
public struct ImputationEvaluation: Sendable {
    /// Mean absolute error of the imputed entries against the exact patterns.
    public var meanAbsoluteError: Double
    /// Median over patterns of each pattern's imputation MAE.
    public var medianPatternMAE: Double
    /// 95th percentile over patterns of each pattern's imputation MAE.
    public var p95PatternMAE: Double
    /// Mean absolute noise put on the measured entries (0 for exact inputs): the scale a
    /// noisy-input MAE is compared with.
    public var measuredNoiseMAE: Double
    /// Mean share of entries hidden by the masks, and its range.
    public var hiddenShare: Double
    public var hiddenShareRange: ClosedRange<Double>
    /// Largest `|Σ imputed MID − 1|` (0 up to round-off: every imputed MID is renormalised).
    public var maxSumDeviation: Double
    /// Seconds per pattern imputed one at a time (`impute(_:)`), over `timedSingles` patterns.
    public var secondsPerSingle: Double
    public var timedSingles: Int
    /// Seconds per pattern when the whole set is imputed as one batch (`impute(batch:)`).
    public var secondsPerBatched: Double
    public var patterns: Int

    /// The inputs (masked, possibly noisy) and their completions, in pattern order.
    public var inputs: [MeasuredLabeling] = []
    public var outputs: [ImputedLabeling] = []

    /// Every row of `patterns` masked by `sampler` (masks and noise fixed by `seed`), with noise
    /// of σ `noise` on its measured entries; masked entries hold NaN, `stddev` is `noise` (NaN
    /// when 0). Also returns the summed absolute noise, its count and each row's hidden share.
    public static func maskedInputs(patterns: Matrix, layout: LabelingLayout, sampler: MaskSampler, noise: Double, seed: UInt64)
        -> (inputs: [MeasuredLabeling], stats: (noiseSum: Double, noiseCount: Int, hidden: [Double])) {
        let d = layout.count
        precondition(patterns.columns == d)
        var rng = SplitMix64(seed: seed)
        var inputs: [MeasuredLabeling] = []
        var noiseSum = 0.0, noiseCount = 0, hidden: [Double] = []
        for r in 0..<patterns.rows {
            let truth = (0..<d).map { Double(patterns.storage[r * d + $0]) }
            let mask = sampler.sample(layout, using: &rng)
            let noisy = MIDNoise.perturb(truth, mask: mask, sigma: noise, layout: layout, using: &rng)
            var values = [Double](repeating: .nan, count: d)
            for j in 0..<d where mask[j] {
                values[j] = noisy[j]
                noiseSum += abs(noisy[j] - truth[j])
                noiseCount += 1
            }
            let sd = [Double](repeating: noise > 0 ? noise : .nan, count: d)
            inputs.append(MeasuredLabeling(layout: layout, values: values, stddev: sd, mask: mask))
            hidden.append(Double(mask.lazy.filter { !$0 }.count) / Double(d))
        }
        return (inputs, (noiseSum, noiseCount, hidden))
    }

    /// Runs `imputer` on every row of `patterns` (`[patterns, layout.count]`).
    /// - Parameters:
    ///   - noise: σ of the Gaussian noise on measured entries (0: exact).
    ///   - seed: fixes masks and noise.
    ///   - timedSingles: patterns imputed one at a time to measure the single-query latency.
    public static func run(_ imputer: any Imputer, patterns: Matrix, sampler: MaskSampler, noise: Double,
                           seed: UInt64, timedSingles: Int = 200) throws -> ImputationEvaluation {
        let layout = imputer.layout, d = layout.count
        let (inputs, stats) = maskedInputs(patterns: patterns, layout: layout, sampler: sampler, noise: noise, seed: seed)
        let exact = (0..<patterns.rows).map { r in (0..<d).map { Double(patterns.storage[r * d + $0]) } }
        let noiseSum = stats.noiseSum, noiseCount = stats.noiseCount, hidden = stats.hidden
        // Latency one at a time (after one warm-up call), then throughput as a batch.
        let singles = min(timedSingles, inputs.count)
        if singles > 0 { _ = try imputer.impute(inputs[0]) }
        var clock = DispatchTime.now().uptimeNanoseconds
        for i in 0..<singles { _ = try imputer.impute(inputs[i]) }
        let single = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9 / Double(max(singles, 1))
        clock = DispatchTime.now().uptimeNanoseconds
        let outputs = try imputer.impute(batch: inputs)
        let batched = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9 / Double(max(inputs.count, 1))

        var sum = 0.0, count = 0, perPattern: [Double] = [], sumDev = 0.0
        for (o, truth) in zip(outputs, exact) {
            var s = 0.0, n = 0
            for j in 0..<d where o.imputed[j] { s += abs(o.values[j] - truth[j]); n += 1 }
            sum += s
            count += n
            if n > 0 { perPattern.append(s / Double(n)) }
            for e in layout.experimentIDs.indices {
                for f in layout.fragmentNames.indices {
                    let range = layout.range(experiment: e, fragment: f)
                    if o.imputed[range.lowerBound] { sumDev = max(sumDev, abs(range.reduce(0.0) { $0 + o.values[$1] } - 1)) }
                }
            }
        }
        perPattern.sort()
        func quantile(_ q: Double) -> Double {
            perPattern.isEmpty ? .nan : perPattern[min(perPattern.count - 1, Int(q * Double(perPattern.count - 1) + 0.5))]
        }
        return ImputationEvaluation(
            meanAbsoluteError: count > 0 ? sum / Double(count) : .nan, medianPatternMAE: quantile(0.5),
            p95PatternMAE: quantile(0.95), measuredNoiseMAE: noiseCount > 0 ? noiseSum / Double(noiseCount) : 0,
            hiddenShare: hidden.reduce(0, +) / Double(max(hidden.count, 1)),
            hiddenShareRange: (hidden.min() ?? 0)...(hidden.max() ?? 0), maxSumDeviation: sumDev,
            secondsPerSingle: single, timedSingles: singles, secondsPerBatched: batched, patterns: inputs.count,
            inputs: inputs, outputs: outputs)
    }
}
