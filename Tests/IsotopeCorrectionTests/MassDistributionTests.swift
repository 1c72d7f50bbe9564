import IsotopeCorrection
import XCTest

/// Natural mass distributions against brute force: every isotopologue of every atom enumerated.
final class MassDistributionTests: XCTestCase {
    /// Enumerates the isotope of each atom of `atoms` (abundance vectors by mass shift) and
    /// adds up probabilities by total shift.
    static func bruteForce(_ atoms: [[Double]]) -> [Double] {
        var out = [Double](repeating: 0, count: atoms.reduce(1) { $0 + $1.count - 1 })
        func visit(_ i: Int, _ shift: Int, _ p: Double) {
            if i == atoms.count { out[shift] += p; return }
            for (k, a) in atoms[i].enumerated() where a > 0 { visit(i + 1, shift + k, p * a) }
        }
        visit(0, 0, 1)
        return out
    }

    static func atoms(_ f: ElementalFormula) -> [[Double]] {
        ChemicalElement.known.flatMap { e in Array(repeating: e.abundances, count: f.count(of: e)) }
    }

    func testNaturalDistributionEqualsEnumeration() throws {
        for text in ["C2H3NOSiS", "C3H2O2Si2", "CH4", "P", "C4H2NO3S"] {
            let f = try ElementalFormula(parsing: text)
            let fast = MassDistribution.natural(f)
            let slow = Self.bruteForce(Self.atoms(f))
            XCTAssertEqual(fast.count, slow.count, text)
            for (a, b) in zip(fast, slow) { XCTAssertEqual(a, b, accuracy: 1e-12, text) }
            XCTAssertEqual(fast.reduce(0, +), 1, accuracy: 1e-12, text)
        }
    }

    /// Unlabeled C6 (the carbon skeleton of glucose): binomial, M+0 = 0.9893⁶ = 93.8 %,
    /// M+1 = 6·0.0107·0.9893⁵ = 6.08 %, i.e. M+1/M+0 = 6·1.07/98.93 = 6.49 % — the textbook
    /// "1.1 % per carbon" rule.
    func testUnlabeledC6() throws {
        let mid = MassDistribution.natural(try ElementalFormula(parsing: "C6"))
        XCTAssertEqual(mid.count, 7)
        XCTAssertEqual(mid[0], pow(0.9893, 6), accuracy: 1e-15)
        XCTAssertEqual(mid[1], 6 * 0.0107 * pow(0.9893, 5), accuracy: 1e-15)
        XCTAssertEqual(mid[1], 0.0608, accuracy: 5e-5)
        XCTAssertEqual(mid[1] / mid[0], 0.0649, accuracy: 5e-5)
        XCTAssertEqual(mid[2], 15 * 0.0107 * 0.0107 * pow(0.9893, 4), accuracy: 1e-15)
    }

    func testPowerIsRepeatedConvolution() {
        let v = [0.7, 0.2, 0.1]
        var slow: [Double] = [1]
        for n in 0...9 {
            let fast = MassDistribution.power(v, n)
            XCTAssertEqual(fast.count, slow.count)
            for (a, b) in zip(fast, slow) { XCTAssertEqual(a, b, accuracy: 1e-14) }
            slow = MassDistribution.convolve(slow, v)
        }
    }
}
