import IsotopeCorrection
import XCTest

final class CorrectionMatrixTests: XCTestCase {
    /// Column `j` by enumeration: `j` labeled positions (heavy with probability `purity`),
    /// `n − j` traced positions at natural abundance, the rest of the formula natural.
    func testMatrixEqualsEnumeratedIsotopologues() throws {
        let formula = try ElementalFormula(parsing: "C4H3NOSi")
        let n = 3, purity = 0.985
        let c = try CorrectionMatrix(tracedAtoms: n, formula: formula, purity: purity)
        let others = MassDistributionTests.atoms(formula.removing(n, of: .carbon)!)
        for j in 0...n {
            let traced = Array(repeating: [1 - purity, purity], count: j)
                + Array(repeating: ChemicalElement.carbon.abundances, count: n - j)
            let column = MassDistributionTests.bruteForce(traced + others)
            for i in 0...n { XCTAssertEqual(c[i, j], column[i], accuracy: 1e-12, "C[\(i)][\(j)]") }
        }
    }

    /// IsoCor's own hand-written expectation (isocor/tests/test_correction_matrix_LowRes.py,
    /// case "with derivative, … with purity"): metabolite C2H2P10, derivative C2, purity
    /// [0.1, 0.9], no natural abundance on the tracer's positions.
    func testIsoCorAlgebraicMatrixWithDerivativeAndPurity() throws {
        let c = try CorrectionMatrix(tracedAtoms: 2, formula: try ElementalFormula(parsing: "C4H2P10"),
                                     purity: 0.9, tracerNaturalAbundance: false)
        let p1H = 0.999885, p2H = 0.000115, p12C = 0.9893, p13C = 0.0107, u12 = 0.1, u13 = 0.9
        let a0 = p1H * p1H * p12C * p12C
        let a1 = 2 * p1H * p2H * p12C * p12C + 2 * p12C * p13C * p1H * p1H
        let a2 = p2H * p2H * p12C * p12C + 2 * p12C * p13C * p1H * p2H * 2 + p1H * p1H * p13C * p13C
        let expected = [
            [a0, u12 * a0, a0 * u12 * u12],
            [a1, u13 * a0 + u12 * a1, u13 * (u12 * a0) + u12 * (u13 * a0 + u12 * a1)],
            [a2, u13 * a1 + u12 * a2, u12 * (u13 * a1 + u12 * a2) + u13 * (u13 * a0 + u12 * a1)],
        ]
        for i in 0..<3 { for j in 0..<3 { XCTAssertEqual(c[i, j], expected[i][j], accuracy: 1e-14, "C[\(i)][\(j)]") } }
    }

    /// An experiment without tracer: the measured MID is the fragment's natural MID (column 0).
    func testUnlabeledFragmentMeasuresNaturalMID() throws {
        let formula = try ElementalFormula(parsing: "C11H26NO2Si2")
        let c = try CorrectionMatrix(tracedAtoms: 2, formula: formula)
        let natural = MassDistribution.natural(formula)
        let measured = c.measured(from: [1, 0, 0])
        let s = natural[0] + natural[1] + natural[2]
        for k in 0...2 { XCTAssertEqual(measured[k], natural[k] / s, accuracy: 1e-14) }
    }

    /// Correcting a simulated measurement gives the tracer MID back, with zero residuum.
    func testCorrectionInvertsTheMatrix() throws {
        let c = try CorrectionMatrix(tracedAtoms: 3, formula: try ElementalFormula(parsing: "C13H32NO2Si2S"), purity: 0.99)
        let truth = [0.41, 0.07, 0.3, 0.22]
        let r = try c.correct(c.measured(from: truth))
        for k in 0...3 { XCTAssertEqual(r.fractions[k], truth[k], accuracy: 1e-10) }
        for x in r.residuum { XCTAssertEqual(x, 0, accuracy: 1e-12) }
        XCTAssertEqual(r.meanEnrichment, (0.07 + 0.6 + 0.66) / 3, accuracy: 1e-10)
        // A truth with a zero entry stays non-negative after noise that pushes it below 0.
        var noisy = c.measured(from: [0.5, 0, 0.5, 0])
        noisy[1] -= 0.01
        let clipped = try c.correct(noisy)
        XCTAssertTrue(clipped.fractions.allSatisfy { $0 >= 0 })
        XCTAssertEqual(clipped.fractions.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertGreaterThan(clipped.residuum.map { $0 * $0 }.reduce(0, +), 0)
    }

    func testRefusesImpossibleSetups() throws {
        let f = try ElementalFormula(parsing: "C2H5Si")
        XCTAssertThrowsError(try CorrectionMatrix(tracedAtoms: 3, formula: f)) {
            XCTAssertTrue("\($0)".contains("has 2 C atoms, fewer than the 3 traced"), "\($0)")
        }
        XCTAssertThrowsError(try CorrectionMatrix(tracedAtoms: 1, formula: f, purity: 1.2))
        XCTAssertThrowsError(try CorrectionMatrix(tracedAtoms: 1, formula: f, tracer: .oxygen))
        let c = try CorrectionMatrix(tracedAtoms: 2, formula: f)
        XCTAssertThrowsError(try c.correct([0.5, 0.5]))
        XCTAssertThrowsError(try c.correct([0, 0, 0]))
        XCTAssertThrowsError(try c.correct([0.5, -0.1, 0.6]))
    }
}
