import Foundation

/// Settings of a `Trainer` run.
public struct TrainingConfiguration: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var schedule: LearningRateSchedule
    /// Stop after this many epochs without a validation improvement (`nil`: never stop early).
    public var patience: Int?
    /// Seeds the per-epoch shuffle; same seed, data and initial model → identical weights.
    public var seed: UInt64
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float

    public init(epochs: Int = 100, batchSize: Int = 64, schedule: LearningRateSchedule = .constant(1e-3),
                patience: Int? = nil, seed: UInt64 = 0, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        precondition(epochs >= 0 && batchSize >= 1)
        self.epochs = epochs
        self.batchSize = batchSize
        self.schedule = schedule
        self.patience = patience
        self.seed = seed
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// What happened in one epoch (passed to the progress callback and kept in the history).
public struct EpochReport: Sendable, Equatable {
    /// 0-based.
    public var epoch: Int
    /// Mean training loss over the epoch's mini-batches (weighted by batch size).
    public var trainingLoss: Float
    /// Loss on the validation set after the epoch (the training loss when there is none).
    public var validationLoss: Float
    /// Wall-clock seconds of the epoch.
    public var seconds: Double
    public var learningRate: Float
}

/// The outcome of `Trainer.fit`.
public struct TrainingHistory: Sendable {
    public var epochs: [EpochReport]
    /// Epoch whose parameters were restored (lowest validation loss).
    public var bestEpoch: Int
    public var bestValidationLoss: Float
    public var stoppedEarly: Bool
}

/// A map applied to every training mini-batch before the forward pass: raw input rows
/// `[batch, inputs.columns]` → network inputs `[batch, outputWidth]` — e.g. measurement
/// noise drawn afresh for every batch, then features and standardisation. It takes the
/// trainer's augmentation generator (seeded from the training seed, separate from the
/// shuffle), so a run stays reproducible.
public struct BatchTransform: Sendable {
    public var outputWidth: Int
    public var apply: @Sendable (Matrix, inout SeededRandom) -> Matrix

    public init(outputWidth: Int, apply: @escaping @Sendable (Matrix, inout SeededRandom) -> Matrix) {
        self.outputWidth = outputWidth
        self.apply = apply
    }
}

/// Mini-batch training of an `MLP` with Adam.
///
/// Each epoch: shuffle the sample order (`SeededRandom(seed)`, Fisher–Yates, so the order is
/// reproducible), take consecutive mini-batches (the last one may be smaller), forward, loss
/// gradient, backward, Adam step; then evaluate the validation loss. The parameters of the
/// epoch with the lowest validation loss are copied aside and restored at the end; training
/// stops early after `patience` epochs without improvement.
public struct Trainer: Sendable {
    public var configuration: TrainingConfiguration
    public var loss: Loss

    public init(loss: Loss, configuration: TrainingConfiguration = .init()) {
        self.loss = loss
        self.configuration = configuration
    }

    /// Trains `model` in place on rows of `inputs` (`[samples, inputWidth]`) and `targets`
    /// (`[samples, targetWidth]`), validating on `validation` when given.
    /// - Parameters:
    ///   - augment: maps each mini-batch of raw `inputs` rows to network inputs (then
    ///     `inputs` may have any width and `validation.inputs` are network inputs already).
    ///   - progress: called after every epoch; return `false` to stop.
    @discardableResult
    public func fit(_ model: inout MLP, inputs: Matrix, targets: Matrix,
                    validation: (inputs: Matrix, targets: Matrix)? = nil,
                    augment: BatchTransform? = nil,
                    progress: ((EpochReport) -> Bool)? = nil) -> TrainingHistory {
        precondition(inputs.rows == targets.rows, "\(inputs.rows) inputs but \(targets.rows) targets")
        precondition((augment?.outputWidth ?? inputs.columns) == model.inputWidth,
                     "inputs have \(augment?.outputWidth ?? inputs.columns) columns, model takes \(model.inputWidth)")
        let c = configuration
        var rng = SeededRandom(seed: c.seed)
        var augmentRNG = SeededRandom(seed: c.seed ^ 0xA5A5_5A5A_D1CE_F00D)
        var adam = Adam(learningRate: 0, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon, weightDecay: c.weightDecay)
        var scheduler = LearningRateScheduler(c.schedule)
        var order = Array(0..<inputs.rows)
        var tracker = EpochTracker(model)
        let n = inputs.rows
        var full = TrainingWorkspace(model: model, batchSize: c.batchSize, targetWidth: targets.columns)
        for epoch in 0..<c.epochs {
            let start = DispatchTime.now().uptimeNanoseconds
            adam.learningRate = scheduler.rate(epoch: epoch)
            seededShuffle(&order, using: &rng)
            var total = 0.0
            var begin = 0
            while begin < n {
                let end = min(begin + c.batchSize, n)
                var idx = order[begin..<end]
                var batchInputs = inputs, batchTargets = targets
                if let augment {
                    batchInputs = augment.apply(inputs.gatherRows(idx), &augmentRNG)
                    batchTargets = targets.gatherRows(idx)
                    idx = Array(0..<(end - begin))[...]
                }
                if end - begin == c.batchSize {
                    total += Double(full.step(&model, loss: loss, inputs: batchInputs, targets: batchTargets, rows: idx)) * Double(end - begin)
                    adam.update(&model, full.gradients)
                } else {
                    var last = TrainingWorkspace(model: model, batchSize: end - begin, targetWidth: targets.columns)
                    total += Double(last.step(&model, loss: loss, inputs: batchInputs, targets: batchTargets, rows: idx)) * Double(end - begin)
                    adam.update(&model, last.gradients)
                }
                begin = end
            }
            let trainLoss = Float(total / Double(max(n, 1)))
            let valLoss = validation.map { evaluate(model, inputs: $0.inputs, targets: $0.targets) } ?? trainLoss
            scheduler.observe(validationLoss: valLoss)
            let report = EpochReport(epoch: epoch, trainingLoss: trainLoss, validationLoss: valLoss,
                                     seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                                     learningRate: adam.learningRate)
            if !tracker.record(report, model: model, patience: c.patience, progress: progress) { break }
        }
        return tracker.finish(&model)
    }

    /// The loss of `model` on a whole data set, in chunks of 4096 rows (sample-weighted mean).
    public func evaluate(_ model: MLP, inputs: Matrix, targets: Matrix) -> Float {
        var total = 0.0, begin = 0
        while begin < inputs.rows {
            let end = min(begin + 4096, inputs.rows)
            total += Double(loss(model(inputs.rows(begin..<end)), targets.rows(begin..<end))) * Double(end - begin)
            begin = end
        }
        return Float(total / Double(max(inputs.rows, 1)))
    }
}

/// Preallocated buffers for one mini-batch size: the gathered batch, every layer's output,
/// every layer's `∂L/∂z`, and the parameter gradients. Reusing them keeps the training loop
/// free of allocations (the weight gradients alone are 0.5 MB for 256-wide layers, which
/// `malloc` would otherwise map and zero-fill on every step).
public struct TrainingWorkspace: Sendable {
    public let batchSize: Int
    /// `[batch, inputWidth]` then each layer's output.
    var activations: [Matrix]
    /// `∂L/∂z` of each layer, `[batch, outputs]`.
    var deltas: [Matrix]
    var targets: Matrix
    /// Gradients of the last `step`, in `MLP.parameters` order.
    public private(set) var gradients: MLP.Gradients

    public init(model: MLP, batchSize: Int, targetWidth: Int) {
        self.batchSize = batchSize
        activations = model.widths.map { Matrix(rows: batchSize, columns: $0) }
        deltas = model.layers.map { Matrix(rows: batchSize, columns: $0.outputs) }
        targets = Matrix(rows: batchSize, columns: targetWidth)
        gradients = model.layers.map {
            Dense.Gradients(weight: Matrix(rows: $0.inputs, columns: $0.outputs), bias: .init(repeating: 0, count: $0.outputs))
        }
    }

    /// Forward and backward on rows `rows` of `inputs`/`targets` (`rows.count == batchSize`);
    /// leaves the parameter gradients in `gradients` and returns the loss.
    /// - Complexity: `2·B·Σ io` (forward) + `2·B·Σ io` (weights) + `2·B·Σ_{i>0} io` (inputs) flops.
    public mutating func step(_ model: inout MLP, loss: Loss, inputs: Matrix, targets y: Matrix,
                              rows: some Collection<Int>) -> Float {
        precondition(rows.count == batchSize, "workspace is for batches of \(batchSize), got \(rows.count)")
        activations[0].gatherRows(from: inputs, rows)
        targets.gatherRows(from: y, rows)
        let layers = model.layers
        for i in layers.indices {
            let x = activations[i]
            layers[i].forward(x, into: &activations[i + 1])
        }
        let (value, g) = loss.valueAndGradient(activations[layers.count], targets)
        deltas[layers.count - 1] = g
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let x = activations[i], out = activations[i + 1]
            layers[i].backwardInPlace(input: x, output: out, delta: &deltas[i])
            let d = deltas[i]
            layers[i].accumulateParameterGradients(input: x, delta: d, into: &gradients[i], beta: 0)
            if i > 0 { layers[i].inputGradient(delta: d, into: &deltas[i - 1]) }
        }
        return value
    }
}
