import Foundation
import MLFluxCore
import NeuralNetworks

/// Settings of `MLPImputerTraining.train`.
public struct MLPImputerConfiguration: Codable, Sendable, Equatable {
    /// Width of the residual stream.
    public var width: Int = 256
    /// Hidden width inside each residual block.
    public var hidden: Int = 512
    public var blocks: Int = 3
    public var dropout: Float = 0.1
    public var epochs: Int = 30
    public var batchSize: Int = 256
    /// Adam learning rate at the start; cosine decay to 1 % of it over `epochs`.
    public var learningRate: Float = 1e-3
    public var seed: UInt64 = 1
    /// Tracer experiments kept per training mask (clamped to the layout).
    public var keepExperimentsLow: Int = 1
    public var keepExperimentsHigh: Int = 64
    /// Share of metabolites measured in each kept experiment.
    public var keepMetabolitesLow: Double = 0.1
    public var keepMetabolitesHigh: Double = 0.9
    /// Largest σ of the Gaussian noise put on measured entries (each sample draws σ in 0…this).
    public var noise: Double = 0.01

    public init() {}
}

/// Trains an `MLPImputer` on complete simulated patterns.
///
/// Each step: a mini-batch of patterns; per pattern a random mask (`MaskSampler`, half with the
/// same metabolites in every kept experiment, half drawn per experiment) and Gaussian noise of a
/// random σ ∈ [0, `noise`] on the measured entries (renormalised per MID, `MIDNoise`); the loss
/// is the cross-entropy of the predicted MIDs against the exact ones, **on hidden MIDs only**
/// (`GroupSoftmax.crossEntropy` with weight 1 per hidden MID). Adam, cosine learning rate;
/// after every epoch the imputation MAE on the validation patterns (fixed masks, no noise)
/// decides which epoch's weights are kept.
public enum MLPImputerTraining {
    public struct Epoch: Codable, Sendable {
        public var epoch: Int
        public var trainingLoss: Double
        /// Mean absolute error of the imputed entries on the validation patterns.
        public var validationMAE: Double
        public var seconds: Double
    }

    public static func train(patterns: Matrix, validation: Matrix, layout: LabelingLayout,
                             configuration c: MLPImputerConfiguration,
                             progress: (Epoch) -> Void = { _ in }) -> (imputer: MLPImputer, epochs: [Epoch], best: Int) {
        precondition(patterns.columns == layout.count && validation.columns == layout.count && patterns.rows >= 1)
        let d = layout.count
        var rng = SplitMix64(seed: c.seed)
        let centerF = ImputerTrainingData.meanPattern(patterns)
        let support = MLPImputer.support(of: patterns)
        var network = ResidualMLP(inputs: 2 * d, width: c.width, hidden: c.hidden, blocks: c.blocks, outputs: d,
                                  dropout: c.dropout, using: &rng)
        let softmax = MLPImputer.softmax(for: layout)
        let groups = softmax.groups
        let samplers = ImputerTrainingData.maskSamplers(experiments: c.keepExperimentsLow...max(c.keepExperimentsLow, c.keepExperimentsHigh),
                                                        metabolites: c.keepMetabolitesLow...c.keepMetabolitesHigh)
        // Fixed validation masks.
        var vrng = SplitMix64(seed: c.seed ^ 0x5EED)
        let validationMasks = (0..<validation.rows).map { samplers[$0 % 2].sample(layout, using: &vrng) }

        var adam = Adam(learningRate: c.learningRate)
        var order = Array(0..<patterns.rows)
        var history: [Epoch] = []
        var best = network, bestMAE = Double.infinity, bestEpoch = 0
        for epoch in 0..<c.epochs {
            let clock = Date()
            let t = Float(epoch) / Float(max(c.epochs - 1, 1))
            adam.learningRate = c.learningRate * (0.01 + 0.99 * 0.5 * (1 + cosf(Float.pi * t)))
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var total = 0.0, batches = 0
            var begin = 0
            while begin < order.count {
                let rows = order[begin ..< min(begin + c.batchSize, order.count)]
                begin += rows.count
                let y = patterns.gatherRows(rows)
                var x = Matrix(rows: rows.count, columns: 2 * d)
                var weights = [Float](repeating: 0, count: rows.count * groups.count)
                for b in 0..<rows.count {
                    let mask = samplers[Int(rng.next() & 1)].sample(layout, using: &rng)
                    let sigma = c.noise * Double(rng.next() >> 11) * 0x1p-53
                    let exact = (0..<d).map { Double(y.storage[b * d + $0]) }
                    let noisy = MIDNoise.perturb(exact, mask: mask, sigma: sigma, layout: layout, using: &rng)
                    x.storage.withUnsafeMutableBufferPointer { px in
                        MLPImputer.encode(values: { Float(noisy[$0]) }, mask: { mask[$0] }, center: centerF,
                                          into: px.baseAddress! + b * 2 * d)
                    }
                    for (g, range) in groups.enumerated() where !mask[range.lowerBound] { weights[b * groups.count + g] = 1 }
                }
                let trace = network.forwardTrace(x, using: &rng)
                let p = softmax(trace.output)
                let (loss, g) = softmax.crossEntropy(probabilities: p, targets: y, weights: weights)
                let (grads, _) = network.backward(trace: trace, outputGradient: g)
                adam.update(&network, grads)
                total += Double(loss)
                batches += 1
            }
            let imputer = MLPImputer(network: network, center: centerF, layout: layout, support: support)
            let mae = ImputerTrainingData.validationMAE(imputer, validation, masks: validationMasks)
            let report = Epoch(epoch: epoch, trainingLoss: total / Double(max(batches, 1)), validationMAE: mae,
                               seconds: Date().timeIntervalSince(clock))
            history.append(report)
            progress(report)
            if mae < bestMAE { bestMAE = mae; best = network; bestEpoch = epoch }
        }
        return (MLPImputer(network: best, center: centerF, layout: layout, support: support), history, bestEpoch)
    }
}
