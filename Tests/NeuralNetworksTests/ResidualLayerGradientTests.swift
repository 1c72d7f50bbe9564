import XCTest
import NeuralNetworks
import TestSupport

/// GELU, residual blocks (with a fixed dropout mask), the residual MLP and the grouped softmax
/// with its masked cross-entropy: analytic gradients against central differences.
final class ResidualLayerGradientTests: XCTestCase {
    func testGELUMatchesItsDefinitionAndDerivative() {
        // gelu(z) = z·Φ(z); Φ(0) = ½, Φ(1) = 0.8413447460685429.
        XCTAssertEqual(GELU.apply(Matrix([[0, 1, -1]])).storage, [0, 0.8413447, -0.15865525], accuracy: 1e-6)
        var rng = SplitMix64(seed: 51)
        let z = randomMatrix(3, 4, scale: 3, using: &rng), c = randomMatrix(3, 4, using: &rng)
        var g = c
        z.storage.withUnsafeBufferPointer { pz in g.storage.withUnsafeMutableBufferPointer { GELU.backward(pz, gradient: $0) } }
        assertGradient({ dot(c, GELU.apply(Matrix(rows: 3, columns: 4, storage: $0))) }, at: z.storage, gradient: g.storage,
                       step: 1e-2, "gelu")
    }

    func testResidualBlockGradients() {
        var rng = SplitMix64(seed: 52)
        var block = ResidualBlock(width: 5, hidden: 7, using: &rng)
        for i in block.fc2.weight.storage.indices { block.fc2.weight.storage[i] *= 10 }   // undo the small init: a stronger test
        let x = randomMatrix(3, 5, using: &rng), c = randomMatrix(3, 5, using: &rng)
        let mask = Dropout(rate: 0.3).mask(count: 3 * 7, using: &rng)
        XCTAssertTrue(mask.contains(0) && mask.contains { $0 > 1 })
        let (_, trace) = block.forward(x, dropoutMask: mask)
        let (g, gx) = block.backward(input: x, trace: trace, outputGradient: c)
        func loss(_ b: ResidualBlock, _ x: Matrix) -> Double { dot(c, b.forward(x, dropoutMask: mask).output) }
        assertGradient({ var b = block; b.fc1.weight.storage = $0; return loss(b, x) }, at: block.fc1.weight.storage,
                       gradient: g.fc1.weight.storage, "fc1.weight")
        assertGradient({ var b = block; b.fc1.bias = $0; return loss(b, x) }, at: block.fc1.bias, gradient: g.fc1.bias, "fc1.bias")
        assertGradient({ var b = block; b.fc2.weight.storage = $0; return loss(b, x) }, at: block.fc2.weight.storage,
                       gradient: g.fc2.weight.storage, "fc2.weight")
        assertGradient({ var b = block; b.fc2.bias = $0; return loss(b, x) }, at: block.fc2.bias, gradient: g.fc2.bias, "fc2.bias")
        assertGradient({ loss(block, Matrix(rows: 3, columns: 5, storage: $0)) }, at: x.storage, gradient: gx.storage, "input")
    }

    func testGroupSoftmaxIsADistributionPerGroupWithTheRightGradient() {
        var rng = SplitMix64(seed: 53)
        let sm = GroupSoftmax(sizes: [3, 1, 4])
        let z = randomMatrix(2, 8, scale: 4, using: &rng), c = randomMatrix(2, 8, using: &rng)
        let p = sm(z)
        for r in 0..<2 {
            for g in sm.groups {
                XCTAssertEqual(g.reduce(Float(0)) { $0 + p[r, $1] }, 1, accuracy: 1e-6)
                XCTAssertTrue(g.allSatisfy { p[r, $0] >= 0 })
            }
        }
        let gz = sm.backward(output: p, outputGradient: c)
        assertGradient({ dot(c, sm(Matrix(rows: 2, columns: 8, storage: $0))) }, at: z.storage, gradient: gz.storage, "softmax")
    }

    /// The fused loss: its value from the definition, its gradient by finite differences, and
    /// groups with weight 0 contribute nothing.
    func testMaskedCrossEntropy() {
        var rng = SplitMix64(seed: 54)
        let sm = GroupSoftmax(sizes: [2, 3])
        let z = randomMatrix(2, 5, scale: 2, using: &rng)
        let y = sm(randomMatrix(2, 5, scale: 2, using: &rng))
        let weights: [Float] = [1, 0, 1, 1]
        let p = sm(z)
        let (value, grad) = sm.crossEntropy(probabilities: p, targets: y, weights: weights)
        var expected = 0.0
        for (r, g, w) in [(0, 0..<2, 1.0), (1, 0..<2, 1.0), (1, 2..<5, 1.0)] {
            for j in g { expected -= w * Double(y[r, j]) * log(Double(p[r, j])) }
        }
        XCTAssertEqual(Double(value), expected / 3, accuracy: 1e-5)
        for j in 2..<5 { XCTAssertEqual(grad[0, j], 0) }
        assertGradient({ Double(sm.crossEntropy(probabilities: sm(Matrix(rows: 2, columns: 5, storage: $0)), targets: y, weights: weights).value) },
                       at: z.storage, gradient: grad.storage, "cross-entropy")
    }

    func testResidualMLPBackwardAndFile() throws {
        var rng = SplitMix64(seed: 55)
        var net = ResidualMLP(inputs: 4, width: 6, hidden: 5, blocks: 2, outputs: 3, dropout: 0, using: &rng)
        for b in net.blocks.indices { for i in net.blocks[b].fc2.weight.storage.indices { net.blocks[b].fc2.weight.storage[i] *= 10 } }
        let x = randomMatrix(3, 4, using: &rng), c = randomMatrix(3, 3, using: &rng)
        let trace = net.forwardTrace(x, using: &rng)
        XCTAssertEqual(trace.output, net(x))
        let (grads, gx) = net.backward(trace: trace, outputGradient: c)
        var index = 0
        var copy = net
        copy.updateParameters(grads) { k, name, theta, g in
            XCTAssertEqual(k, index); index += 1
            let values = Array(theta), gradient = Array(g)
            assertGradient({ v in
                var m = net
                m.updateParameters(grads) { k2, _, t2, _ in if k2 == k { for i in t2.indices { t2[i] = v[i] } } }
                return dot(c, m(x))
            }, at: values, gradient: gradient, name)
        }
        XCTAssertEqual(index, net.parameters.count)
        assertGradient({ dot(c, net(Matrix(rows: 3, columns: 4, storage: $0))) }, at: x.storage, gradient: gx.storage, "input")
        let back = try ResidualMLP(SafeTensors(bytes: net.safeTensors().serialized()))
        XCTAssertEqual(back, net)
    }
}

private func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
