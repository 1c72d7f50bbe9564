import Foundation
import LinearAlgebra

/// Throughput and latency figures of the network code against raw `cblas_sgemm`
/// (wired to `mlflux bench nn`; meaningful only in a release build).
///
/// Every figure is the fastest of several repetitions (other processes on a shared machine
/// only add time). The sgemm reference replays exactly the `sgemm` calls of one training
/// step (forward `x·W`, weight gradient `xᵀ·Δ`, input gradient `Δ·Wᵀ` except for the first
/// layer) on preallocated buffers with nothing else in between.
public enum NeuralNetworkBenchmark {
    public struct Configuration: Sendable {
        /// `[inputs, hidden…, outputs]`; ReLU hidden layers, identity output.
        public var widths: [Int]
        public var batchSize: Int
        /// Training samples per epoch.
        public var samples: Int
        /// Training epochs; the fastest one is reported.
        public var epochs: Int
        /// Batch size of the batched-inference timing.
        public var inferenceBatch: Int
        /// OpenBLAS threads for the whole benchmark (set with `LinearAlgebra.setThreadCount`).
        public var blasThreads: Int
        public var seed: UInt64

        public init(widths: [Int] = [120, 256, 256, 256, 3], batchSize: Int = 64, samples: Int = 8192,
                    epochs: Int = 5, inferenceBatch: Int = 256, blasThreads: Int = 1, seed: UInt64 = 1) {
            self.widths = widths
            self.batchSize = batchSize
            self.samples = samples
            self.epochs = epochs
            self.inferenceBatch = inferenceBatch
            self.blasThreads = blasThreads
            self.seed = seed
        }
    }

    public struct Report: Codable, Sendable, CustomStringConvertible {
        public var widths: [Int]
        public var parameters: Int
        public var batchSize: Int
        public var blasThreads: Int
        /// BLAS threads reported by OpenBLAS after setting (nil when unknown).
        public var blasThreadsReported: Int?
        /// Matmul flops per training sample: forward `2Σ io`, weight gradient `2Σ io`,
        /// input gradient `2Σ_{layers>0} io`.
        public var trainingFlopsPerSample: Double
        /// End to end through `Trainer.fit` (fastest epoch: shuffle, gather, step, Adam, bookkeeping).
        public var trainingSamplesPerSecond: Double
        /// Matmul GFLOP/s of whole training steps (gather + forward + backward + Adam),
        /// timed interleaved with the sgemm reference.
        public var trainingGFLOPs: Double
        /// The same sequence of `sgemm` calls per mini-batch, with nothing else.
        public var sgemmGFLOPs: Double
        /// `trainingGFLOPs / sgemmGFLOPs`.
        public var ratioToSgemm: Double
        /// Fastest time of one forward + backward on a mini-batch (`TrainingWorkspace.step`).
        public var stepMicroseconds: Double
        /// Fastest time of one Adam update of all parameters.
        public var adamMicroseconds: Double
        /// Forward + backward GFLOP/s (the step alone, without the optimiser).
        public var stepGFLOPs: Double
        /// Fastest latency of `Inference.predict` on one sample.
        public var singleSampleMicroseconds: Double
        /// Fastest latency of `MLP.callAsFunction` on one sample (allocating path).
        public var singleSampleAllocatingMicroseconds: Double
        public var inferenceBatch: Int
        /// Fastest latency per sample of a batch of `inferenceBatch` through `Inference`.
        public var batchedMicrosecondsPerSample: Double

        public var description: String {
            func f(_ x: Double, _ d: Int = 1) -> String { String(format: "%.\(d)f", x) }
            return """
            MLP \(widths.map(String.init).joined(separator: "-")) (\(parameters) parameters), OpenBLAS threads: \(blasThreads)\(blasThreadsReported.map { " (reported \($0))" } ?? "")
            training, batch \(batchSize): Trainer.fit \(f(trainingSamplesPerSecond, 0)) samples/s (\(f(trainingFlopsPerSample / 1e6, 3)) MFLOP/sample of matmuls)
            training step:           \(f(trainingGFLOPs)) GFLOP/s = \(f(trainingGFLOPs * 1e9 / trainingFlopsPerSample, 0)) samples/s
            raw sgemm, same shapes:  \(f(sgemmGFLOPs)) GFLOP/s  → training step at \(f(100 * ratioToSgemm))% of sgemm
            per mini-batch:          forward+backward \(f(stepMicroseconds)) µs (\(f(stepGFLOPs)) GFLOP/s, \(f(100 * stepGFLOPs / sgemmGFLOPs))% of sgemm), Adam \(f(adamMicroseconds)) µs
            inference, 1 sample:     \(f(singleSampleMicroseconds, 2)) µs (Inference), \(f(singleSampleAllocatingMicroseconds, 2)) µs (MLP.callAsFunction)
            inference, batch \(inferenceBatch):  \(f(batchedMicrosecondsPerSample, 3)) µs/sample
            """
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Fastest of `repeats` timings of `body` (seconds), after one warm-up call. The minimum,
    /// not the median: on a shared machine the other processes only ever add time.
    static func fastest(_ repeats: Int, _ body: () -> Void) -> Double {
        body()
        var t = Double.infinity
        for _ in 0..<repeats { let s = now(); body(); t = min(t, now() - s) }
        return t
    }

    public static func run(_ c: Configuration = .init()) -> Report {
        LinearAlgebra.setThreadCount(c.blasThreads)
        var rng = SeededRandom(seed: c.seed)
        var model = MLP(widths: c.widths, hidden: .relu, output: .identity, using: &rng)
        precondition(c.samples >= c.batchSize && c.batchSize >= 1 && c.epochs >= 1, "benchmark needs samples ≥ batchSize ≥ 1 and an epoch")
        let nIn = c.widths.first!, nOut = c.widths.last!
        let x = Matrix(rows: c.samples, columns: nIn, storage: (0..<(c.samples * nIn)).map { _ in Float(rng.nextGaussian()) })
        let a = Matrix(rows: nIn, columns: nOut, storage: (0..<(nIn * nOut)).map { _ in Float(rng.nextGaussian()) / Float(nIn).squareRoot() })
        let y = Matrix.matmul(x, a)

        let pairs = zip(c.widths, c.widths.dropFirst()).map { ($0, $1) }
        let io = pairs.map { Double($0.0 * $0.1) }
        let flops = 4 * io.reduce(0, +) + 2 * io.dropFirst().reduce(0, +)

        // Training throughput (no validation set: epochs are pure training); fastest epoch.
        let trainer = Trainer(loss: .mse, configuration: .init(epochs: c.epochs, batchSize: c.batchSize, schedule: .constant(1e-3), seed: c.seed))
        let history = trainer.fit(&model, inputs: x, targets: y)
        let epochSeconds = history.epochs.map(\.seconds).min() ?? .nan
        let samplesPerSecond = Double(c.samples) / epochSeconds

        // Raw sgemm (the same calls per mini-batch, on preallocated buffers) interleaved with
        // training steps (gather + forward + backward + Adam), so both see the same machine load.
        let b = c.batchSize
        var acts = c.widths.map { Matrix(rows: b, columns: $0, repeating: 0.1) }
        var deltas = acts
        var grads = pairs.map { Matrix(rows: $0.0, columns: $0.1) }
        let weights = pairs.map { Matrix(rows: $0.0, columns: $0.1, repeating: 0.01) }
        var workspace = TrainingWorkspace(model: model, batchSize: b, targetWidth: nOut)
        var adam = Adam(learningRate: 1e-6)
        let batches = 10
        let rowSets = (0..<batches).map { k in (0..<b).map { (k * b + $0) % c.samples } }
        var sgemmSeconds = Double.infinity, trainStepSeconds = Double.infinity
        var stepSeconds = Double.infinity, adamSeconds = Double.infinity
        for rep in 0..<16 {
            var t = now()
            for _ in 0..<batches {
                for l in pairs.indices { Matrix.gemm(acts[l], weights[l], into: &acts[l + 1]) }
                for l in pairs.indices.reversed() {
                    Matrix.gemm(acts[l], transposeA: true, deltas[l + 1], into: &grads[l])
                    if l > 0 { Matrix.gemm(deltas[l + 1], weights[l], transposeB: true, into: &deltas[l]) }
                }
            }
            if rep > 0 { sgemmSeconds = min(sgemmSeconds, (now() - t) / Double(batches)) }
            t = now()
            for rows in rowSets {
                _ = workspace.step(&model, loss: .mse, inputs: x, targets: y, rows: rows)
                adam.update(&model, workspace.gradients)
            }
            if rep > 0 { trainStepSeconds = min(trainStepSeconds, (now() - t) / Double(batches)) }
            t = now()
            for rows in rowSets { _ = workspace.step(&model, loss: .mse, inputs: x, targets: y, rows: rows) }
            if rep > 0 { stepSeconds = min(stepSeconds, (now() - t) / Double(batches)) }
            t = now()
            for _ in rowSets { adam.update(&model, workspace.gradients) }
            if rep > 0 { adamSeconds = min(adamSeconds, (now() - t) / Double(batches)) }
        }
        let sgemmGF = flops * Double(b) / sgemmSeconds / 1e9
        let trainGF = flops * Double(b) / trainStepSeconds / 1e9

        // Inference latency.
        var inference = Inference(model)
        let sample = x.row(0)
        var sink: Float = 0
        let reps = 2000
        let single = fastest(5) { for _ in 0..<reps { sink += inference.predict(sample)[0] } } / Double(reps)
        let one = x.rows(0..<1)
        let singleAlloc = fastest(5) { for _ in 0..<reps { sink += model(one).storage[0] } } / Double(reps)
        let batch = x.rows(0..<min(c.inferenceBatch, c.samples))
        let batched = fastest(7) { for _ in 0..<10 { sink += inference(batch).storage[0] } } / Double(10 * batch.rows)
        if sink.isNaN { print("") }

        return Report(widths: c.widths, parameters: model.parameterCount, batchSize: c.batchSize,
                      blasThreads: c.blasThreads, blasThreadsReported: LinearAlgebra.threadCount,
                      trainingFlopsPerSample: flops, trainingSamplesPerSecond: samplesPerSecond,
                      trainingGFLOPs: trainGF, sgemmGFLOPs: sgemmGF, ratioToSgemm: trainGF / sgemmGF,
                      stepMicroseconds: stepSeconds * 1e6, adamMicroseconds: adamSeconds * 1e6,
                      stepGFLOPs: flops * Double(b) / stepSeconds / 1e9,
                      singleSampleMicroseconds: single * 1e6, singleSampleAllocatingMicroseconds: singleAlloc * 1e6,
                      inferenceBatch: batch.rows, batchedMicrosecondsPerSample: batched * 1e6)
    }
}
