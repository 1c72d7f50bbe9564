import XCTest
import EMU
import MLFluxCore
import TestSupport
@testable import Prediction

final class DeltaGResolvabilityTests: XCTestCase {
    func toy() throws -> DeltaGResolvability {
        let network = try toyNetwork(experiments: ["100", "011"].map {
            TracerExperiment(id: "A_\($0)", inputs: [TracerInput(pool: "molA", components: [TracerComponent(pattern: $0, fraction: 1)!])])
        })
        let basis = try FreeFluxBasis(network: network)
        return DeltaGResolvability(simulator: try EMUSimulator(network: network, experiments: network.experiments),
                                   network: network, basis: basis)
    }

    /// The shifted exchange fluxes move ΔG (Thermodynamics.deltaG) by exactly ±δ, for
    /// forward and backward net fluxes; a shift past equilibrium is left out.
    func testShiftsMoveDeltaGByDelta() throws {
        let a = try toy()
        for (net, xch) in [(0.6, 0.5), (0.6, 1e-3), (-0.3, 2.0), (2.0, 80.0)] {
            let g = Thermodynamics.deltaG(net: net, xch: xch)
            let shifted = a.shiftedExchange(net: net, xch: xch).map { Thermodynamics.deltaG(net: net, xch: $0) - g }
            XCTAssertFalse(shifted.isEmpty)
            for d in shifted { XCTAssertEqual(abs(d), 1, accuracy: 1e-9, "net \(net) xch \(xch)") }
            // |ΔG| < 1 kJ/mol: only the move away from equilibrium exists.
            if abs(g) < 1 { XCTAssertEqual(shifted.count, 1) }
        }
    }

    /// Only the toy's free exchange flux (v2) is analysed; nothing is visible at a
    /// resolution of 1 (fractions are ≤ 1), everything at 1e-15, and the ±1 kJ/mol shift of
    /// a mid-range v2 (exchange 0.5) is visible even at a mass spectrometer's 1e-3.
    func testVisibilityFollowsTheResolution() throws {
        var a = try toy()
        let basis = try FreeFluxBasis(network: a.network)
        let states = [[1, 0.6, 0.5], [1, 0.3, 0.05], [1, 0.8, 3.0]].map { basis.fluxState(free: $0) }
        a.resolution = MIDResolution(relative: 0, absolute: 1)
        var report = try a.analyze(states)
        XCTAssertEqual(report.reactions, ["v2"])
        XCTAssertEqual(report.visible["v2"], 0)
        XCTAssertEqual(report.allVisible, 0)
        a.resolution.absolute = 1e-15
        report = try a.analyze(states)
        XCTAssertEqual(report.visible["v2"], 1)
        XCTAssertEqual(report.allVisible, 1)
        a.resolution = .massSpectrometer
        XCTAssertEqual(try a.visibility(states[0]).compactMap { $0 }, [true])
    }
}
