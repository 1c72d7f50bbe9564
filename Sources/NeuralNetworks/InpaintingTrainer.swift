import Foundation

/// One mini-batch of an inpainting task: what the network sees, what it should produce and
/// which entries count in the loss.
public struct InpaintingBatch: Sendable {
    /// `[N, inChannels, H, W]`; entries where `mask` is 0 are never read.
    public var input: Tensor4
    /// `[N, 1, H, W]` or `[N, inChannels, H, W]`, 1 = known.
    public var mask: Tensor4
    /// `[N, outChannels, H, W]`, the complete images.
    public var target: Tensor4
    /// `[N, outChannels, H, W]`, the loss weight of each output entry (e.g. 1 on hidden
    /// entries, 0 or a small weight on known ones, 0 on padding; `MaskedLoss.weights`).
    public var weights: Tensor4

    public init(input: Tensor4, mask: Tensor4, target: Tensor4, weights: Tensor4) {
        precondition(mask.batch == input.batch && mask.height == input.height && mask.width == input.width
                     && (mask.channels == 1 || mask.channels == input.channels), "mask shape \(mask.shape) does not fit input \(input.shape)")
        precondition(target.batch == input.batch && target.height == input.height && target.width == input.width,
                     "target shape \(target.shape) does not fit input \(input.shape)")
        precondition(weights.shape == target.shape, "weights shape \(weights.shape) differs from target \(target.shape)")
        self.input = input
        self.mask = mask
        self.target = target
        self.weights = weights
    }

    public var count: Int { input.batch }

    /// The samples `indices`, in that order.
    public func samples(_ indices: some Collection<Int>) -> InpaintingBatch {
        InpaintingBatch(input: input.images(indices), mask: mask.images(indices),
                        target: target.images(indices), weights: weights.images(indices))
    }
}

/// Settings of an `InpaintingTrainer` run.
public struct InpaintingTrainingConfiguration: Sendable {
    public var epochs: Int
    /// Samples per mini-batch (the fixed-data `fit`).
    public var batchSize: Int
    public var schedule: LearningRateSchedule
    /// Stop after this many epochs without a validation improvement (`nil`: never stop early).
    public var patience: Int?
    /// Seeds the generator handed to the batch source (and the shuffles of the fixed-data `fit`).
    public var seed: UInt64
    public var loss: MaskedLoss
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float

    public init(epochs: Int = 50, batchSize: Int = 32, schedule: LearningRateSchedule = .constant(1e-3),
                patience: Int? = nil, seed: UInt64 = 0, loss: MaskedLoss = .l1, beta1: Float = 0.9,
                beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        precondition(epochs >= 0 && batchSize >= 1)
        self.epochs = epochs
        self.batchSize = batchSize
        self.schedule = schedule
        self.patience = patience
        self.seed = seed
        self.loss = loss
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// Trains a `PartialConvUNet` with Adam on a masked loss, optionally through an output
/// transform (a `GroupSoftmax` making groups of outputs sum to 1).
///
/// The prediction is `transform(net(x, M).flattened)` (`[N, outChannels·H·W]`, `(c, y, x)`
/// order), or the raw output without a transform; the loss is `configuration.loss` against
/// `target` with per-entry `weights`. Each step: forward with batch statistics, loss,
/// backward, Adam, running BN statistics updated. After each epoch the validation loss
/// (inference mode, running statistics) decides the best epoch, whose parameters are restored
/// at the end. Nothing is printed; `progress` receives each epoch's report.
public struct InpaintingTrainer: Sendable {
    public var configuration: InpaintingTrainingConfiguration
    public var outputTransform: GroupSoftmax?

    public init(configuration: InpaintingTrainingConfiguration = .init(), outputTransform: GroupSoftmax? = nil) {
        self.configuration = configuration
        self.outputTransform = outputTransform
    }

    /// The network's prediction in inference mode, transformed: `[N, outChannels, H, W]`.
    /// Runs in chunks of `chunk` images, so memory stays bounded for large `N`.
    public func predict(_ model: PartialConvUNet, input: Tensor4, mask: Tensor4, chunk: Int = 256) -> Tensor4 {
        precondition(chunk >= 1, "chunk must be at least 1")
        var storage: [Float] = []
        var shape = (channels: model.configuration.outChannels, height: input.height, width: input.width)
        var begin = 0
        repeat {
            let end = min(begin + chunk, input.batch)
            let whole = begin == 0 && end == input.batch
            var y = model(whole ? input : input.images(begin..<end), mask: whole ? mask : mask.images(begin..<end)).output
            if let t = outputTransform { y = Tensor4(t(y.flattened), channels: y.channels, height: y.height, width: y.width) }
            if whole { return y }
            shape = (y.channels, y.height, y.width)
            storage += y.storage
            begin = end
        } while begin < input.batch
        return Tensor4(batch: input.batch, channels: shape.channels, height: shape.height, width: shape.width, storage: storage)
    }

    /// Loss and parameter gradients on one batch (`training`: batch statistics), with the
    /// trace (for `updateRunningStatistics`) and, when asked, `∂L/∂input`.
    public func lossAndGradients(_ model: PartialConvUNet, _ batch: InpaintingBatch, training: Bool = true,
                                 needsInputGradient: Bool = false)
        -> (loss: Float, gradients: PartialConvUNet.Gradients, trace: PartialConvUNet.Trace, input: Tensor4?) {
        let trace = model.forwardTrace(batch.input, mask: batch.mask, training: training)
        let y = trace.output
        precondition(y.shape == batch.target.shape, "the network outputs \(y.shape), the target is \(batch.target.shape)")
        var prediction = y.flattened
        if let t = outputTransform { prediction = t(prediction) }
        let (value, g) = configuration.loss.valueAndGradient(prediction.storage, batch.target.storage, weights: batch.weights.storage)
        var gy = Matrix(rows: prediction.rows, columns: prediction.columns, storage: g)
        if let t = outputTransform { gy = t.backward(output: prediction, outputGradient: gy) }
        let (grads, gx) = model.backward(trace, outputGradient: Tensor4(gy, channels: y.channels, height: y.height, width: y.width),
                                         needsInputGradient: needsInputGradient)
        return (value, grads, trace, gx)
    }

    /// The loss in inference mode, averaged over `batches` weighted by their total loss weight.
    public func evaluate(_ model: PartialConvUNet, _ batches: [InpaintingBatch]) -> Float {
        var total = 0.0, weight = 0.0
        for b in batches {
            let p = predict(model, input: b.input, mask: b.mask)
            let w = b.weights.storage.reduce(0.0) { $0 + Double($1) }
            total += Double(configuration.loss(p.storage, b.target.storage, weights: b.weights.storage)) * w
            weight += w
        }
        return weight > 0 ? Float(total / weight) : 0
    }

    /// Trains on batches drawn by `batch(epoch, step, &rng)`, `stepsPerEpoch` per epoch; `rng`
    /// is `SeededRandom(configuration.seed)`, so a batch source that draws its samples, masks
    /// and noise from it makes the run reproducible.
    /// - Parameters:
    ///   - validation: batches for the per-epoch validation loss (empty: the training loss decides).
    ///   - progress: called after every epoch; return `false` to stop.
    @discardableResult
    public func fit(_ model: inout PartialConvUNet, stepsPerEpoch: Int,
                    batch: (_ epoch: Int, _ step: Int, _ rng: inout SeededRandom) -> InpaintingBatch,
                    validation: [InpaintingBatch] = [],
                    progress: ((EpochReport) -> Bool)? = nil) -> TrainingHistory {
        precondition(stepsPerEpoch >= 1, "an epoch needs at least one step")
        let c = configuration
        var rng = SeededRandom(seed: c.seed)
        var adam = Adam(learningRate: 0, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon, weightDecay: c.weightDecay)
        var scheduler = LearningRateScheduler(c.schedule)
        var tracker = EpochTracker(model)
        for epoch in 0..<c.epochs {
            let start = DispatchTime.now().uptimeNanoseconds
            adam.learningRate = scheduler.rate(epoch: epoch)
            var total = 0.0, weight = 0.0
            for step in 0..<stepsPerEpoch {
                let b = batch(epoch, step, &rng)
                let (value, grads, trace, _) = lossAndGradients(model, b, training: true)
                model.updateRunningStatistics(trace)
                adam.update(&model, grads)
                let w = b.weights.storage.reduce(0.0) { $0 + Double($1) }
                total += Double(value) * w
                weight += w
            }
            let trainLoss = weight > 0 ? Float(total / weight) : 0
            let valLoss = validation.isEmpty ? trainLoss : evaluate(model, validation)
            scheduler.observe(validationLoss: valLoss)
            let report = EpochReport(epoch: epoch, trainingLoss: trainLoss, validationLoss: valLoss,
                                     seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                                     learningRate: adam.learningRate)
            if !tracker.record(report, model: model, patience: c.patience, progress: progress) { break }
        }
        return tracker.finish(&model)
    }

    /// Trains on a fixed data set: every epoch a seeded shuffle, then consecutive mini-batches
    /// of `configuration.batchSize` (the last one may be smaller; a last batch of one sample is
    /// merged into the one before, since batch statistics need more than one image).
    @discardableResult
    public func fit(_ model: inout PartialConvUNet, data: InpaintingBatch, validation: [InpaintingBatch] = [],
                    progress: ((EpochReport) -> Bool)? = nil) -> TrainingHistory {
        let n = data.count, bs = configuration.batchSize
        precondition(n >= 1, "no training samples")
        var starts = Array(stride(from: 0, to: n, by: bs))
        if starts.count > 1 && n - starts.last! == 1 { starts.removeLast() }
        var order = Array(0..<n)
        return fit(&model, stepsPerEpoch: starts.count, batch: { _, step, rng in
            if step == 0 { seededShuffle(&order, using: &rng) }
            let end = step + 1 < starts.count ? starts[step + 1] : n
            return data.samples(order[starts[step]..<end])
        }, validation: validation, progress: progress)
    }
}
