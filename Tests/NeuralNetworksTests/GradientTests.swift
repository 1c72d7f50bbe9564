import XCTest
import NeuralNetworks
import TestSupport

final class GradientTests: XCTestCase {
    /// Weight, bias and input gradients of `Dense` for every activation.
    func testDenseGradientsMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 11)
        for act in Activation.allCases {
            let layer = Dense(inputs: 5, outputs: 4, activation: act, using: &rng)
            let x = randomMatrix(3, 5, using: &rng)
            let c = randomMatrix(3, 4, using: &rng)          // L = Σ c ⊙ y
            let y = layer(x)
            let (g, gx) = layer.backward(input: x, output: y, outputGradient: c)
            // ReLU has kinks: a smaller step keeps the differences on one side of them.
            let h: Float = act == .relu ? 1e-3 : 1e-2
            let tol = act == .relu ? 1e-2 : 2e-3
            assertGradient({ w in
                var l = layer; l.weight.storage = w; return dot(c, l(x))
            }, at: layer.weight.storage, gradient: g.weight.storage, step: h, tolerance: tol, "\(act) weight")
            assertGradient({ b in
                var l = layer; l.bias = b; return dot(c, l(x))
            }, at: layer.bias, gradient: g.bias, step: h, tolerance: tol, "\(act) bias")
            assertGradient({ xs in
                dot(c, layer(Matrix(rows: 3, columns: 5, storage: xs)))
            }, at: x.storage, gradient: gx!.storage, step: h, tolerance: tol, "\(act) input")
        }
    }

    /// A three-layer MLP (tanh, sigmoid, identity) under MSE: every parameter and the input.
    func testMLPBackwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 12)
        var model = MLP(widths: [4, 6, 5, 3], hidden: .tanh, output: .identity, using: &rng)
        model.layers[1].activation = .sigmoid
        let x = randomMatrix(4, 4, using: &rng), t = randomMatrix(4, 3, using: &rng)
        let trace = model.forwardTrace(x)
        let (_, g0) = Loss.mse.valueAndGradient(trace.last!, t)
        let (grads, gx) = model.backward(trace: trace, outputGradient: g0, needsInputGradient: true)
        XCTAssertEqual(trace.last!, model(x))
        for (k, p) in model.parameters.enumerated() {
            let grad = k % 2 == 0 ? grads[k / 2].weight.storage : grads[k / 2].bias
            assertGradient({ v in
                var m = model
                if k % 2 == 0 { m.layers[k / 2].weight.storage = v } else { m.layers[k / 2].bias = v }
                return Double(Loss.mse(m(x), t))
            }, at: p.values, gradient: grad, step: 1e-2, tolerance: 3e-3, p.name)
        }
        assertGradient({ Double(Loss.mse(model(Matrix(rows: 4, columns: 4, storage: $0)), t)) },
                       at: x.storage, gradient: gx!.storage, "input")
    }

    func testLossGradientsMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 13)
        let y = randomMatrix(5, 3, using: &rng)
        var kernel = randomMatrix(4, 3, using: &rng)
        kernel[0, 0] = 1
        let map = LinearMap(kernel: kernel, offset: [0.5, -1, 0, 2])
        let yMapped = randomMatrix(5, 4, using: &rng)
        let cases: [(String, Loss, Matrix, Matrix)] = [
            ("mse", .mse, randomMatrix(5, 3, using: &rng), y),
            ("mae", .mae, randomMatrix(5, 3, using: &rng), y),
            ("weightedMSE", .weightedMSE([0.5, 2, 0.1]), randomMatrix(5, 3, using: &rng), y),
            ("gaussianNLL", .gaussianNLL, randomMatrix(5, 6, using: &rng), y),
            ("gaussianCholeskyNLL", .gaussianCholeskyNLL, randomMatrix(5, 9, using: &rng), y),
            ("gaussianMixtureNLL", .gaussianMixtureNLL(components: 2), randomMatrix(5, 18, using: &rng), y),
            ("gaussianMixtureNLL, 3 components", .gaussianMixtureNLL(components: 3), randomMatrix(5, 27, using: &rng), y),
            ("mapped weightedMSE", .mapped(map, .weightedMSE([1, 2, 3, 0.5])), randomMatrix(5, 3, using: &rng), yMapped),
            ("mapped gaussianNLL", .mapped(LinearMap(kernel: randomMatrix(6, 2, using: &rng)), .gaussianNLL),
             randomMatrix(5, 2, using: &rng), y),
        ]
        for (name, loss, p, t) in cases {
            let (value, g) = loss.valueAndGradient(p, t)
            XCTAssertEqual(value, loss(p, t), name)
            XCTAssertEqual(g.rows, p.rows); XCTAssertEqual(g.columns, p.columns)
            // MAE is piecewise linear: a small step stays on one side of |·|'s kink.
            assertGradient({ Double(loss(Matrix(rows: p.rows, columns: p.columns, storage: $0), t)) },
                           at: p.storage, gradient: g.storage, step: name == "mae" ? 1e-3 : 1e-2, name)
        }
    }

    /// The full-covariance NLL with zero off-diagonals is the diagonal one; its covariance
    /// inverts the precision P·Pᵀ; and it equals ½(log det Σ + rᵀΣ⁻¹r) computed from Σ directly.
    func testCholeskyNLLAgainstTheDiagonalAndTheDenseFormula() {
        var rng = SplitMix64(seed: 21)
        let y = randomMatrix(4, 3, using: &rng)
        let diag = randomMatrix(4, 6, using: &rng)
        var full = Matrix(rows: 4, columns: 9)
        for r in 0..<4 { for j in 0..<6 { full[r, j] = diag[r, j] } }
        XCTAssertEqual(Loss.gaussianCholeskyNLL(full, y), Loss.gaussianNLL(diag, y), accuracy: 1e-6)
        XCTAssertEqual(Loss.choleskyTargets(width: 9), 3)
        XCTAssertNil(Loss.choleskyTargets(width: 8))
        let p = randomMatrix(1, 9, using: &rng), t = randomMatrix(1, 3, using: &rng)
        let (mu, cov) = Loss.gaussianMeanAndCovariance(p, row: 0, targets: 3)
        // Precision from the parametrisation, by hand.
        var P = [[Double]](repeating: [0, 0, 0], count: 3)
        for i in 0..<3 { P[i][i] = exp(-0.5 * Double(p[0, 3 + i])) }
        P[1][0] = Double(p[0, 6]); P[2][0] = Double(p[0, 7]); P[2][1] = Double(p[0, 8])
        for i in 0..<3 {
            for j in 0..<3 {
                var lambdaSigma = 0.0
                for k in 0..<3 {
                    var lambda = 0.0
                    for m in 0..<3 { lambda += P[i][m] * P[k][m] }
                    lambdaSigma += lambda * cov[k * 3 + j]
                }
                XCTAssertEqual(lambdaSigma, i == j ? 1 : 0, accuracy: 1e-9, "Λ·Σ = I")
            }
        }
        // ½(log det Σ + rᵀΛr) / n with log det Σ = Σ s_i.
        let r = (0..<3).map { Double(t[0, $0]) - mu[$0] }
        var quad = 0.0
        for i in 0..<3 { for j in 0..<3 { var l = 0.0; for m in 0..<3 { l += P[i][m] * P[j][m] }; quad += r[i] * l * r[j] } }
        let logDet = (0..<3).reduce(0.0) { $0 + Double(p[0, 3 + $1]) }
        XCTAssertEqual(Double(Loss.gaussianCholeskyNLL(p, t)), 0.5 * (logDet + quad) / 3, accuracy: 1e-5)
    }

    /// The mixture NLL with one component is the Gaussian NLL (log-scale = s/2); two equal
    /// components are one; the value at a point by hand; a NaN target adds nothing.
    func testMixtureNLLAgainstTheGaussianAndByHand() {
        var rng = SplitMix64(seed: 5)
        let y = randomMatrix(4, 3, using: &rng)
        let gaussian = randomMatrix(4, 6, using: &rng)
        var one = Matrix(rows: 4, columns: 9), two = Matrix(rows: 4, columns: 18)
        for r in 0..<4 {
            for j in 0..<3 {
                one[r, 3 * j] = 0.7                       // the only logit: weight 1
                one[r, 3 * j + 1] = gaussian[r, j]
                one[r, 3 * j + 2] = 0.5 * gaussian[r, 3 + j]
                for c in 0..<2 {                          // two copies of the same component
                    two[r, 6 * j + c] = -1.3
                    two[r, 6 * j + 2 + c] = gaussian[r, j]
                    two[r, 6 * j + 4 + c] = 0.5 * gaussian[r, 3 + j]
                }
            }
        }
        XCTAssertEqual(Loss.gaussianMixtureNLL(components: 1)(one, y), Loss.gaussianNLL(gaussian, y), accuracy: 1e-6)
        XCTAssertEqual(Loss.gaussianMixtureNLL(components: 2)(two, y), Loss.gaussianNLL(gaussian, y), accuracy: 1e-6)
        // Weights 1/4, 3/4 (logits 0, ln 3); N(0, 1) and N(2, 0.5²) at y = 1.
        let p = Matrix([[0, logf(3), 0, 2, 0, logf(0.5)]])
        let density = 0.25 * exp(-0.5) + 0.75 * exp(-0.5 * 4) / 0.5
        XCTAssertEqual(Double(Loss.gaussianMixtureNLL(components: 2)(p, Matrix([[1]]))), -log(density), accuracy: 1e-6)
        // A NaN target: no loss, no gradient, but it counts in the mean.
        let (value, g) = Loss.gaussianMixtureNLL(components: 2).valueAndGradient(Matrix([[0, logf(3), 0, 2, 0, logf(0.5)],
                                                                                         [0, logf(3), 0, 2, 0, logf(0.5)]]),
                                                                                 Matrix([[1], [.nan]]))
        XCTAssertEqual(Double(value), -log(density) / 2, accuracy: 1e-6)
        XCTAssertEqual(g.row(1), [Float](repeating: 0, count: 6))
        XCTAssertEqual(Loss.gaussianMixtureNLL(components: 4).predictionWidth(targetWidth: 5), 60)
    }

    /// Known values: MSE/MAE/weighted MSE by hand; the NLL at μ = y, s = 0 is 0 and its
    /// minimum over s for a residual r is at σ² = r².
    func testLossValues() {
        let p = Matrix([[1, 2], [3, 4]]), y = Matrix([[0, 2], [5, 4]])
        XCTAssertEqual(Loss.mse(p, y), (1 + 0 + 4 + 0) / 4)
        XCTAssertEqual(Loss.mae(p, y), (1 + 0 + 2 + 0) / 4)
        XCTAssertEqual(Loss.weightedMSE([2, 1])(p, y), (2 + 0 + 8 + 0) / 4)
        XCTAssertEqual(Loss.gaussianNLL(Matrix([[1, 0]]), Matrix([[1]])), 0)
        let r: Float = 0.3
        let (_, g) = Loss.gaussianNLL.valueAndGradient(Matrix([[0, logf(r * r)]]), Matrix([[r]]))
        XCTAssertEqual(g[0, 1], 0, accuracy: 1e-6)
        let (mean, std) = Loss.gaussianMeanAndStd(Matrix([[1, logf(4)]]))
        XCTAssertEqual(mean[0, 0], 1); XCTAssertEqual(std[0, 0], 2, accuracy: 1e-6)
        // A linear map: K = [[1, 1], [1, −1]] maps (a, b) to (a + b, a − b).
        let map = LinearMap(kernel: Matrix([[1, 1], [1, -1]]), offset: [1, 0])
        XCTAssertEqual(map(Matrix([[2, 1]])), Matrix([[4, 1]]))
    }

    /// Row-major products with every transpose combination against the definition.
    func testMatrixProductsMatchDefinition() {
        var rng = SplitMix64(seed: 14)
        let a = randomMatrix(3, 4, using: &rng), b = randomMatrix(4, 5, using: &rng)
        func naive(_ a: Matrix, _ b: Matrix) -> Matrix {
            var c = Matrix(rows: a.rows, columns: b.columns)
            for i in 0..<a.rows { for j in 0..<b.columns { for k in 0..<a.columns { c[i, j] += a[i, k] * b[k, j] } } }
            return c
        }
        let ref = naive(a, b)
        XCTAssertLessThan(Matrix.matmul(a, b).maxAbsDifference(ref), 1e-5)
        XCTAssertLessThan(Matrix.matmul(a.transposed, transposeA: true, b).maxAbsDifference(ref), 1e-5)
        XCTAssertLessThan(Matrix.matmul(a, b.transposed, transposeB: true).maxAbsDifference(ref), 1e-5)
        XCTAssertLessThan(Matrix.matmul(a.transposed, transposeA: true, b.transposed, transposeB: true).maxAbsDifference(ref), 1e-5)
        // One-row products take the sgemv path.
        let row = a.rows(1..<2), refRow = ref.rows(1..<2)
        XCTAssertLessThan(Matrix.matmul(row, b).maxAbsDifference(refRow), 1e-5)
        XCTAssertLessThan(Matrix.matmul(row.transposed, transposeA: true, b).maxAbsDifference(refRow), 1e-5)
        XCTAssertLessThan(Matrix.matmul(row, b.transposed, transposeB: true).maxAbsDifference(refRow), 1e-5)
        var r1 = Matrix(rows: 1, columns: 5, repeating: 1)
        Matrix.gemm(row, b, alpha: 2, beta: 1, into: &r1)
        XCTAssertLessThan(r1.maxAbsDifference(Matrix(rows: 1, columns: 5, storage: refRow.storage.map { 2 * $0 + 1 })), 1e-5)
        var c = Matrix(rows: 3, columns: 5, repeating: 1)
        Matrix.gemm(a, b, alpha: 2, beta: 1, into: &c)
        XCTAssertLessThan(c.maxAbsDifference(Matrix(rows: 3, columns: 5, storage: ref.storage.map { 2 * $0 + 1 })), 1e-5)
    }
}
