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
    /// Loss on the hidden entries: cross-entropy of each hidden MID (as the MLP imputer), or
    /// `l1` (the imputation MAE itself) / `l2` per entry (`MaskedLoss`).
    public var loss: PCNNImputerLoss = .crossEntropy
    /// Validation patterns whose imputation MAE chooses the best epoch (all are scored at the end).
    public var selectionRows: Int = 4096
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

/// The training loss of `PCNNImputerTraining`.
public enum PCNNImputerLoss: String, Codable, Sendable, CaseIterable {
    case crossEntropy = "ce", l1, l2
}

/// Trains a `PCNNImputer` on complete simulated patterns, the way `MLPImputerTraining` trains
/// the MLP: every step a mini-batch of patterns, each with a fresh random mask (`MaskSampler`,
/// half with the same metabolites in every kept experiment, half drawn per experiment) and
/// Gaussian noise of a random σ ∈ [0, `noise`] on its measured entries (renormalised per MID,
/// `MIDNoise`); the loss of the per-MID softmax against the exact pattern **on hidden entries
/// only** — cross-entropy per hidden MID (`GroupSoftmax.crossEntropy`), or L1/L2 per hidden
/// entry through `InpaintingTrainer.lossAndGradients` (weight 1 on hidden entries, 0 on
/// measured ones and on padding cells). Adam with batch statistics (running statistics folded
/// in every step) and cosine decay to 1 % over `epochs`; after every epoch the imputation MAE
/// on the first `selectionRows` validation patterns (fixed masks, exact inputs) decides which
/// epoch's weights are kept.
public enum PCNNImputerTraining {
    public struct Epoch: Codable, Sendable {
        public var epoch: Int
        /// Mean training loss (weighted by the hidden entries of each batch).
        public var trainingLoss: Double
        /// Imputation MAE on the selection part of the validation patterns.
        public var validationMAE: Double
        public var learningRate: Double
        public var seconds: Double
    }

    public struct Result: Sendable {
        public var imputer: PCNNImputer
        public var epochs: [Epoch]
        /// The epoch whose weights were kept (lowest selection MAE).
        public var best: Int
        /// Imputation MAE of the returned imputer on all validation patterns and masks.
        public var validationMAE: Double
        public var seconds: Double
    }

    public static func train(patterns: Matrix, validation: Matrix, layout: LabelingLayout,
                             configuration c: PCNNImputerConfiguration,
                             progress: (Epoch) -> Void = { _ in }) -> Result {
        precondition(patterns.columns == layout.count && validation.columns == layout.count && patterns.rows >= 2 && validation.rows >= 1)
        let clock = Date()
        let d = layout.count
        let centerF = ImputerTrainingData.meanPattern(patterns)
        let support = MLPImputer.support(of: patterns)
        let image = PCNNImage(layout: layout, arrangement: c.arrangement)
        var initRNG = SeededRandom(seed: c.seed ^ 0x1417)
        var network = PartialConvUNet(.init(inChannels: image.channels, outChannels: image.channels,
                                            widths: c.widths, kernelSize: c.kernelSize), using: &initRNG)
        let samplers = ImputerTrainingData.maskSamplers(experiments: c.keepExperimentsLow...max(c.keepExperimentsLow, c.keepExperimentsHigh),
                                                        metabolites: c.keepMetabolitesLow...c.keepMetabolitesHigh)
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

        // Fixed validation masks, exact inputs; the first `selectionRows` choose the best epoch.
        var vrng = SeededRandom(seed: c.seed ^ 0x5EED)
        let validationMasks = (0..<validation.rows).map { samplers[$0 % 2].sample(layout, using: &vrng) }
        let nSel = min(validation.rows, c.selectionRows)
        let selection = validation.rows(0..<nSel), selectionMasks = Array(validationMasks[0..<nSel])

        let bs = min(max(c.batchSize, 2), patterns.rows)
        var starts = Array(stride(from: 0, to: patterns.rows, by: bs))
        if starts.count > 1 && patterns.rows - starts.last! == 1 { starts.removeLast() }
        var order = Array(0..<patterns.rows)
        let probeSoftmax = probe.softmax
        let groups = probeSoftmax.groups
        // l1 / l2 go through InpaintingTrainer's masked loss; cross-entropy is fused with the softmax.
        let masked = InpaintingTrainer(configuration: InpaintingTrainingConfiguration(loss: c.loss == .l2 ? .l2 : .l1),
                                       outputTransform: probeSoftmax)
        let schedule = LearningRateSchedule.cosine(initial: c.learningRate, final: c.learningRate * 0.01, epochs: max(c.epochs - 1, 1))
        var scheduler = LearningRateScheduler(schedule)
        var adam = Adam(learningRate: c.learningRate)
        var rng = SeededRandom(seed: c.seed)
        var history: [Epoch] = []
        var best = network, bestMAE = Double.infinity, bestEpoch = 0
        for epoch in 0..<c.epochs {
            let epochClock = Date()
            adam.learningRate = scheduler.rate(epoch: epoch)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var total = 0.0, weight = 0.0
            for (step, begin) in starts.enumerated() {
                let end = step + 1 < starts.count ? starts[step + 1] : patterns.rows
                let rows = Array(order[begin ..< end])
                let masks = rows.map { _ in samplers[Int(rng.next() & 1)].sample(layout, using: &rng) }
                let sigmas = rows.map { _ in c.noise * Double(rng.next() >> 11) * 0x1p-53 }
                let batch = makeBatch(patterns, rows: rows, masks: masks, sigmas: sigmas, rng: &rng)
                let value: Float, grads: PartialConvUNet.Gradients, trace: PartialConvUNet.Trace
                if c.loss == .crossEntropy {
                    trace = network.forwardTrace(batch.input, mask: batch.mask, training: true)
                    let y = trace.output
                    let p = probeSoftmax(y.flattened)
                    var w = [Float](repeating: 0, count: rows.count * groups.count)
                    for b in 0..<rows.count { for (g, range) in groups.enumerated() where batch.weights.storage[b * image.size + range.lowerBound] > 0 { w[b * groups.count + g] = 1 } }
                    let (v, g) = probeSoftmax.crossEntropy(probabilities: p, targets: batch.target.flattened, weights: w)
                    value = v
                    grads = network.backward(trace, outputGradient: Tensor4(g, channels: y.channels, height: y.height, width: y.width)).parameters
                } else {
                    (value, grads, trace, _) = masked.lossAndGradients(network, batch, training: true)
                }
                network.updateRunningStatistics(trace)
                adam.update(&network, grads)
                let bw = batch.weights.storage.reduce(0.0) { $0 + Double($1) }
                total += Double(value) * bw
                weight += bw
            }
            scheduler.observe(validationLoss: 0)
            let imputer = PCNNImputer(network: network, center: centerF, layout: layout, arrangement: c.arrangement, support: support)
            let mae = ImputerTrainingData.validationMAE(imputer, selection, masks: selectionMasks)
            let report = Epoch(epoch: epoch, trainingLoss: weight > 0 ? total / weight : 0, validationMAE: mae,
                               learningRate: Double(adam.learningRate), seconds: Date().timeIntervalSince(epochClock))
            history.append(report)
            progress(report)
            if mae < bestMAE { bestMAE = mae; best = network; bestEpoch = epoch }
            if let limit = c.maxSeconds, Date().timeIntervalSince(clock) >= limit { break }
        }
        let imputer = PCNNImputer(network: best, center: centerF, layout: layout, arrangement: c.arrangement, support: support)
        let mae = ImputerTrainingData.validationMAE(imputer, validation, masks: validationMasks)
        return Result(imputer: imputer, epochs: history, best: bestEpoch, validationMAE: mae, seconds: Date().timeIntervalSince(clock))
    }
}
