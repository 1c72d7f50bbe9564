import Foundation
import MLFluxCore
import NeuralNetworks

/// Settings of `PCNNImputerTraining.train`.
public struct PCNNImputerConfiguration: Codable, Sendable, Equatable {
    /// How the labeling is laid out as an image.
    public var arrangement: PCNNArrangement = .channels
    /// Encoder widths per U-Net level (`widths.count` = depth).
    public var widths: [Int] = [32, 64]
    public var kernelSize: Int = 3
    public var epochs: Int = 10
    public var batchSize: Int = 64
    /// Adam learning rate at the start; cosine decay to 1 % of it over `epochs`.
    public var learningRate: Float = 2e-3
    /// `l1` (the imputation MAE itself) or `l2` on the hidden entries.
    public var loss: MaskedLoss = .l1
    public var seed: UInt64 = 1
    /// Tracer experiments kept per training mask (clamped to the layout).
    public var keepExperimentsLow: Int = 1
    public var keepExperimentsHigh: Int = 64
    /// Share of metabolites measured in each kept experiment.
    public var keepMetabolitesLow: Double = 0.1
    public var keepMetabolitesHigh: Double = 0.9
    /// Largest σ of the Gaussian noise put on measured entries (each sample draws σ in 0…this).
    public var noise: Double = 0.01
    /// Stop after the epoch that passes this many seconds of training (`nil`: run every epoch).
    public var maxSeconds: Double?

    public init() {}
}

/// Trains a `PCNNImputer` on complete simulated patterns, the way `MLPImputerTraining` trains
/// the MLP: every step a mini-batch of patterns, each with a fresh random mask (`MaskSampler`,
/// half with the same metabolites in every kept experiment, half drawn per experiment) and
/// Gaussian noise of a random σ ∈ [0, `noise`] on its measured entries (renormalised per MID,
/// `MIDNoise`); the loss (`MaskedLoss`, L1 by default) of the per-MID softmax against the exact
/// pattern **on hidden entries only** (weight 1 on hidden entries, 0 on measured ones and on
/// padding cells). `InpaintingTrainer`: Adam, batch statistics, cosine learning rate; after
/// every epoch the loss on the validation patterns (fixed masks, no noise; with L1 this is their
/// imputation MAE before the support and renormalisation of `ImputedLabeling`) decides which
/// epoch's weights are kept.
public enum PCNNImputerTraining {
    public struct Result: Sendable {
        public var imputer: PCNNImputer
        public var history: TrainingHistory
        /// Imputation MAE of the returned imputer on the validation patterns and masks.
        public var validationMAE: Double
        public var seconds: Double
    }

    public static func train(patterns: Matrix, validation: Matrix, layout: LabelingLayout,
                             configuration c: PCNNImputerConfiguration,
                             progress: @escaping (EpochReport) -> Void = { _ in }) -> Result {
        precondition(patterns.columns == layout.count && validation.columns == layout.count && patterns.rows >= 2 && validation.rows >= 1)
        let clock = Date()
        let d = layout.count
        var center = [Double](repeating: 0, count: d)
        for r in 0..<patterns.rows { for j in 0..<d { center[j] += Double(patterns.storage[r * d + j]) } }
        let centerF = center.map { Float($0 / Double(patterns.rows)) }
        let support = MLPImputer.support(of: patterns)
        let image = PCNNImage(layout: layout, arrangement: c.arrangement)
        var initRNG = SeededRandom(seed: c.seed ^ 0x1417)
        var network = PartialConvUNet(.init(inChannels: image.channels, outChannels: image.channels,
                                            widths: c.widths, kernelSize: c.kernelSize), using: &initRNG)
        let samplers = [
            MaskSampler(experiments: c.keepExperimentsLow...max(c.keepExperimentsLow, c.keepExperimentsHigh),
                        metabolites: c.keepMetabolitesLow...c.keepMetabolitesHigh, sharedMetabolites: true),
            MaskSampler(experiments: c.keepExperimentsLow...max(c.keepExperimentsLow, c.keepExperimentsHigh),
                        metabolites: c.keepMetabolitesLow...c.keepMetabolitesHigh, sharedMetabolites: false),
        ]
        let probe = PCNNImputer(network: network, center: centerF, layout: layout, arrangement: c.arrangement, support: support)

        /// One inpainting batch of `rows` of `data` under `masks`, noise σ per sample.
        func makeBatch(_ data: Matrix, rows: [Int], masks: [[Bool]], sigmas: [Double], rng: inout SeededRandom) -> InpaintingBatch {
            let s = image.size, n = rows.count
            var x = Tensor4(batch: n, channels: image.channels, height: image.height, width: image.width)
            var m = x, target = x, weights = x
            for (b, r) in rows.enumerated() {
                let exact = (0..<d).map { Double(data.storage[r * d + $0]) }
                let noisy = MIDNoise.perturb(exact, mask: masks[b], sigma: sigmas[b], layout: layout, using: &rng)
                x.storage.withUnsafeMutableBufferPointer { px in
                    m.storage.withUnsafeMutableBufferPointer { pm in
                        PCNNImputer.encode(values: { Float(noisy[$0]) }, mask: { masks[b][$0] }, center: centerF, image: image,
                                           x: px.baseAddress! + b * s, m: pm.baseAddress! + b * s)
                    }
                }
                for j in 0..<d {
                    target.storage[b * s + image.cell[j]] = data.storage[r * d + j]
                    if !masks[b][j] { weights.storage[b * s + image.cell[j]] = 1 }
                }
            }
            return InpaintingBatch(input: x, mask: m, target: target, weights: weights)
        }

        // Fixed validation masks, exact inputs, batches of 256.
        var vrng = SeededRandom(seed: c.seed ^ 0x5EED)
        let validationMasks = (0..<validation.rows).map { samplers[$0 % 2].sample(layout, using: &vrng) }
        var validationBatches: [InpaintingBatch] = []
        for start in stride(from: 0, to: validation.rows, by: 256) {
            let rows = Array(start ..< min(start + 256, validation.rows))
            validationBatches.append(makeBatch(validation, rows: rows, masks: rows.map { validationMasks[$0] },
                                               sigmas: rows.map { _ in 0 }, rng: &vrng))
        }

        let bs = min(max(c.batchSize, 2), patterns.rows)
        var starts = Array(stride(from: 0, to: patterns.rows, by: bs))
        if starts.count > 1 && patterns.rows - starts.last! == 1 { starts.removeLast() }
        var order = Array(0..<patterns.rows)
        var config = InpaintingTrainingConfiguration(epochs: c.epochs, batchSize: bs,
                                                     schedule: .cosine(initial: c.learningRate, final: c.learningRate * 0.01, epochs: max(c.epochs - 1, 1)),
                                                     seed: c.seed, loss: c.loss)
        config.patience = nil
        let trainer = InpaintingTrainer(configuration: config, outputTransform: probe.softmax)
        let history = trainer.fit(&network, stepsPerEpoch: starts.count, batch: { _, step, rng in
            if step == 0 {
                for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            }
            let end = step + 1 < starts.count ? starts[step + 1] : patterns.rows
            let rows = Array(order[starts[step] ..< end])
            let masks = rows.map { _ in samplers[Int(rng.next() & 1)].sample(layout, using: &rng) }
            let sigmas = rows.map { _ in c.noise * Double(rng.next() >> 11) * 0x1p-53 }
            return makeBatch(patterns, rows: rows, masks: masks, sigmas: sigmas, rng: &rng)
        }, validation: validationBatches) { report in
            progress(report)
            return c.maxSeconds.map { Date().timeIntervalSince(clock) < $0 } ?? true
        }
        let imputer = PCNNImputer(network: network, center: centerF, layout: layout, arrangement: c.arrangement, support: support)
        let mae = validationMAE(imputer, validation, masks: validationMasks)
        return Result(imputer: imputer, history: history, validationMAE: mae, seconds: Date().timeIntervalSince(clock))
    }

    /// Mean absolute error over the masked entries of `patterns` under `masks` (exact inputs).
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
