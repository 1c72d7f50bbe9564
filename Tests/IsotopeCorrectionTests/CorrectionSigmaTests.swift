import IsotopeCorrection
import XCTest

/// The σ propagated through a correction agrees with the spread of corrections of noisy
/// replicates (Monte Carlo, the independent truth).
final class CorrectionSigmaTests: XCTestCase {
    func testPropagatedSigmaMatchesMonteCarloSpread() throws {
        // Ala m/z 260 of TBDMS (C2-C3 … here three traced carbons of C11H26NO2Si2), purity 0.99.
        let c = try CorrectionMatrix(tracedAtoms: 3, formula: try ElementalFormula(parsing: "C11H26NO2Si2"), purity: 0.99)
        let truth = [0.4, 0.3, 0.2, 0.1]
        let clean = c.apply(truth)
        let sigma = clean.map { 0.002 + 0.01 * $0 }
        let stated = try XCTUnwrap(try c.correct(clean, stddev: sigma).stddev)
        // Monte Carlo: 4000 noisy measurements (Box–Muller with a fixed LCG), each corrected.
        var state: UInt64 = 12345
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        let n = 4000
        var sum = [Double](repeating: 0, count: 4), sumSq = [Double](repeating: 0, count: 4)
        for _ in 0..<n {
            let noisy = zip(clean, sigma).map { y, s in
                y + s * (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())
            }
            let f = try c.correct(noisy.map { max($0, 0) }).fractions
            for k in 0..<4 { sum[k] += f[k]; sumSq[k] += f[k] * f[k] }
        }
        for k in 0..<4 {
            let mean = sum[k] / Double(n)
            let sd = (sumSq[k] / Double(n) - mean * mean).squareRoot()
            // Sampling error of an SD from 4000 draws is ~1.1 %; allow 6 %.
            XCTAssertEqual(stated[k], sd, accuracy: 0.06 * sd, "M+\(k): stated \(stated[k]), Monte Carlo \(sd)")
        }
    }

    func testWrongSigmaIsRefused() throws {
        let c = try CorrectionMatrix(tracedAtoms: 1, formula: try ElementalFormula(parsing: "C3H7NO2"))
        XCTAssertThrowsError(try c.correct([0.5, 0.5], stddev: [0.01]))
        XCTAssertThrowsError(try c.correct([0.5, 0.5], stddev: [0.01, -1]))
        XCTAssertNil(try c.correct([0.5, 0.5]).stddev)
    }
}
