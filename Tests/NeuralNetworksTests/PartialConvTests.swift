import XCTest
import NeuralNetworks
import TestSupport

/// Random tensor with entries uniform in `±scale`.
func randomTensor(_ n: Int, _ c: Int, _ h: Int, _ w: Int, scale: Float = 1, using rng: inout SplitMix64) -> Tensor4 {
    Tensor4(batch: n, channels: c, height: h, width: w,
            storage: (0..<(n * c * h * w)).map { _ in Float.random(in: -scale...scale, using: &rng) })
}

/// Random 0/1 mask, 1 with probability `p`.
func randomMask(_ n: Int, _ c: Int, _ h: Int, _ w: Int, valid p: Double, using rng: inout SplitMix64) -> Tensor4 {
    Tensor4(batch: n, channels: c, height: h, width: w,
            storage: (0..<(n * c * h * w)).map { _ in Double.random(in: 0..<1, using: &rng) < p ? 1 : 0 })
}

/// `Σ c ⊙ y` in Double.
func dot(_ c: Tensor4, _ y: Tensor4) -> Double {
    zip(c.storage, y.storage).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}

final class PartialConvTests: XCTestCase {
    /// The brute-force reference: for every output cell, the plain convolution sum over the
    /// in-bounds window cells weighted by the mask, and the number of valid mask cells.
    private func direct(_ layer: PartialConv2D, _ x: Tensor4, _ mask: Tensor4, n: Int, o: Int, oy: Int, ox: Int)
        -> (sum: Double, valid: Double, inBounds: Int) {
        let k = layer.kernelSize
        var sum = 0.0, valid = 0.0, inside = 0
        for ky in 0..<k {
            for kx in 0..<k {
                let iy = oy * layer.stride - layer.padding + ky, ix = ox * layer.stride - layer.padding + kx
                guard iy >= 0, iy < x.height, ix >= 0, ix < x.width else { continue }
                inside += 1
                for c in 0..<layer.inChannels {
                    let m = mask[n, mask.channels == 1 ? 0 : c, iy, ix]
                    let w = layer.weight[((o * layer.inChannels + c) * k + ky) * k + kx]
                    sum += Double(w) * Double(x[n, c, iy, ix]) * Double(m)
                }
                for c in 0..<mask.channels { valid += Double(mask[n, c, iy, ix]) }
            }
        }
        return (sum, valid, inside)
    }

    /// With an all-ones mask, interior outputs equal the ordinary convolution `W ⋆ X + b`;
    /// border outputs (windows over the zero padding, which counts as missing) equal the
    /// same sum rescaled by `k²/(cells inside)`. Stride 1 and 2, kernels 3 and 5.
    func testAllOnesMaskIsOrdinaryConvolutionInsideAndRescaledAtBorders() {
        var rng = SplitMix64(seed: 1)
        for (k, stride) in [(3, 1), (3, 2), (5, 1), (5, 2), (1, 1)] {
            var layer = PartialConv2D(inChannels: 3, outChannels: 4, kernelSize: k, stride: stride, using: &rng)
            layer.bias = [0.5, -0.25, 1, 0]
            let x = randomTensor(2, 3, 9, 8, using: &rng)
            for maskChannels in [1, 3] {
                let ones = Tensor4(batch: 2, channels: maskChannels, height: 9, width: 8, repeating: 1)
                let (y, m) = layer(x, mask: ones)
                let (oh, ow) = layer.outputSize(height: 9, width: 8)
                XCTAssertEqual(y.shape, [2, 4, oh, ow])
                XCTAssertEqual(m.storage, [Float](repeating: 1, count: 2 * oh * ow))
                var interior = 0
                for n in 0..<2 { for o in 0..<4 { for oy in 0..<oh { for ox in 0..<ow {
                    let (sum, _, inside) = direct(layer, x, ones, n: n, o: o, oy: oy, ox: ox)
                    let plain = sum + Double(layer.bias[o])
                    let expected = inside == k * k ? plain : sum * Double(k * k) / Double(inside) + Double(layer.bias[o])
                    if inside == k * k { interior += 1 }
                    XCTAssertEqual(Double(y[n, o, oy, ox]), expected, accuracy: 1e-4, "k \(k) stride \(stride) (\(n),\(o),\(oy),\(ox))")
                }}}}
                XCTAssertGreaterThan(interior, 0, "k \(k) stride \(stride): no interior cell tested")
            }
        }
    }

    /// Random masks (shared and per channel): every output and updated-mask cell against the
    /// formula `W·(X⊙M)·sum(1)/sum(M) + b`, 0 where `sum(M) = 0`.
    func testRandomMaskMatchesDefinition() {
        var rng = SplitMix64(seed: 2)
        for stride in [1, 2] {
            var layer = PartialConv2D(inChannels: 2, outChannels: 3, kernelSize: 3, stride: stride, using: &rng)
            layer.bias = [0.3, -0.7, 0.1]
            let x = randomTensor(3, 2, 7, 7, using: &rng)
            for maskChannels in [1, 2] {
                let mask = randomMask(3, maskChannels, 7, 7, valid: 0.3, using: &rng)
                let (y, m) = layer(x, mask: mask)
                var empty = 0
                for n in 0..<3 { for o in 0..<3 { for oy in 0..<y.height { for ox in 0..<y.width {
                    let (sum, valid, _) = direct(layer, x, mask, n: n, o: o, oy: oy, ox: ox)
                    let expected = valid > 0 ? sum * Double(maskChannels * 9) / valid + Double(layer.bias[o]) : 0
                    if valid == 0 { empty += 1 }
                    XCTAssertEqual(Double(y[n, o, oy, ox]), expected, accuracy: 1e-4)
                    XCTAssertEqual(m[n, 0, oy, ox], valid > 0 ? 1 : 0)
                }}}}
                if stride == 1 && maskChannels == 1 { XCTAssertGreaterThan(empty, 0, "the mask should leave some windows empty") }
            }
        }
    }

    /// Weight, bias and input gradients against finite differences, stride 1 and 2, shared and
    /// per-channel masks; the input gradient is 0 wherever the mask is 0.
    func testPartialConvGradientsMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 3)
        for (stride, maskChannels) in [(1, 1), (2, 1), (1, 3), (2, 3)] {
            var layer = PartialConv2D(inChannels: 3, outChannels: 2, kernelSize: 3, stride: stride, using: &rng)
            layer.bias = [0.2, -0.4]
            let x = randomTensor(2, 3, 6, 5, using: &rng)
            let mask = randomMask(2, maskChannels, 6, 5, valid: 0.6, using: &rng)
            let (y, _) = layer(x, mask: mask)
            let c = randomTensor(y.batch, y.channels, y.height, y.width, using: &rng)
            let (g, gx) = layer.backward(input: x, mask: mask, outputGradient: c)
            let what = "stride \(stride), \(maskChannels)-channel mask"
            assertGradient({ w in var l = layer; l.weight = w; return dot(c, l(x, mask: mask).output) },
                           at: layer.weight, gradient: g.weight, "\(what) weight")
            assertGradient({ b in var l = layer; l.bias = b; return dot(c, l(x, mask: mask).output) },
                           at: layer.bias, gradient: g.bias, "\(what) bias")
            assertGradient({ v in dot(c, layer(Tensor4(batch: 2, channels: 3, height: 6, width: 5, storage: v), mask: mask).output) },
                           at: x.storage, gradient: gx!.storage, "\(what) input")
            let full = mask.broadcastingChannels(to: 3)
            for i in full.storage.indices where full.storage[i] == 0 { XCTAssertEqual(gx!.storage[i], 0) }
        }
    }

    /// A chunked forward (many images) equals image-by-image evaluation.
    func testBatchEqualsImageByImage() {
        var rng = SplitMix64(seed: 4)
        let layer = PartialConv2D(inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, using: &rng)
        let x = randomTensor(5, 2, 8, 8, using: &rng), mask = randomMask(5, 1, 8, 8, valid: 0.5, using: &rng)
        let (y, _) = layer(x, mask: mask)
        for n in 0..<5 {
            let (yn, _) = layer(x.images([n]), mask: mask.images([n]))
            XCTAssertEqual(yn.storage, y.images([n]).storage)
        }
    }

    func testBatchNormGradientsMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 5)
        var bn = BatchNorm2D(channels: 3)
        bn.gamma = [1.5, -0.5, 0.8]; bn.beta = [0.1, 0.2, -0.3]
        bn.runningMean = [0.1, -0.2, 0.3]; bn.runningVariance = [0.5, 2, 1.2]
        let x = randomTensor(2, 3, 3, 4, using: &rng)
        let c = randomTensor(2, 3, 3, 4, using: &rng)
        for training in [true, false] {
            let (y, cache) = bn.forward(x, training: training)
            let (g, gx) = bn.backward(cache, outputGradient: c)
            let f = { (b: BatchNorm2D, v: Tensor4) in dot(c, b.forward(v, training: training).output) }
            assertGradient({ v in var b = bn; b.gamma = v; return f(b, x) }, at: bn.gamma, gradient: g.gamma, "training \(training) gamma")
            assertGradient({ v in var b = bn; b.beta = v; return f(b, x) }, at: bn.beta, gradient: g.beta, "training \(training) beta")
            assertGradient({ v in f(bn, Tensor4(batch: 2, channels: 3, height: 3, width: 4, storage: v)) },
                           at: x.storage, gradient: gx.storage, step: 1e-3, tolerance: 5e-3, "training \(training) input")
            if training {
                // Batch statistics: every channel of x̂ has mean 0 and variance ≈ 1.
                for ch in 0..<3 {
                    var vals: [Float] = []
                    for n in 0..<2 { for i in 0..<12 { vals.append(cache.normalized.storage[(n * 3 + ch) * 12 + i]) } }
                    let mean = vals.reduce(0, +) / 24
                    XCTAssertEqual(mean, 0, accuracy: 1e-5)
                    XCTAssertEqual(vals.map { $0 * $0 }.reduce(0, +) / 24, 1, accuracy: 1e-3)
                }
                var b2 = bn
                b2.updateRunningStatistics(cache)
                XCTAssertEqual(b2.runningMean[0], 0.9 * 0.1 + 0.1 * cache.mean[0], accuracy: 1e-6)
                XCTAssertEqual(b2.runningVariance[1], 0.9 * 2 + 0.1 * cache.variance[1] * 24 / 23, accuracy: 1e-5)
            } else {
                XCTAssertEqual(y[0, 1, 0, 0], -0.5 * (x[0, 1, 0, 0] + 0.2) / (2 + 1e-5).squareRoot() + 0.2, accuracy: 1e-5)
            }
        }
    }

    func testUpsamplingAndConcatenation() {
        var rng = SplitMix64(seed: 6)
        let x = randomTensor(2, 3, 3, 2, using: &rng)
        let y = NearestUpsampling2x.forward(x)
        XCTAssertEqual(y.shape, [2, 3, 6, 4])
        XCTAssertEqual(y[1, 2, 5, 3], x[1, 2, 2, 1])
        XCTAssertEqual(y[0, 1, 2, 1], x[0, 1, 1, 0])
        let c = randomTensor(2, 3, 6, 4, using: &rng)
        let gx = NearestUpsampling2x.backward(c)
        assertGradient({ dot(c, NearestUpsampling2x.forward(Tensor4(batch: 2, channels: 3, height: 3, width: 2, storage: $0))) },
                       at: x.storage, gradient: gx.storage, "upsampling input")

        let b = randomTensor(2, 2, 3, 2, using: &rng)
        let cat = Tensor4.concatenate(x, b)
        XCTAssertEqual(cat.shape, [2, 5, 3, 2])
        XCTAssertEqual(cat[1, 3, 2, 1], b[1, 0, 2, 1])
        XCTAssertEqual(cat[1, 2, 0, 1], x[1, 2, 0, 1])
        let (xa, xb) = cat.splitChannels(at: 3)
        XCTAssertEqual(xa, x); XCTAssertEqual(xb, b)
        let m = Tensor4.concatenateMasks(randomMask(2, 1, 3, 2, valid: 0.5, using: &rng), channels: 3,
                                         Tensor4(batch: 2, channels: 2, height: 3, width: 2, repeating: 1), channels: 2)
        XCTAssertEqual(m.shape, [2, 5, 3, 2])
        XCTAssertEqual(m[1, 0, 1, 1], m[1, 2, 1, 1])
    }

    func testGroupSoftmaxSumsToOneAndGradientMatches() {
        var rng = SplitMix64(seed: 7)
        let sm = GroupSoftmax(width: 10, groups: [0..<3, 5..<9, 9..<10])
        let x = Matrix(rows: 3, columns: 10, storage: (0..<30).map { _ in Float.random(in: -3...3, using: &rng) })
        let y = sm(x)
        for r in 0..<3 {
            for g in sm.groups {
                XCTAssertEqual(g.reduce(Float(0)) { $0 + y[r, $1] }, 1, accuracy: 1e-6)
                XCTAssertTrue(g.allSatisfy { y[r, $0] >= 0 })
            }
            XCTAssertEqual(y[r, 3], x[r, 3]); XCTAssertEqual(y[r, 4], x[r, 4])
        }
        let c = Matrix(rows: 3, columns: 10, storage: (0..<30).map { _ in Float.random(in: -1...1, using: &rng) })
        let gx = sm.backward(output: y, outputGradient: c)
        assertGradient({ v in
            zip(c.storage, sm(Matrix(rows: 3, columns: 10, storage: v)).storage).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }, at: x.storage, gradient: gx.storage, "group softmax input")
        // Large logits do not overflow.
        let big = sm(Matrix(rows: 1, columns: 10, storage: [1000, 999, -1000, 0, 0, 50, 50, 50, 50, 7]))
        XCTAssertEqual(big[0, 0], 1 / (1 + expf(-1)), accuracy: 1e-6)
        XCTAssertEqual(big[0, 6], 0.25, accuracy: 1e-6)
    }

    func testMaskedLossValuesAndGradients() {
        let p: [Float] = [0.5, 0.2, -1, 3], t: [Float] = [0, 0.2, 1, 0], w: [Float] = [1, 1, 0, 0.5]
        XCTAssertEqual(MaskedLoss.l1(p, t, weights: w), (0.5 + 0 + 0.5 * 3) / 2.5, accuracy: 1e-6)
        XCTAssertEqual(MaskedLoss.l2(p, t, weights: w), (0.25 + 0.5 * 9) / 2.5, accuracy: 1e-6)
        XCTAssertEqual(MaskedLoss.l2(p, t, weights: [0, 0, 0, 0]), 0)
        XCTAssertEqual(MaskedLoss.weights(hidden: [1, 0, 1], knownWeight: 0.1), [1, 0.1, 1])
        for loss in MaskedLoss.allCases {
            let q: [Float] = [0.5, 0.25, -1, 3]
            let (_, g) = loss.valueAndGradient(q, t, weights: w)
            assertGradient({ Double(loss($0, t, weights: w)) }, at: q, gradient: g, step: 1e-3, "\(loss)")
            XCTAssertEqual(g[2], 0, "an entry of weight 0 gets no gradient")
        }
    }
}
