import Foundation
import XCTest
import MLFluxCore
import TestSupport
@testable import EMU

/// The example flux state shipped with a bundle (`Plugins/<model>/fluxes.json`), read here
/// with Foundation alone so the EMU tests do not depend on the Bundles module.
func exampleState(_ model: String, network: MetabolicNetwork) throws -> FluxState {
    let url = URL(fileURLWithPath: repositoryRoot() + "/Plugins/\(model)/fluxes.json")
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [String: Double]]
    return try FluxState(network: network, values: json.mapValues { (net: $0["net"] ?? 0, xch: $0["xch"]) })
}

/// Forward sensitivities against central finite differences in the free fluxes.
final class JacobianTests: XCTestCase {
    func check(_ model: String, experiments: Int) throws {
        let network = try loadNetwork(model)
        let basis = try FreeFluxBasis(network: network)
        let state0 = try exampleState(model, network: network)
        let theta = basis.freeFluxes(of: state0)
        let state = basis.fluxState(free: theta)
        let sim = try EMUSimulator(network: network, experiments: Array(network.experiments.prefix(experiments)))
        let (lab, jac) = try sim.simulate(state, basis: basis)
        XCTAssertEqual(jac.rows, lab.values.count)
        XCTAssertEqual(jac.columns, basis.count)
        var worst = 0.0
        var nonzero = 0
        for p in 0..<basis.count {
            // Central differences with one Richardson step (error O(h⁴)); the step is absolute
            // because a free flux of 490 (CO2 uptake) moves dependent fluxes of 0.01.
            func central(_ h: Double) throws -> [Double] {
                var up = theta, down = theta
                up[p] += h
                down[p] -= h
                let fu = try sim.simulate(basis.fluxState(free: up)).values
                let fd = try sim.simulate(basis.fluxState(free: down)).values
                return zip(fu, fd).map { ($0 - $1) / (2 * h) }
            }
            let coarse = try central(2e-5), fine = try central(1e-5)
            for r in 0..<jac.rows {
                let numeric = (4 * fine[r] - coarse[r]) / 3
                let analytic = jac[r, p]
                if abs(analytic) > 1e-8 { nonzero += 1 }
                let err = abs(analytic - numeric) / max(abs(numeric), 1e-3)
                worst = max(worst, err)
                XCTAssertLessThan(err, 1e-6, "\(model) d[\(r)]/d\(basis.names[p]): \(analytic) vs \(numeric)")
            }
        }
        XCTAssertGreaterThan(nonzero, jac.rows, "\(model): Jacobian is mostly zero")
        print("\(model): \(basis.count) free fluxes, \(jac.rows) MID entries, worst relative error \(worst)")
    }

    func testToyJacobianMatchesFiniteDifferences() throws { try check("toy", experiments: 6) }
    func testGlycolysisJacobianMatchesFiniteDifferences() throws { try check("glycolysis", experiments: 2) }
    func testCCMJacobianMatchesFiniteDifferences() throws { try check("ccm", experiments: 3) }
}
