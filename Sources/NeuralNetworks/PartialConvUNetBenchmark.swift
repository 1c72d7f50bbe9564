import Foundation
import LinearAlgebra
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Latency and training throughput of a `PartialConvUNet` on random images with random masks
/// (wired to `mlflux bench nn --pcnn C×H×W`; meaningful only in a release build). Every
/// figure is the fastest of several repetitions, in wall-clock time and in the calling
/// thread's CPU time (with one BLAS thread all the work runs on that thread, so the CPU
/// figure is the one to trust on a machine shared with other jobs).
public enum PartialConvUNetBenchmark {
    public struct Configuration: Sendable {
        public var channels: Int
        public var height: Int
        public var width: Int
        public var widths: [Int]
        /// Images per batched inference and per training step.
        public var batchSize: Int
        /// Share of known cells in the random masks.
        public var knownShare: Double
        public var blasThreads: Int
        public var seed: UInt64

        public init(channels: Int = 1, height: Int = 32, width: Int = 32, widths: [Int] = [32, 64, 64],
                    batchSize: Int = 64, knownShare: Double = 0.5, blasThreads: Int = 1, seed: UInt64 = 1) {
            self.channels = channels
            self.height = height
            self.width = width
            self.widths = widths
            self.batchSize = batchSize
            self.knownShare = knownShare
            self.blasThreads = blasThreads
            self.seed = seed
        }
    }

    public struct Report: Codable, Sendable, CustomStringConvertible {
        public var shape: [Int]
        public var widths: [Int]
        public var parameters: Int
        public var batchSize: Int
        public var blasThreads: Int
        /// One image at a time, inference mode (wall clock, then thread CPU time).
        public var singleMilliseconds: Double
        public var singleCPUMilliseconds: Double
        /// Per image, in batches of `batchSize`.
        public var batchedMilliseconds: Double
        public var batchedCPUMilliseconds: Double
        /// Per image, one training step (forward with batch statistics, masked L1 loss,
        /// backward, Adam) on a batch of `batchSize`.
        public var trainingMilliseconds: Double
        public var trainingCPUMilliseconds: Double

        public var description: String {
            String(format: "PCNN U-Net %@ widths %@ (%d parameters), %d BLAS thread(s), ms per image (wall / CPU): inference one at a time %.3f / %.3f, in batches of %d %.3f / %.3f; training step (batch %d) %.3f / %.3f",
                   shape.map(String.init).joined(separator: "×"), widths.map(String.init).joined(separator: ","),
                   parameters, blasThreads, singleMilliseconds, singleCPUMilliseconds, batchSize, batchedMilliseconds,
                   batchedCPUMilliseconds, batchSize, trainingMilliseconds, trainingCPUMilliseconds)
        }
    }

    public static func run(_ c: Configuration) -> Report {
        _ = LinearAlgebra.setThreadCount(c.blasThreads)
        var rng = SeededRandom(seed: c.seed)
        var net = PartialConvUNet(.init(inChannels: c.channels, outChannels: c.channels, widths: c.widths), using: &rng)
        let b = c.batchSize, (h, w) = (c.height, c.width)
        let x = Tensor4(batch: b, channels: c.channels, height: h, width: w,
                        storage: (0..<(b * c.channels * h * w)).map { _ in Float(rng.nextGaussian()) })
        let mask = Tensor4(batch: b, channels: 1, height: h, width: w,
                           storage: (0..<(b * h * w)).map { _ in Double(rng.next() >> 11) * 0x1p-53 < c.knownShare ? 1 : 0 })
        let weights = Tensor4(batch: b, channels: c.channels, height: h, width: w,
                              storage: mask.broadcastingChannels(to: c.channels).storage.map { 1 - $0 })
        let batch = InpaintingBatch(input: x, mask: mask, target: x, weights: weights)
        let x1 = x.images([0]), m1 = mask.images([0])
        func cpu() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        func time(_ reps: Int, _ body: () -> Void) -> (wall: Double, cpu: Double) {
            body()
            var best = Double.infinity, bestCPU = Double.infinity
            for _ in 0..<5 {
                let t0 = DispatchTime.now().uptimeNanoseconds, c0 = cpu()
                for _ in 0..<reps { body() }
                bestCPU = min(bestCPU, (cpu() - c0) / Double(reps))
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 / Double(reps))
            }
            return (best, bestCPU)
        }
        let single = time(20) { _ = net(x1, mask: m1) }
        let batched = time(2) { _ = net(x, mask: mask) }
        let trainer = InpaintingTrainer(configuration: .init(loss: .l1))
        var adam = Adam(learningRate: 1e-4)
        let training = time(1) {
            let (_, g, trace, _) = trainer.lossAndGradients(net, batch)
            net.updateRunningStatistics(trace)
            adam.update(&net, g)
        }
        return Report(shape: [c.channels, h, w], widths: c.widths, parameters: net.parameterCount, batchSize: b,
                      blasThreads: c.blasThreads, singleMilliseconds: single.wall * 1e3, singleCPUMilliseconds: single.cpu * 1e3,
                      batchedMilliseconds: batched.wall * 1e3 / Double(b), batchedCPUMilliseconds: batched.cpu * 1e3 / Double(b),
                      trainingMilliseconds: training.wall * 1e3 / Double(b), trainingCPUMilliseconds: training.cpu * 1e3 / Double(b))
    }
}
