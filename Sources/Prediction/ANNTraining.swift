import MLFluxCore
import NeuralNetworks

/// Settings of `ANNTraining.train`.
public struct ANNTrainingConfiguration: Sendable, Codable, Equatable {
    /// Hidden layer widths (ReLU); the output layer is linear with 2 outputs per target.
    public var hidden: [Int]
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    /// Ensemble size (independently initialised members).
    public var members: Int
    public var patience: Int
    public var seed: UInt64
    /// Input features (`.logs` adds log-transformed fractions; `.logsSigma` with `noise`).
    public var features: InputFeatures
    /// How each prediction states its uncertainty (a full covariance with `.cholesky`).
    public var head: OutputHead
    /// Noise-aware training: every mini-batch's MIDs perturbed by this model, the sample's σ
    /// an input of the network (needs `features == .logsSigma`); nil = exact MIDs.
    public var noise: MeasurementNoise?

    public init(hidden: [Int] = [256, 256, 256], epochs: Int = 150, batchSize: Int = 128, learningRate: Float = 1e-3,
                members: Int = 1, patience: Int = 25, seed: UInt64 = 1, features: InputFeatures = .logs,
                head: OutputHead = .diagonal, noise: MeasurementNoise? = nil) {
        precondition((noise != nil) == features.usesSigma, "noise-aware training takes the logs-sigma features, and they need a noise model")
        self.features = features
        self.head = head
        self.noise = noise
        self.hidden = hidden
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.members = members
        self.patience = patience
        self.seed = seed
    }
}

/// Trains the ANN flux predictor on simulated (labeling, free flux) pairs.
public enum ANNTraining {
    /// - Parameters:
    ///   - inputs: MIDs `[samples, layout.count]` (Float32).
    ///   - free: free fluxes θ of each sample.
    ///   - progress: per epoch (member index, report); return `false` to stop that member.
    public static func train(network: MetabolicNetwork, basis: FreeFluxBasis, layout: LabelingLayout,
                             inputs: Matrix, free: [[Double]],
                             validation: (inputs: Matrix, free: [[Double]]),
                             configuration c: ANNTrainingConfiguration,
                             progress: ((Int, EpochReport) -> Bool)? = nil) -> (ANNPredictor, [TrainingHistory]) {
        precondition(inputs.columns == layout.count && inputs.rows == free.count)
        let transform = FluxTransform(basis: basis, training: free)
        func targets(_ f: [[Double]]) -> Matrix {
            Matrix(rows: f.count, columns: transform.targetCount, storage: f.flatMap { transform.targets($0) })
        }
        let y = targets(free), yVal = targets(validation.free)
        let features = c.features
        // Noise-aware: the validation rows are perturbed once (a fixed, seeded draw, so the
        // validation loss compares epochs fairly); the training rows afresh in every batch.
        var validationInputs = validation.inputs
        var validationSigma: [Double]? = nil
        if let noise = c.noise {
            var rng = SeededRandom(seed: c.seed ^ 0x5EED_0F_5A11)
            let sigma = (0..<validationInputs.rows).map { _ in noise.drawSigma(using: &rng) }
            noise.perturb(&validationInputs, layout: layout, sigma: sigma, using: &rng)
            validationSigma = sigma
        }
        let rawVal = features.apply(validationInputs, sigma: validationSigma?.map(Float.init))
        // The standardiser sees what the network will see: noisy rows when training with noise
        // (one seeded draw over at most 50,000 rows).
        let scaler: Standardizer
        var augment: BatchTransform? = nil
        var x = inputs
        if let noise = c.noise {
            var rng = SeededRandom(seed: c.seed ^ 0x5CA1_E0F_5A11)
            var sample = inputs.rows(0..<min(inputs.rows, 50_000))
            let sigma = (0..<sample.rows).map { _ in Float(noise.drawSigma(using: &rng)) }
            noise.perturb(&sample, layout: layout, sigma: sigma.map(Double.init), using: &rng)
            scaler = Standardizer(fitting: features.apply(sample, sigma: sigma))
            augment = BatchTransform(outputWidth: features.width(layout.count)) { batch, rng in
                var b = batch
                let sigma = (0..<b.rows).map { _ in noise.drawSigma(using: &rng) }
                noise.perturb(&b, layout: layout, sigma: sigma, using: &rng)
                return scaler.transform(features.apply(b, sigma: sigma.map(Float.init)))
            }
        } else {
            let raw = features.apply(inputs)
            scaler = Standardizer(fitting: raw)
            x = scaler.transform(raw)
        }
        let xVal = scaler.transform(rawVal)
        var members: [ANNMember] = []
        var histories: [TrainingHistory] = []
        for m in 0..<c.members {
            var rng = SeededRandom(seed: c.seed &+ UInt64(m) &* 0x9E37_79B9)
            var mlp = MLP(widths: [features.width(layout.count)] + c.hidden + [c.head.outputWidth(transform.targetCount)], hidden: .relu,
                          output: .identity, using: &rng)
            let trainer = Trainer(loss: c.head.loss, configuration: TrainingConfiguration(
                epochs: c.epochs, batchSize: c.batchSize,
                schedule: .reduceOnPlateau(initial: c.learningRate, factor: 0.5, patience: max(3, c.patience / 3)),
                patience: c.patience, seed: c.seed &+ UInt64(m)))
            let h = trainer.fit(&mlp, inputs: x, targets: y, validation: (xVal, yVal), augment: augment) { report in
                progress?(m, report) ?? true
            }
            histories.append(h)
            members.append(ANNMember(features: features, inputScaler: scaler, mlp: mlp, transform: transform, head: c.head))
        }
        let predictor = ANNPredictor(network: network, basis: basis, layout: layout, members: members, noise: c.noise)
        return (predictor.calibrated(on: validationInputs, sigma: validationSigma, free: validation.free), histories)
    }
}
