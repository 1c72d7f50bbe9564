import Foundation
import XCTest
import NeuralNetworks
import TestSupport

final class PartialConvUNetTests: XCTestCase {
    private func tinyNet(inChannels: Int = 2, outChannels: Int = 2, widths: [Int] = [3, 4], seed: UInt64 = 21) -> PartialConvUNet {
        var rng = SplitMix64(seed: seed)
        var net = PartialConvUNet(.init(inChannels: inChannels, outChannels: outChannels, widths: widths), using: &rng)
        // Non-trivial BN parameters and running statistics, so every path is exercised.
        for i in 0..<net.depth {
            net.encoderNorms[i].gamma = net.encoderNorms[i].gamma.indices.map { 0.8 + 0.1 * Float($0) }
            net.encoderNorms[i].beta = net.encoderNorms[i].beta.indices.map { 0.05 * Float($0) - 0.1 }
            net.encoderNorms[i].runningMean = net.encoderNorms[i].runningMean.indices.map { 0.1 * Float($0) }
            net.encoderNorms[i].runningVariance = net.encoderNorms[i].runningVariance.indices.map { 0.5 + 0.2 * Float($0) }
            net.decoderNorms[i].gamma = net.decoderNorms[i].gamma.indices.map { 1.1 - 0.1 * Float($0) }
            net.decoderNorms[i].beta = net.decoderNorms[i].beta.indices.map { 0.2 - 0.05 * Float($0) }
            net.decoderNorms[i].runningVariance = net.decoderNorms[i].runningVariance.indices.map { 1.5 - 0.1 * Float($0) }
        }
        net.head.bias = net.head.bias.indices.map { 0.1 * Float($0) + 0.3 }
        return net
    }

    func testShapesAndOddSizes() {
        let net = tinyNet()
        XCTAssertEqual(net.paddedSize(height: 5, width: 9).height, 8)
        XCTAssertEqual(net.paddedSize(height: 5, width: 9).width, 12)
        var rng = SplitMix64(seed: 1)
        for (h, w) in [(1, 1), (5, 9), (8, 8), (13, 3)] {
            let x = randomTensor(2, 2, h, w, using: &rng)
            let (y, m) = net(x, mask: randomMask(2, 1, h, w, valid: 0.5, using: &rng))
            XCTAssertEqual(y.shape, [2, 2, h, w]); XCTAssertEqual(m.shape, [2, 1, h, w])
            XCTAssertTrue(y.isFinite)
        }
        // With nothing known there is nothing to fill from: output and mask are 0.
        let (y0, m0) = net(randomTensor(1, 2, 6, 6, using: &rng), mask: Tensor4(batch: 1, channels: 1, height: 6, width: 6))
        XCTAssertEqual(y0.storage, [Float](repeating: 0, count: 72)); XCTAssertEqual(m0.storage, [Float](repeating: 0, count: 36))
    }

    /// Changing the values under the mask — to other numbers, to NaN — changes no output of
    /// the whole network, in inference and in training mode (batch statistics), with shared
    /// and per-channel masks.
    func testMaskedInputsNeverReachTheOutput() {
        var rng = SplitMix64(seed: 2)
        let net = tinyNet(widths: [4, 4, 5])
        for maskChannels in [1, 2] {
            let x = randomTensor(3, 2, 11, 7, using: &rng)
            let mask = randomMask(3, maskChannels, 11, 7, valid: 0.4, using: &rng)
            var changed = x, poisoned = x
            let full = mask.broadcastingChannels(to: 2)
            var hidden = 0
            for i in x.storage.indices where full.storage[i] == 0 {
                changed.storage[i] = Float.random(in: -100...100, using: &rng)
                poisoned.storage[i] = i % 2 == 0 ? .nan : .infinity
                hidden += 1
            }
            XCTAssertGreaterThan(hidden, 50)
            for training in [false, true] {
                let a = net.forwardTrace(x, mask: mask, training: training).output
                XCTAssertEqual(a.storage, net.forwardTrace(changed, mask: mask, training: training).output.storage)
                XCTAssertEqual(a.storage, net.forwardTrace(poisoned, mask: mask, training: training).output.storage)
            }
        }
        // …whereas a known value does change the output.
        let x = randomTensor(1, 2, 8, 8, using: &rng)
        let mask = Tensor4(batch: 1, channels: 1, height: 8, width: 8, repeating: 1)
        var y = x
        y[0, 0, 3, 3] += 1
        XCTAssertNotEqual(net(x, mask: mask).output, net(y, mask: mask).output)
    }

    /// Every parameter and the input of a small U-Net (depth 2, a 5×6 input padded to 8×8)
    /// against finite differences, in training mode (through the batch statistics) and in
    /// inference mode, through a group softmax and a masked L2 loss.
    func testUNetGradientsMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 3)
        let net = tinyNet()
        let (n, h, w) = (2, 5, 6)
        let x = randomTensor(n, 2, h, w, using: &rng)
        let mask = randomMask(n, 1, h, w, valid: 0.6, using: &rng)
        let target = randomTensor(n, 2, h, w, using: &rng)
        let weights = Tensor4(batch: n, channels: 2, height: h, width: w,
                              storage: mask.broadcastingChannels(to: 2).storage.map { $0 == 0 ? 1 : 0.1 })
        let batch = InpaintingBatch(input: x, mask: mask, target: target, weights: weights)
        // Softmax over each row of 6 cells of channel 0; channel 1 passes through.
        let trainer = InpaintingTrainer(configuration: .init(loss: .l2),
                                        outputTransform: GroupSoftmax(width: 2 * h * w, groups: (0..<h).map { ($0 * w)..<($0 * w + w) }))
        for training in [true, false] {
            let (_, grads, _, gx) = trainer.lossAndGradients(net, batch, training: training, needsInputGradient: true)
            func loss(_ m: PartialConvUNet, _ b: InpaintingBatch) -> Double {
                Double(trainer.lossAndGradients(m, b, training: training).loss)
            }
            for (k, p) in net.parameters.enumerated() {
                assertGradient({ v in
                    var m = net
                    var all = m.parameters.map(\.values)
                    all[k] = v
                    m.updateParameters(all) { _, _, theta, g in _ = theta.update(fromContentsOf: g) }
                    return loss(m, batch)
                }, at: p.values, gradient: grads[k], step: 1e-3, tolerance: 1e-2, "training \(training): \(p.name)")
            }
            assertGradient({ v in
                var b = batch
                b.input.storage = v
                return loss(net, b)
            }, at: x.storage, gradient: gx!.storage, step: 1e-3, tolerance: 1e-2, "training \(training): input")
        }
    }

    /// Save → load gives the same network and bit-identical outputs; a file with a misshapen,
    /// missing, non-finite or extra tensor, or a broken configuration, is refused with a
    /// one-line error naming it.
    func testSaveLoadRoundTripAndCorruptedFiles() throws {
        var net = tinyNet(inChannels: 1, outChannels: 3, widths: [4, 6, 6])
        var rng = SplitMix64(seed: 4)
        let x = randomTensor(2, 1, 10, 7, using: &rng), mask = randomMask(2, 1, 10, 7, valid: 0.5, using: &rng)
        net.updateRunningStatistics(net.forwardTrace(x, mask: mask, training: true))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pcnn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try net.save(to: url, metadata: ["layout": "test"])
        let loaded = try PartialConvUNet(contentsOf: url)
        XCTAssertEqual(loaded, net)
        XCTAssertEqual(loaded(x, mask: mask).output.storage, net(x, mask: mask).output.storage)
        let file = try SafeTensors(contentsOf: url)
        XCTAssertEqual(file.metadata["layout"], "test")
        XCTAssertEqual(file.metadata["mlflux.kind"], "pcnn-unet")

        func refusal(_ edit: (inout SafeTensors) -> Void) -> String {
            var f = net.safeTensors()
            edit(&f)
            do {
                _ = try PartialConvUNet(SafeTensors(bytes: f.serialized(), source: "bad.safetensors"))
                return "(accepted)"
            } catch {
                return "\(error)"
            }
        }
        let shape = refusal { $0.tensors["decoder.1.conv.weight"] = SafeTensor([Float](repeating: 0, count: 6 * 10 * 3 * 3), shape: [6, 10, 3, 3]) }
        XCTAssertTrue(shape.contains("decoder.1.conv.weight") && shape.contains("shape"), shape)
        XCTAssertFalse(shape.contains("\n"))
        let missing = refusal { $0.tensors["encoder.2.norm.running_var"] = nil }
        XCTAssertTrue(missing.contains("encoder.2.norm.running_var") && missing.contains("missing"), missing)
        let nan = refusal { f in
            var v = f.tensors["head.weight"]!.floats!
            v[2] = .nan
            f.tensors["head.weight"] = SafeTensor(v, shape: [3, 4, 1, 1])
        }
        XCTAssertTrue(nan.contains("head.weight") && nan.contains("non-finite"), nan)
        let extra = refusal { $0.tensors["encoder.9.conv.weight"] = SafeTensor([Float(1)], shape: [1]) }
        XCTAssertTrue(extra.contains("encoder.9.conv.weight"), extra)
        let config = refusal { $0.metadata[PartialConvUNet.configurationKey] = #"{"inChannels":1,"outChannels":3,"widths":[],"kernelSize":3,"batchNormMomentum":0.1,"batchNormEpsilon":1e-5}"# }
        XCTAssertTrue(config.contains("mlflux.pcnn") && config.contains("widths"), config)
        let kind = refusal { $0.metadata["mlflux.kind"] = "mlp" }
        XCTAssertTrue(kind.contains("pcnn-unet"), kind)
    }

    /// Smooth random images (sums of a few low-frequency waves) with random masks: a short
    /// training run must bring the held-out hidden-entry error well below both its starting
    /// value and the trivial fill (each image's mean over its known cells).
    func testTrainingLearnsToInpaintSmoothImages() {
        let (h, w) = (12, 10)
        func images(_ count: Int, seed: UInt64) -> InpaintingBatch {
            var rng = SplitMix64(seed: seed)
            var x = Tensor4(batch: count, channels: 1, height: h, width: w)
            var mask = Tensor4(batch: count, channels: 1, height: h, width: w)
            for n in 0..<count {
                let a = (0..<3).map { _ in Float.random(in: -1...1, using: &rng) }
                let fy = (0..<3).map { _ in Float.random(in: 0.1...0.5, using: &rng) }
                let fx = (0..<3).map { _ in Float.random(in: 0.1...0.5, using: &rng) }
                let ph = (0..<3).map { _ in Float.random(in: 0...6.28, using: &rng) }
                let offset = Float.random(in: -1...1, using: &rng)
                for y in 0..<h { for xx in 0..<w {
                    var v = offset
                    for k in 0..<3 { v += a[k] * sinf(fy[k] * Float(y) + fx[k] * Float(xx) + ph[k]) }
                    x[n, 0, y, xx] = v
                    mask[n, 0, y, xx] = Double.random(in: 0..<1, using: &rng) < 0.5 ? 1 : 0
                }}
            }
            let weights = Tensor4(batch: count, channels: 1, height: h, width: w, storage: MaskedLoss.weights(hidden: mask.storage.map { 1 - $0 }))
            return InpaintingBatch(input: x, mask: mask, target: x, weights: weights)
        }
        let train = images(128, seed: 10), test = images(64, seed: 11)
        var rng = SplitMix64(seed: 12)
        var net = PartialConvUNet(.init(inChannels: 1, outChannels: 1, widths: [8, 8]), using: &rng)
        let trainer = InpaintingTrainer(configuration: .init(epochs: 6, batchSize: 16, schedule: .constant(3e-3), seed: 5, loss: .l1))
        let before = trainer.evaluate(net, [test])
        // Trivial fill: each image's mean over its known cells.
        var baseline = 0.0, count = 0.0
        for n in 0..<test.count {
            let known = (0..<(h * w)).filter { test.mask.storage[n * h * w + $0] == 1 }
            let mean = known.reduce(Float(0)) { $0 + test.input.storage[n * h * w + $1] } / Float(max(known.count, 1))
            for i in 0..<(h * w) where test.mask.storage[n * h * w + i] == 0 {
                baseline += Double(abs(test.target.storage[n * h * w + i] - mean)); count += 1
            }
        }
        baseline /= count
        var epochs = 0
        let history = trainer.fit(&net, data: train, validation: [test]) { _ in epochs += 1; return true }
        let after = trainer.evaluate(net, [test])
        XCTAssertEqual(epochs, 6)
        XCTAssertEqual(history.epochs.count, 6)
        XCTAssertEqual(after, history.bestValidationLoss, accuracy: 1e-6)
        XCTAssertLessThan(trainer.predict(net, input: test.input, mask: test.mask, chunk: 7)
            .maxAbsDifference(trainer.predict(net, input: test.input, mask: test.mask)), 1e-5, "chunked prediction")
        XCTAssertLessThan(after, 0.5 * before, "hidden-entry MAE \(before) → \(after)")
        XCTAssertLessThan(Double(after), 0.6 * baseline, "hidden-entry MAE \(after), known-mean fill \(baseline)")
        // Same seed, same data, same start: the same network.
        var rng2 = SplitMix64(seed: 12)
        var again = PartialConvUNet(.init(inChannels: 1, outChannels: 1, widths: [8, 8]), using: &rng2)
        var t2 = trainer
        t2.configuration.epochs = 1
        var once = again
        t2.fit(&once, data: train)
        t2.fit(&again, data: train)
        XCTAssertEqual(once, again)
    }
}
