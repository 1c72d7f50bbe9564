import XCTest
import NeuralNetworks
import TestSupport

final class TrainingTests: XCTestCase {
    /// y = A·x + b with a single identity layer: the fit recovers A and b.
    func testLearnsALinearMap() {
        var rng = SplitMix64(seed: 21)
        let a = randomMatrix(3, 2, using: &rng)            // [inputs, outputs]: y = x·A + b
        let b: [Float] = [0.5, -1]
        let x = randomMatrix(512, 3, using: &rng)
        var y = Matrix.matmul(x, a)
        for r in 0..<y.rows { for j in 0..<2 { y[r, j] += b[j] } }
        var model = MLP(widths: [3, 2], output: .identity, using: &rng)
        let trainer = Trainer(loss: .mse, configuration: .init(epochs: 60, batchSize: 32, schedule: .constant(0.02), seed: 1))
        let history = trainer.fit(&model, inputs: x, targets: y)
        XCTAssertLessThan(history.bestValidationLoss, 1e-5)
        XCTAssertLessThan(model.layers[0].weight.maxAbsDifference(a), 5e-3)
        for j in 0..<2 { XCTAssertEqual(model.layers[0].bias[j], b[j], accuracy: 5e-3) }
    }

    /// A small ReLU network fits y = sin(2x₁)·x₂ on [−1, 1]² far better than the best constant.
    func testLearnsANonlinearFunction() {
        var rng = SplitMix64(seed: 22)
        let x = randomMatrix(1024, 2, using: &rng)
        let y = Matrix(rows: 1024, columns: 1, storage: (0..<1024).map { sinf(2 * x[$0, 0]) * x[$0, 1] })
        let (xv, yv) = (x.rows(896..<1024), y.rows(896..<1024))
        var model = MLP(widths: [2, 32, 32, 1], hidden: .relu, using: &rng)
        let trainer = Trainer(loss: .mse, configuration: .init(epochs: 60, batchSize: 32,
                                                               schedule: .cosine(initial: 0.01, final: 0.0005, epochs: 60), seed: 2))
        let history = trainer.fit(&model, inputs: x.rows(0..<896), targets: y.rows(0..<896), validation: (xv, yv))
        let variance = Loss.mse(Matrix(rows: 128, columns: 1, repeating: yv.storage.reduce(0, +) / 128), yv)
        XCTAssertLessThan(history.bestValidationLoss, 0.03 * variance, "validation MSE \(history.bestValidationLoss), variance \(variance)")
        XCTAssertEqual(trainer.evaluate(model, inputs: xv, targets: yv), history.bestValidationLoss, accuracy: 1e-6)
    }

    /// Adam on f(θ) = Σ cᵢ(θᵢ − mᵢ)² converges to m.
    func testAdamConvergesOnAQuadratic() {
        let m: [Float] = [1, -2, 0.5, 3], c: [Float] = [1, 10, 0.1, 2]
        var theta = [Float](repeating: 0, count: 4)
        var adam = Adam(learningRate: 0.05)
        for step in 0..<3000 {
            if step == 2000 { adam.learningRate = 0.005 }
            adam.update(&theta, (0..<4).map { 2 * c[$0] * (theta[$0] - m[$0]) })
        }
        for i in 0..<4 { XCTAssertEqual(theta[i], m[i], accuracy: 1e-3) }
        XCTAssertEqual(adam.step, 3000)
    }

    /// The vectorised update (8 lanes plus a scalar tail) matches Adam's formula in Double,
    /// including gradients spanning 12 orders of magnitude and exact zeros.
    func testAdamUpdateMatchesTheFormula() {
        var rng = SplitMix64(seed: 28)
        let n = 21
        var theta = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
        var ref = theta.map(Double.init), m = [Double](repeating: 0, count: n), v = m
        var adam = Adam(learningRate: 0.01, weightDecay: 0.1)
        for t in 1...5 {
            let g: [Float] = (0..<n).map { i in i == 3 ? 0 : Float.random(in: -1...1, using: &rng) * powf(10, Float(i % 13) - 6) }
            adam.update(&theta, g)
            for i in 0..<n {
                m[i] = 0.9 * m[i] + 0.1 * Double(g[i]); v[i] = 0.999 * v[i] + 0.001 * Double(g[i]) * Double(g[i])
                let mh = m[i] / (1 - pow(0.9, Double(t))), vh = v[i] / (1 - pow(0.999, Double(t)))
                ref[i] -= 0.01 * (mh / (vh.squareRoot() + 1e-8) + 0.1 * ref[i])
            }
        }
        for i in 0..<n { XCTAssertEqual(Double(theta[i]), ref[i], accuracy: 1e-5, "θ[\(i)]") }
    }

    /// Heteroscedastic regression: noise σ = 0.05 for x < 0 and 0.5 for x > 0; the NLL-trained
    /// network states the larger uncertainty where the noise is larger.
    func testGaussianNLLLearnsTheNoiseLevel() {
        var rng = SplitMix64(seed: 23)
        let n = 2048
        let x = randomMatrix(n, 1, using: &rng)
        let y = Matrix(rows: n, columns: 1, storage: (0..<n).map { i in
            let s: Float = x[i, 0] < 0 ? 0.05 : 0.5
            let g = (0..<12).reduce(Float(0)) { acc, _ in acc + Float.random(in: 0..<1, using: &rng) } - 6
            return x[i, 0] + s * g
        })
        var model = MLP(widths: [1, 16, 2], hidden: .tanh, using: &rng)
        let trainer = Trainer(loss: .gaussianNLL, configuration: .init(epochs: 40, batchSize: 64, schedule: .constant(0.01), seed: 3))
        trainer.fit(&model, inputs: x, targets: y)
        let (_, std) = Loss.gaussianMeanAndStd(model(Matrix([[-0.5], [0.5]])))
        XCTAssertEqual(std[0, 0], 0.05, accuracy: 0.03)
        XCTAssertEqual(std[1, 0], 0.5, accuracy: 0.15)
    }

    /// Training on kernel-expanded outputs: the network predicts 2 free fluxes, the loss sees
    /// 3 full fluxes `K·free + c`; the learned free fluxes match the truth.
    func testMappedLossTrainsThroughAFixedKernel() {
        var rng = SplitMix64(seed: 24)
        let kernel = Matrix([[1, 0], [0, 1], [1, -1]]), offset: [Float] = [0, 1, 0]
        let map = LinearMap(kernel: kernel, offset: offset)
        let a = randomMatrix(2, 2, using: &rng)
        let x = randomMatrix(256, 2, using: &rng)
        let free = Matrix.matmul(x, a)
        var model = MLP(widths: [2, 2], using: &rng)
        let trainer = Trainer(loss: .mapped(map, .weightedMSE([1, 1, 4])),
                              configuration: .init(epochs: 80, batchSize: 16, schedule: .constant(0.02), seed: 4))
        trainer.fit(&model, inputs: x, targets: map(free))
        XCTAssertLessThan(model(x).maxAbsDifference(free), 0.01)
    }

    func testSameSeedGivesIdenticalWeights() {
        func train(seed: UInt64) -> MLP {
            var rng = SplitMix64(seed: 25)
            let x = randomMatrix(200, 4, using: &rng), y = randomMatrix(200, 2, using: &rng)
            var model = MLP(widths: [4, 8, 2], using: &rng)
            Trainer(loss: .mae, configuration: .init(epochs: 5, batchSize: 16, schedule: .constant(0.01), seed: seed, weightDecay: 1e-4))
                .fit(&model, inputs: x, targets: y, validation: (x.rows(0..<50), y.rows(0..<50)))
            return model
        }
        XCTAssertEqual(train(seed: 7), train(seed: 7))
        XCTAssertNotEqual(train(seed: 7), train(seed: 8))
    }

    /// Early stopping: a validation set the model cannot fit stops training after `patience`
    /// epochs and the best epoch's parameters are restored.
    func testEarlyStoppingRestoresTheBestCheckpoint() {
        var rng = SplitMix64(seed: 26)
        let x = randomMatrix(128, 3, using: &rng), y = randomMatrix(128, 1, using: &rng)
        let xv = randomMatrix(64, 3, using: &rng), yv = randomMatrix(64, 1, using: &rng)
        var model = MLP(widths: [3, 32, 1], using: &rng)
        var seen: [EpochReport] = []
        let trainer = Trainer(loss: .mse, configuration: .init(epochs: 200, batchSize: 8, schedule: .constant(0.01), patience: 5, seed: 5))
        let history = trainer.fit(&model, inputs: x, targets: y, validation: (xv, yv)) { seen.append($0); return true }
        XCTAssertTrue(history.stoppedEarly)
        XCTAssertEqual(seen, history.epochs)
        XCTAssertEqual(history.epochs.count, history.bestEpoch + 6)
        XCTAssertEqual(history.bestValidationLoss, history.epochs.map(\.validationLoss).min())
        XCTAssertEqual(trainer.evaluate(model, inputs: xv, targets: yv), history.bestValidationLoss, accuracy: 1e-6)
        XCTAssertTrue(seen.allSatisfy { $0.seconds >= 0 && $0.learningRate == 0.01 })
    }

    func testLearningRateSchedules() {
        XCTAssertEqual(LearningRateScheduler(.constant(0.1)).rate(epoch: 50), 0.1)
        let step = LearningRateScheduler(.stepDecay(initial: 1, factor: 0.5, every: 10))
        XCTAssertEqual([0, 9, 10, 25].map { step.rate(epoch: $0) }, [1, 1, 0.5, 0.25])
        let cos = LearningRateScheduler(.cosine(initial: 1, final: 0, epochs: 10))
        XCTAssertEqual(cos.rate(epoch: 0), 1); XCTAssertEqual(cos.rate(epoch: 5), 0.5, accuracy: 1e-6)
        XCTAssertEqual(cos.rate(epoch: 10), 0, accuracy: 1e-6); XCTAssertEqual(cos.rate(epoch: 20), 0, accuracy: 1e-6)
        var plateau = LearningRateScheduler(.reduceOnPlateau(initial: 1, factor: 0.5, patience: 2))
        for loss: Float in [3, 2, 2, 2] { plateau.observe(validationLoss: loss) }
        XCTAssertEqual(plateau.rate(epoch: 4), 1)            // 2 flat epochs: not more than patience
        plateau.observe(validationLoss: 2)
        XCTAssertEqual(plateau.rate(epoch: 4), 0.5)          // 3 flat epochs > patience 2 (as PyTorch)
        plateau.observe(validationLoss: 1)
        XCTAssertEqual(plateau.rate(epoch: 5), 0.5)
    }

    func testStandardizerAndInference() {
        var rng = SplitMix64(seed: 27)
        var x = randomMatrix(100, 3, using: &rng)
        for r in 0..<100 { x[r, 0] = 5 + 3 * x[r, 0]; x[r, 2] = 4 }
        let s = Standardizer(fitting: x)
        XCTAssertEqual(s.std[2], 1); XCTAssertEqual(s.mean[2], 4)
        let z = s.transform(x)
        let back = Standardizer(fitting: z)
        for j in 0..<2 { XCTAssertEqual(back.mean[j], 0, accuracy: 1e-5); XCTAssertEqual(back.std[j], 1, accuracy: 1e-4) }
        XCTAssertLessThan(s.inverse(z).maxAbsDifference(x), 1e-5)

        let model = MLP(widths: [3, 16, 16, 2], using: &rng)
        var run = Inference(model)
        XCTAssertEqual(run(x), model(x))
        XCTAssertEqual(run(x.rows(0..<7)), model(x.rows(0..<7)))
        XCTAssertEqual(run.predict(x.row(3)), model(x.rows(3..<4)).storage)
    }
}
