@testable import Prediction
import XCTest

/// The covariance of a rank-deficient fit: the directions the data determine get their
/// variance, those they do not are flagged — checked against hand-computed inverses.
final class PseudoInverseTests: XCTestCase {
    /// JᵀJ of J columns (p, q, r) with rows [1, 1, 0] and [0, 0, 2]: p and q enter only as
    /// p + q (undetermined each), r has variance 1/4 and no covariance with them.
    func testUndeterminedParametersAreFlaggedAndTheRestKeepTheirVariance() {
        let jtj = [1.0, 1, 0,
                   1, 1, 0,
                   0, 0, 4]
        let (inverse, determined) = LeastSquaresMFA.pseudoInverse(jtj, size: 3)
        XCTAssertEqual(determined, [false, false, true])
        XCTAssertEqual(inverse[2 + 3 * 2], 0.25, accuracy: 1e-12)
        XCTAssertEqual(inverse[0 + 3 * 2], 0, accuracy: 1e-12)
    }

    /// Full rank with parameters eight decades apart (a growth rate and a drain): the exact
    /// inverse of [[4e8, 1e2], [1e2, 1e-6 + 1e-4]] — no parameter is lost to scaling.
    func testFullRankBadlyScaledIsTheExactInverse() {
        let a = 4e8, b = 1e2, c = 1e-6 + 1e-4
        let jtj = [a, b, b, c]
        let det = a * c - b * b
        let (inverse, determined) = LeastSquaresMFA.pseudoInverse(jtj, size: 2)
        XCTAssertEqual(determined, [true, true])
        XCTAssertEqual(inverse[0], c / det, accuracy: 1e-9 * c / det)
        XCTAssertEqual(inverse[3], a / det, accuracy: 1e-9 * a / det)
        XCTAssertEqual(inverse[1], -b / det, accuracy: 1e-9 * abs(b / det))
    }

    /// A parameter no residual depends on is undetermined, the others unaffected.
    func testInsensitiveParameterIsUndetermined() {
        let (inverse, determined) = LeastSquaresMFA.pseudoInverse([2, 0, 0, 0], size: 2)
        XCTAssertEqual(determined, [true, false])
        XCTAssertEqual(inverse[0], 0.5, accuracy: 1e-15)
    }
}
