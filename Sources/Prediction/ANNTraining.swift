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
    /// Input features (`.logs` adds log-transformed fractions).
    public var features: InputFeatures

    public init(hidden: [Int] = [256, 256, 256], epochs: Int = 150, batchSize: Int = 128, learningRate: Float = 1e-3,
                members: Int = 1, patience: Int = 25, seed: UInt64 = 1, features: InputFeatures = .logs) {
        self.features = features
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
        let raw = c.features.apply(inputs), rawVal = c.features.apply(validation.inputs)
        let scaler = Standardizer(fitting: raw)
        let x = scaler.transform(raw), xVal = scaler.transform(rawVal)
        var members: [ANNMember] = []
        var histories: [TrainingHistory] = []
        for m in 0..<c.members {
            var rng = SeededRandom(seed: c.seed &+ UInt64(m) &* 0x9E37_79B9)
            var mlp = MLP(widths: [c.features.width(layout.count)] + c.hidden + [2 * transform.targetCount], hidden: .relu,
                          output: .identity, using: &rng)
            let trainer = Trainer(loss: .gaussianNLL, configuration: TrainingConfiguration(
                epochs: c.epochs, batchSize: c.batchSize,
                schedule: .reduceOnPlateau(initial: c.learningRate, factor: 0.5, patience: max(3, c.patience / 3)),
                patience: c.patience, seed: c.seed &+ UInt64(m)))
            let h = trainer.fit(&mlp, inputs: x, targets: y, validation: (xVal, yVal)) { report in
                progress?(m, report) ?? true
            }
            histories.append(h)
            members.append(ANNMember(features: c.features, inputScaler: scaler, mlp: mlp, transform: transform))
        }
        let predictor = ANNPredictor(network: network, basis: basis, layout: layout, members: members)
        return (predictor.calibrated(on: validation.inputs, free: validation.free), histories)
    }
}
