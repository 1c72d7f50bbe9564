import XCTest
@testable import MLFluxCore

final class ThermodynamicsTests: XCTestCase {
    /// Hand-computed: R·T = 8.314462618e-3 kJ/(mol·K) × 310.15 K = 2.578740 kJ/mol.
    func testDeltaGAgainstHandComputedValues() {
        // net 1, xch 1: forward 2, reverse 1 → 2.578740 × ln(1/2) = −1.787440 kJ/mol
        XCTAssertEqual(Thermodynamics.deltaG(net: 1, xch: 1), -1.787440, accuracy: 1e-6)
        // net −2.5, xch 0.5: forward 0.5, reverse 3 → 2.578740 × ln 6 = 4.620465 kJ/mol
        XCTAssertEqual(Thermodynamics.deltaG(net: -2.5, xch: 0.5), 4.620465, accuracy: 1e-6)
        // 25 °C, net 10, xch 0.1: forward 10.1, reverse 0.1 → 2.478957 × ln(0.1/10.1) = −11.440685
        XCTAssertEqual(Thermodynamics.deltaG(net: 10, xch: 0.1, temperature: 298.15), -11.440685, accuracy: 1e-6)
        XCTAssertEqual(Thermodynamics.deltaG(net: 0, xch: 3), 0)
        XCTAssertEqual(Thermodynamics.deltaG(net: 1, xch: 0), -.infinity)
    }

    func testGradientMatchesFiniteDifferences() {
        for (n, x) in [(0.7, 0.2), (-0.4, 1.3), (2.0, 0.01)] {
            let g = Thermodynamics.deltaGGradient(net: n, xch: x)
            let h = 1e-7
            let dn = (Thermodynamics.deltaG(net: n + h, xch: x) - Thermodynamics.deltaG(net: n - h, xch: x)) / (2 * h)
            let dx = (Thermodynamics.deltaG(net: n, xch: x + h) - Thermodynamics.deltaG(net: n, xch: x - h)) / (2 * h)
            XCTAssertEqual(g.dNet, dn, accuracy: 1e-5 * max(1, abs(dn)))
            XCTAssertEqual(g.dXch, dx, accuracy: 1e-5 * max(1, abs(dx)))
        }
    }

    /// `exchange(net:deltaG:)` inverts `deltaG(net:xch:)`; a ΔG of the wrong sign has no exchange flux.
    func testExchangeInvertsDeltaG() {
        for (net, xch) in [(0.6, 0.5), (2.0, 1e-4), (-0.3, 7.0), (1.0, 90.0)] {
            let g = Thermodynamics.deltaG(net: net, xch: xch)
            XCTAssertEqual(Thermodynamics.exchange(net: net, deltaG: g)!, xch, accuracy: 1e-9 * max(xch, 1))
        }
        XCTAssertNil(Thermodynamics.exchange(net: 0.6, deltaG: 1))    // forward net flux needs ΔG < 0
        XCTAssertNil(Thermodynamics.exchange(net: -0.6, deltaG: -1))
    }
}
