import Foundation
import MLFluxCore
import NeuralNetworks
import TestSupport
import XCTest
@testable import Prediction

/// `HybridPredictor.calibration`: factors on the MAP's standard errors fitted on noisy rows
/// with known truths, checked on other rows with truths drawn independently (their 1σ
/// coverage, the definition of the factors), and the map's round trip through the weights
/// file (`hybrid_calibration`).
final class HybridCalibrationTests: XCTestCase {
    /// Toy, one tracer, an untrained network as the prior; the MIDs' noise is σ 0.02 but the
    /// rows state 0.01, so the fit's SEs are half the errors (the uncalibrated hybrid covers
    /// v3.net in well under 60 %). Fitted on 300 rows, the factors find the 2 (v3.net within
    /// 1.6–2.4), and on 300 fresh rows the calibrated hybrid's 1σ holds the true v3.net, v2.xch
    /// and ΔG(v2) in 68.27 % ± 4 SE of the rows.
    func testFactorsFittedOnSomeRowsCoverOthers() throws {
        var (ann, rng) = try untrainedToyANN(seed: 31)
        let (mfa, basis, sim, layout) = try toyLeastSquares(["100"], startCount: 2)
        XCTAssertEqual(layout.count, ann.layout.count)
        /// `n` rows: truths uniform in v3 ∈ [0.1, 0.9] and log-uniform v2.xch ∈ [0.01, 10].
        func rows(_ n: Int) throws -> ([MeasuredLabeling], [FluxState]) {
            var measured: [MeasuredLabeling] = [], truth: [FluxState] = []
            for _ in 0..<n {
                let theta = [1, 0.1 + 0.8 * QuantileCalibrationTests.uniform(&rng), pow(10, -2 + 3 * QuantileCalibrationTests.uniform(&rng))]
                let clean = try sim.simulate(basis.fluxState(free: theta)).values
                measured.append(measuredLabeling(noisyMIDs(clean, layout, sd: 0.02, &rng), layout, sd: 0.01))
                truth.append(basis.fluxState(free: theta))
            }
            return (measured, truth)
        }
        let (fitRows, fitTruth) = try rows(300), (testRows, testTruth) = try rows(300)
        let plain = HybridPredictor(ann: ann, mfa: mfa, restarts: 0)   // no restarts: the misstated σ would trigger them on every row
        let map = plain.calibration(rows: fitRows, truth: fitTruth, classes: 1, threads: 2)
        XCTAssertNil(map.inconsistency(reactions: basis.reactionCount))
        XCTAssertEqual(map.sigmaEdges, [], "a network trained on exact MIDs: one class")
        ann.hybridCalibration = map
        let calibrated = HybridPredictor(ann: ann, mfa: mfa, restarts: 0)
        let v3 = try XCTUnwrap(ann.network.reactionIndex["v3"]), v2 = try XCTUnwrap(ann.network.reactionIndex["v2"])
        XCTAssertEqual(Double(map.net[0][v3]), 2, accuracy: 0.4)
        var inside = [0, 0, 0], counted = 0, plainInside = 0
        for (m, t) in zip(testRows, testTruth) {
            guard let p = try? calibrated.predict(measured: m) else { continue }
            counted += 1
            if let q = try? plain.predict(measured: m), abs(q.net[v3] - t.net[v3]) <= q.netSE[v3] { plainInside += 1 }
            if abs(p.net[v3] - t.net[v3]) <= p.netSE[v3] { inside[0] += 1 }
            if abs(p.exchange[v2] - t.exchange[v2]) <= p.exchangeSE[v2] { inside[1] += 1 }
            let dG = Thermodynamics.deltaG(net: t.net[v2], xch: t.exchange[v2], temperature: p.temperature)
            if abs(p.deltaG[v2] - dG) <= p.deltaGSE[v2] { inside[2] += 1 }
        }
        XCTAssertGreaterThan(counted, 280)
        XCTAssertLessThan(Double(plainInside) / Double(counted), 0.55, "the stated σ is half the noise")
        let tolerance = 4 * (0.6827 * 0.3173 / Double(counted)).squareRoot()
        for (name, k) in zip(["v3.net", "v2.xch", "ΔG v2"], inside) {
            XCTAssertEqual(Double(k) / Double(counted), 0.6827, accuracy: tolerance, name)
        }
        // The factors are what `predict` applies: the same fit without them differs by them.
        let m = testRows[0]
        let with = try calibrated.predict(measured: m), without = try plain.predict(measured: m)
        XCTAssertEqual(with.net, without.net)
        XCTAssertEqual(with.exchangeSE[v2], without.exchangeSE[v2] * Double(map.exchange[0][v2]), accuracy: 1e-12 * without.exchangeSE[v2])
    }

    /// The map survives the weights file; a map with the wrong number of reactions is one line
    /// naming the file and the key; recalibrating the network drops it.
    func testWeightsFileRoundTrip() throws {
        var (ann, _) = try untrainedToyANN(seed: 32)
        let r = ann.basis.reactionCount
        let map = DerivedCalibration(sigmaEdges: [], net: [[Float](repeating: 1.5, count: r)],
                                     exchange: [[Float](repeating: 2, count: r)], deltaG: [[Float](repeating: 0.5, count: r)])
        ann.hybridCalibration = map
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("hcal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("ann.safetensors")
        try ANNWeightsFile.write(ann, to: url)
        XCTAssertEqual(try ANNWeightsFile.read(url, network: ann.network, basis: ann.basis, layout: ann.layout).hybridCalibration, map)
        var broken = ann
        broken.hybridCalibration = DerivedCalibration(sigmaEdges: [], net: [[1]], exchange: [[1]], deltaG: [[1]])
        try ANNWeightsFile.write(broken, to: url)
        XCTAssertThrowsError(try ANNWeightsFile.read(url, network: ann.network, basis: ann.basis, layout: ann.layout)) {
            let text = "\($0)"
            XCTAssertTrue(text.contains(url.path) && text.contains("hybrid_calibration") && text.contains("one factor per reaction"), text)
            XCTAssertFalse(text.contains("\n"))
        }
        let x = Matrix(rows: 4, columns: ann.layout.count, storage: [Float](repeating: 0.25, count: 4 * ann.layout.count))
        let free = [[Double]](repeating: [1, 0.5, 1], count: 4)
        XCTAssertNil(ann.calibrated(on: x, free: free, bins: 1, contextClasses: 1, shapeClasses: 0).hybridCalibration)
    }
}
