import MLFluxCore
import NeuralNetworks

/// What the imputer trainers (masked MLP, PCNN) share: the mean training pattern they centre
/// inputs on, the two mask samplers they draw training and validation masks from, and the
/// imputation error they select the best epoch by.
public enum ImputerTrainingData {
    /// The mean of the rows of `patterns` (`[samples, layout.count]`).
    static func meanPattern(_ patterns: Matrix) -> [Float] {
        let d = patterns.columns
        var center = [Double](repeating: 0, count: d)
        for r in 0..<patterns.rows { for j in 0..<d { center[j] += Double(patterns.storage[r * d + j]) } }
        return center.map { Float($0 / Double(max(patterns.rows, 1))) }
    }

    /// Masks keeping `experiments` tracer experiments and a share `metabolites` of the
    /// metabolites: the same metabolites in every kept experiment, or drawn per experiment.
    static func maskSamplers(experiments: ClosedRange<Int>, metabolites: ClosedRange<Double>) -> [MaskSampler] {
        [MaskSampler(experiments: experiments, metabolites: metabolites, sharedMetabolites: true),
         MaskSampler(experiments: experiments, metabolites: metabolites, sharedMetabolites: false)]
    }

    /// Mean absolute error over the masked entries of `patterns` under `masks` (exact inputs),
    /// imputed in batches of 512; NaN when the imputer fails.
    public static func validationMAE(_ imputer: some Imputer, _ patterns: Matrix, masks: [[Bool]]) -> Double {
        let d = imputer.layout.count
        var sum = 0.0, n = 0
        var start = 0
        while start < patterns.rows {
            let end = min(start + 512, patterns.rows)
            let batch = (start..<end).map { r -> MeasuredLabeling in
                let v = (0..<d).map { Double(patterns.storage[r * d + $0]) }
                return MeasuredLabeling(layout: imputer.layout, values: v, stddev: [Double](repeating: .nan, count: d), mask: masks[r])
            }
            guard let out = try? imputer.impute(batch: batch) else { return .nan }
            for (b, o) in out.enumerated() {
                for j in 0..<d where o.imputed[j] { sum += abs(o.values[j] - batch[b].values[j]); n += 1 }
            }
            start = end
        }
        return n > 0 ? sum / Double(n) : 0
    }
}
