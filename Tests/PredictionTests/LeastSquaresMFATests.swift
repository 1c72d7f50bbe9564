import XCTest
import EMU
import MLFluxCore
import TestSupport
@testable import Prediction

final class LeastSquaresMFATests: XCTestCase {
    /// Noise-free MIDs of a known toy state: the fit recovers the free fluxes from
    /// multi-start, and the stated standard errors scale with the assumed σ.
    func testRecoversKnownFluxesFromExactData() throws {
        let network = try toyNetwork(experiments: ["100", "010", "011"].map {
            TracerExperiment(id: "A_\($0)", inputs: [TracerInput(pool: "molA", components: [TracerComponent(pattern: $0, fraction: 1)!])])
        })
        let basis = try FreeFluxBasis(network: network)
        let sim = try EMUSimulator(network: network, experiments: network.experiments)
        let layout = LabelingLayout(experimentIDs: network.experiments.map(\.id), measured: sim.measured)
        var mfa = LeastSquaresMFA(simulator: sim, basis: basis, network: network,
                                  bounds: [(1, 1), (0.001, 0.999), (0, 100)])
        mfa.defaultStddev = 0.001
        for truth in [[1, 0.2, 0.5], [1, 0.41, 0.03], [1, 0.07, 3.0]] {
            let values = try sim.simulate(basis.fluxState(free: truth)).values
            let measured = MeasuredLabeling(layout: layout, values: values,
                                            stddev: [Double](repeating: .nan, count: values.count),
                                            mask: [Bool](repeating: true, count: values.count))
            let fit = try XCTUnwrap(mfa.fit(measured))
            XCTAssertEqual(fit.prediction.free[1], truth[1], accuracy: 1e-6)
            XCTAssertEqual(fit.prediction.free[2], truth[2], accuracy: 1e-5 * truth[2])
            XCTAssertLessThan(fit.vssr, 1e-10)
            XCTAssertGreaterThan(fit.prediction.freeSE[1], 0)

            // Half the entries missing: still identifiable from the rest (no imputer needed).
            var partial = measured
            for i in partial.mask.indices where i % 2 == 1 { partial.mask[i] = false; partial.values[i] = .nan }
            let pf = try XCTUnwrap(mfa.fit(partial))
            XCTAssertEqual(pf.prediction.free[1], truth[1], accuracy: 1e-5)
        }
    }
}
