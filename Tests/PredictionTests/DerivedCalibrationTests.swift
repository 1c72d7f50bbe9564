import MLFluxCore
import TestSupport
import XCTest
@testable import Prediction

/// `DerivedCalibration` against a known truth: predictions whose stated net-flux σ is 10× the
/// true error scale (σ class 1) or right (class 2) get factors ≈ 0.1 and ≈ 1, after which the
/// stated 1σ covers about 68.3 % of errors in each class.
final class DerivedCalibrationTests: XCTestCase {
    func testFactorsRestoreCoveragePerSigmaClass() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        let n = basis.count
        var rng = SplitMix64(seed: 9)
        var predictions: [FluxPrediction] = [], truth: [FluxState] = [], sigmas: [Float] = []
        let k = try XCTUnwrap((0..<basis.freeNet.count).first { basis.fixed[$0] == nil })
        for i in 0..<4000 {
            let loud = i % 2 == 0
            var theta = basis.freeFluxes(of: FluxState(net: [1, 0.6, 0.2, 0.2, 0.8, 0.6, 0.8], exchange: [0, 0.5, 0, 0, 0, 0, 0]))
            truth.append(basis.fluxState(free: theta))
            let errorScale = 0.01
            theta[k] += errorScale * rng.nextGaussianForCalibrationTests()
            var cov = [Double](repeating: 0, count: n * n)
            let stated = loud ? 10 * errorScale : errorScale
            cov[k * n + k] = stated * stated
            predictions.append(FluxPrediction(free: theta, freeCovariance: cov, basis: basis, network: network))
            sigmas.append(loud ? 0.02 : 0.001)
        }
        let d = DerivedCalibration.fit(predictions: predictions, truth: truth, sigmas: sigmas, classes: 2, minimumRows: 500)
        XCTAssertNil(d.inconsistency(reactions: network.reactions.count))
        let v3 = try XCTUnwrap(network.reactionIndex["v3"])
        XCTAssertEqual(d.net[0][v3], 1, accuracy: 0.05, "σ 0.001 class: stated right")
        XCTAssertEqual(d.net[1][v3], 0.1, accuracy: 0.005, "σ 0.02 class: stated 10× too wide")
        for loud in [false, true] {
            let rows = predictions.indices.filter { (sigmas[$0] > 0.01) == loud }
            let inside = rows.filter { i in
                let p = d.apply(predictions[i], sigma: sigmas[i])
                return abs(p.net[v3] - truth[i].net[v3]) <= p.netSE[v3]
            }.count
            XCTAssertEqual(Double(inside) / Double(rows.count), 0.6827, accuracy: 0.04)
        }
        // A flux without stated error (v1, fixed) keeps factor 1.
        XCTAssertEqual(d.net[0][try XCTUnwrap(network.reactionIndex["v1"])], 1)
    }
}

extension SplitMix64 {
    mutating func nextGaussianForCalibrationTests() -> Double {
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53, u2 = Double(next() >> 11) * 0x1p-53
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
