import MLFluxCore
import TestSupport
import XCTest
@testable import Prediction

/// `FeasibleProjection` against the analytic nearest point: feasible points stay, a point
/// past one bound lands on it (the other coordinates untouched), and the metric decides
/// which coordinate moves when a constraint couples several.
final class FeasibleProjectionTests: XCTestCase {
    func testNearestFeasiblePoint() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        let xch = try XCTUnwrap(basis.names.firstIndex(of: "v2.xch"))
        let net = try XCTUnwrap((0..<basis.freeNet.count).first { basis.fixed[$0] == nil })
        var theta = basis.freeFluxes(of: FluxState(net: [1, 0.6, 0.2, 0.2, 0.8, 0.6, 0.8], exchange: [0, 0.5, 0, 0, 0, 0, 0]))
        let one = [Double](repeating: 1, count: basis.count)
        XCTAssertEqual(FeasibleProjection.project(theta, scale: one, basis: basis), theta, "feasible: unchanged")
        theta[xch] = 150    // v2.xch ≤ 100
        let p = FeasibleProjection.project(theta, scale: one, basis: basis)
        XCTAssertEqual(p[xch], 100, accuracy: 1e-7)
        XCTAssertLessThanOrEqual(p[xch], 100)
        XCTAssertEqual(p[net], theta[net], accuracy: 1e-12)
        theta[xch] = -0.3   // exchange ≥ 0
        let q = FeasibleProjection.project(theta, scale: one, basis: basis)
        XCTAssertEqual(q[xch], 0, accuracy: 1e-7)
        XCTAssertGreaterThanOrEqual(q[xch], 0)
        XCTAssertTrue(basis.violations(of: basis.fluxState(free: q), in: network, tolerance: 0).isEmpty)
    }
}
