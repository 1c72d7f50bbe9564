import EMU
import Foundation
import MLFluxCore
import NeuralNetworks
import TestSupport
import XCTest
@testable import Prediction

/// `ConditionalErrorShape` against error distributions known in closed form that change with
/// the prediction, and `ScalarGaussianMixture` against Φ.
final class ConditionalErrorShapeTests: XCTestCase {
    static func uniform(_ rng: inout SplitMix64) -> Double { Double(rng.next() >> 11) * 0x1p-53 }

    /// One component is a Gaussian (Φ⁻¹(0.975) = 1.959964); a three-component mixture's
    /// quantiles invert its CDF at every default probability and ascend strictly.
    func testMixtureQuantilesInvertItsCDF() {
        let g = ScalarGaussianMixture(weights: [1], means: [0.3], scales: [2])
        let q = g.quantiles([0.025, 0.5, 0.975])
        XCTAssertEqual(q[0], 0.3 - 2 * 1.959_963_985, accuracy: 1e-7)
        XCTAssertEqual(q[1], 0.3, accuracy: 1e-9)
        XCTAssertEqual(q[2], 0.3 + 2 * 1.959_963_985, accuracy: 1e-7)
        let m = ScalarGaussianMixture(weights: [0.2, 0.5, 0.3], means: [-3, 0, 0.5], scales: [0.3, 1, 0.05])
        let p = QuantileCalibration.defaultProbabilities
        let z = m.quantiles(p)
        for (zi, pi) in zip(z, p) { XCTAssertEqual(m.cdf(zi), pi, accuracy: 1e-9, "p \(pi)") }
        XCTAssertTrue(zip(z, z.dropFirst()).allSatisfy { $0 < $1 })
        // From the loss's parametrisation: softmax weights, exp of clamped log-scales.
        let fromOutputs = ScalarGaussianMixture(logits: [0, Float(log(3.0))], means: [1, 2], logScales: [0, 20])
        XCTAssertEqual(fromOutputs.weights[1], 0.75, accuracy: 1e-7)
        XCTAssertEqual(fromOutputs.scales[1], exp(7), accuracy: 1e-6)
    }

    /// Toy basis θ = [v1 (fixed), v3 net, v2 exchange]. The net flux's predicted value p is
    /// uniform on 0.05 … 0.45; its standardised error is N(μ(p), 0.5²) with
    /// μ(p) = 1.5·tanh((p − 0.25)/0.05) — biased low at one end of the range and high at the
    /// other, so pooled over all rows it is bimodal. The exchange flux's error is N(0, 1)
    /// scaled by 0.5 + 2·(p − 0.05).
    static func rows(_ n: Int, seed: UInt64, basis: FreeFluxBasis, network: MetabolicNetwork)
        -> (predictions: [FluxPrediction], truth: [[Double]], low: [Bool]) {
        var rng = SplitMix64(seed: seed)
        var predictions: [FluxPrediction] = [], truth: [[Double]] = [], low: [Bool] = []
        let seNet = 0.01, seLog = 0.05
        for _ in 0..<n {
            let p = 0.05 + 0.4 * uniform(&rng)
            let zNet = 1.5 * tanh((p - 0.25) / 0.05) + 0.5 * rng.nextGaussianForCalibrationTests()
            let zX = rng.nextGaussianForCalibrationTests() * (0.5 + 2 * (p - 0.05))
        let x = 0.5
            let seX = seLog * x * log(10)
            predictions.append(FluxPrediction(free: [1, p, x], freeCovariance: [0, 0, 0, 0, seNet * seNet, 0, 0, 0, seX * seX],
                                              basis: basis, network: network))
            truth.append([1, p + zNet * seNet, x * pow(10, zX * seLog)])
            low.append(p < 0.25)
        }
        return (predictions, truth, low)
    }

    /// On held-out rows, the ranks under a quantile head and under a mixture head are uniform
    /// within each half of the predicted range (χ² p > 1e-3 in each of the 8 histograms: a
    /// head fitted on 9,000 rows is not exact), where one shape pooled over all rows
    /// (`QuantileCalibration`) is not (p < 1e-4); at the ends of the range each head's
    /// median is μ(p) (∓1.4985).
    func testHeadTakesAShapeThatChangesWithThePrediction() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        let fit = Self.rows(10000, seed: 1, basis: basis, network: network)
        let pooled = QuantileCalibration.fit(predictions: fit.predictions, truthFree: fit.truth, basis: basis, sigmas: nil).quantiles(sigma: nil)
        let test = Self.rows(4000, seed: 3, basis: basis, network: network)
        let grid = [0.005] + (1...19).map { Double($0) / 20 } + [0.995]
        for head in [ConditionalErrorShape.Head.quantiles, .mixture(components: 3)] {
            let (shape, summary) = ConditionalErrorShape.fit(predictions: fit.predictions, truthFree: fit.truth, basis: basis, sigmas: nil,
                                                             head: head, hidden: [16, 16], epochs: 25, probabilities: grid,
                                                             batchSize: 64, learningRate: 3e-3, seed: 2)
            XCTAssertEqual(shape.covered, [false, true, true])
            XCTAssertLessThan(summary.validationLoss, summary.gaussianLoss, "\(head): the head fits better than N(0, 1)")
            let shaped = zip(test.predictions, shape.quantiles(test.predictions, sigmas: nil, basis: basis)).map { p, q in
                var p = p
                p.freeErrorQuantiles = q
                return p
            }
            for half in [true, false] {
                let idx = test.low.indices.filter { test.low[$0] == half }
                for k in [1, 2] {
                    let ranks = idx.map { shaped[$0].rank(free: k, truth: test.truth[$0][k], basis: basis) }
                    let h = RankCalibration.histogram(name: "", ranks: ranks)
                    XCTAssertGreaterThan(h.pValue, 1e-3, "\(head), flux \(k), low half \(half): \(h.counts)")
                }
            }
            let ends = shape.quantiles([test.predictions[0], test.predictions[0]].enumerated().map { i, p in
                var p = p
                p.free[1] = i == 0 ? 0.06 : 0.44
                return p
            }, sigmas: nil, basis: basis)
            XCTAssertEqual(try XCTUnwrap(ends[0].quantile(0.5, flux: 1)), 1.5 * tanh(-3.8), accuracy: 0.12, "\(head), low end")
            XCTAssertEqual(try XCTUnwrap(ends[1].quantile(0.5, flux: 1)), 1.5 * tanh(3.8), accuracy: 0.12, "\(head), high end")
        }
        for half in [true, false] {
            let idx = test.low.indices.filter { test.low[$0] == half }
            let marginal = RankCalibration.histogram(name: "", ranks: idx.map { i -> Double in
                var p = test.predictions[i]
                p.freeErrorQuantiles = pooled
                return p.rank(free: 1, truth: test.truth[i][1], basis: basis)
            })
            XCTAssertLessThan(marginal.pValue, 1e-4, "low half \(half): the pooled shape \(marginal.counts)")
        }
    }

    /// The head survives the weights file; a header that does not fit gives one line naming the
    /// file and the key.
    func testWeightsFileRoundTripAndValidation() throws {
        var (predictor, rng) = try untrainedToyANN(seed: 8)
        let (network, basis, layout) = (predictor.network, predictor.basis, predictor.layout)
        predictor.errorShape = ConditionalErrorShape(mlp: MLP(widths: [7, 5, 18], using: &rng),
                                                     features: Standardizer(mean: [Float](repeating: 0.1, count: 7), std: [Float](repeating: 2, count: 7)),
                                                     head: .mixture(components: 2), covered: [false, true, true])
        let x = Matrix(rows: 6, columns: layout.count, storage: (0..<(6 * layout.count)).map { _ in Float(Self.uniform(&rng)) })
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("eshape-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("ann.safetensors")
        try ANNWeightsFile.write(predictor, to: url)
        let read = try ANNWeightsFile.read(url, network: network, basis: basis, layout: layout)
        XCTAssertEqual(read.errorShape, predictor.errorShape)
        let a = predictor.predict(matrix: x), b = read.predict(matrix: x)
        XCTAssertEqual(a.map(\.freeErrorQuantiles), b.map(\.freeErrorQuantiles))
        XCTAssertNil(a[0].freeErrorQuantiles?.knots(0), "the fixed flux keeps a Gaussian")
        XCTAssertNotNil(a[0].freeErrorQuantiles?.knots(2))

        var file = try SafeTensors(contentsOf: url)
        file.metadata["error_shape"] = file.metadata["error_shape"]!.replacingOccurrences(of: "\"components\":2", with: "\"components\":3")
        try file.write(to: url)
        XCTAssertThrowsError(try ANNWeightsFile.read(url, network: network, basis: basis, layout: layout)) {
            let text = "\($0)"
            XCTAssertTrue(text.contains(url.path) && text.contains("error_shape") && text.contains("do not take 7 features"), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }
}
