import Foundation
import XCTest
import EMU
import MLFluxCore
import NeuralNetworks
import TestSupport
@testable import Prediction

/// A small ANN trained in seconds on toy data simulated here.
final class ANNPredictorTests: XCTestCase {
    struct Data {
        var x: Matrix
        var free: [[Double]]
    }

    static func simulate(_ n: Int, seed: UInt64, network: MetabolicNetwork, basis: FreeFluxBasis,
                         simulator: EMUSimulator) throws -> Data {
        var rng = SplitMix64(seed: seed)
        var rows: [Float] = [], free: [[Double]] = []
        for _ in 0..<n {
            let theta = [1, Double.random(in: 0.05...0.45, using: &rng), pow(10, Double.random(in: -2...0, using: &rng))]
            let lab = try simulator.simulate(basis.fluxState(free: theta))
            rows += lab.values.map(Float.init)
            free.append(theta)
        }
        return Data(x: Matrix(rows: n, columns: rows.count / n, storage: rows), free: free)
    }

    func testTrainsPredictsMassBalancedFluxesAndRoundTrips() throws {
        let network = try toyNetwork(experiments: ["100", "010", "001", "110", "101", "011"].map {
            TracerExperiment(id: "A_\($0)", inputs: [TracerInput(pool: "molA", components: [TracerComponent(pattern: $0, fraction: 1)!])])
        })
        let basis = try FreeFluxBasis(network: network)
        let sim = try EMUSimulator(network: network, experiments: network.experiments)
        let layout = LabelingLayout(experimentIDs: network.experiments.map(\.id), measured: sim.measured)
        let train = try Self.simulate(1500, seed: 1, network: network, basis: basis, simulator: sim)
        let val = try Self.simulate(200, seed: 2, network: network, basis: basis, simulator: sim)
        let test = try Self.simulate(200, seed: 3, network: network, basis: basis, simulator: sim)
        let (p, history) = ANNTraining.train(
            network: network, basis: basis, layout: layout, inputs: train.x, free: train.free,
            validation: (val.x, val.free),
            configuration: ANNTrainingConfiguration(hidden: [48, 48], epochs: 30, batchSize: 32, learningRate: 2e-3,
                                                    members: 1, patience: 30, seed: 5))
        XCTAssertLessThan(history[0].bestValidationLoss, history[0].epochs[0].validationLoss)
        let predictions = p.predict(matrix: test.x)
        var close = 0
        for (pred, truth) in zip(predictions, test.free) {
            XCTAssertEqual(pred.free[0], 1, "fixed free flux v1 keeps its value")
            XCTAssertLessThan(pred.fluxState.balanceResidual(in: network).map(abs).max()!, 1e-9, "mass balance")
            XCTAssertTrue(pred.exchange.allSatisfy { $0 >= 0 })
            let v2 = network.reactionIndex["v2"]!
            XCTAssertEqual(pred.deltaG[v2], Thermodynamics.deltaG(net: pred.net[v2], xch: pred.exchange[v2]), accuracy: 1e-9)
            XCTAssertTrue(pred.deltaG[network.reactionIndex["v1"]!].isNaN, "one-way reaction has no ΔG")
            XCTAssertTrue(pred.freeSE[1] > 0 && pred.freeSE[2] > 0)
            if abs(pred.free[1] - truth[1]) < 0.02 { close += 1 }
        }
        // v3 is identifiable from the labeling; a small net trained 30 epochs on 1,500 states gets most within 0.02.
        XCTAssertGreaterThan(close, 150, "v3 within 0.02 in \(close)/200")

        // Calibration: rescaled on the validation rows, the stated 1σ covers about 68 % of the
        // errors on the independent test rows (200 rows: ±0.12 is > 3 binomial standard deviations).
        let calibrated = p.calibrated(on: val.x, free: val.free)
        let moments = calibrated.targetMoments(test.x)
        let transform = p.members[0].transform
        for j in 0..<transform.targetCount {
            let inside = zip(moments, test.free).filter { m, f in abs(transform.targets(f)[j] - m.mean[j]) <= m.std[j] }.count
            XCTAssertEqual(Double(inside) / Double(test.free.count), 0.6827, accuracy: 0.12, "target \(j)")
        }

        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ann-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ANNWeightsFile.write(calibrated, to: url)
        let q = try ANNWeightsFile.read(url, network: network, basis: basis, layout: layout)
        XCTAssertEqual(q.predict(matrix: test.x).map(\.free), predictions.map(\.free), "reloaded weights predict identically")
        XCTAssertEqual(q.calibration, calibrated.calibration)

        // A calibration whose bins do not match its factors is refused, naming file and key.
        var broken = calibrated
        broken.calibration?.edges[0][0].append(0.5)
        let brokenURL = url.deletingLastPathComponent().appendingPathComponent("broken-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: brokenURL) }
        try ANNWeightsFile.write(broken, to: brokenURL)
        XCTAssertThrowsError(try ANNWeightsFile.read(brokenURL, network: network, basis: basis, layout: layout)) {
            XCTAssertTrue("\($0)".contains(brokenURL.path) && "\($0)".contains("sigma_calibration"), "\($0)")
        }

        // Errors name the file: another layout, and a truncated file.
        let other = LabelingLayout(experimentIDs: ["A_100"], measured: sim.measured)
        XCTAssertThrowsError(try ANNWeightsFile.read(url, network: network, basis: basis, layout: other)) {
            XCTAssertTrue("\($0)".contains(url.path) && "\($0)".contains("layout"), "\($0)")
        }
        let bytes = try Foundation.Data(contentsOf: url)
        try bytes.prefix(bytes.count / 2).write(to: url)
        XCTAssertThrowsError(try ANNWeightsFile.read(url, network: network, basis: basis, layout: layout)) {
            XCTAssertTrue("\($0)".contains(url.path), "\($0)")
        }
        XCTAssertThrowsError(try p.predict([[0.5]])) { XCTAssertTrue("\($0)".contains("entries")) }
    }
}
