import XCTest
@testable import Prediction

final class SigmaCalibrationTests: XCTestCase {
    /// Errors drawn from N(0, s(m)) whose spread grows tenfold across the predicted range,
    /// stated σ = 1 everywhere: one factor per target leaves the ends mis-covered; binned
    /// factors give 68 % coverage in every range on fresh draws.
    func testBinnedFactorsCoverEveryRange() {
        var rng = SystemRandomNumberGenerator()
        func draw(_ n: Int) -> (means: [[Float]], stds: [[Float]], truths: [[Float]]) {
            var means: [[Float]] = [], truths: [[Float]] = []
            for _ in 0..<n {
                let m = Float.random(in: 0..<1, using: &rng)
                let s = 0.1 * pow(10, m)   // true error spread: 0.1 … 1
                let u1 = max(Float.random(in: 0..<1, using: &rng), 1e-12), u2 = Float.random(in: 0..<1, using: &rng)
                let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
                means.append([m])
                truths.append([m + s * z])
            }
            return (means, [[Float]](repeating: [1], count: n), truths)
        }
        func coverage(_ c: SigmaCalibration, _ d: (means: [[Float]], stds: [[Float]], truths: [[Float]]), range: ClosedRange<Float>) -> Double {
            let rows = d.means.indices.filter { range.contains(d.means[$0][0]) }
            let inside = rows.filter { abs(d.truths[$0][0] - d.means[$0][0]) <= d.stds[$0][0] * c.factor(0, mean: d.means[$0][0]) }
            return Double(inside.count) / Double(rows.count)
        }
        let train = draw(12_000), test = draw(12_000)
        let binned = SigmaCalibration.fit(means: train.means, stds: train.stds, truths: train.truths, bins: 6)
        let single = SigmaCalibration.fit(means: train.means, stds: train.stds, truths: train.truths, bins: 1)
        XCTAssertEqual(binned.factors[0][0].count, 6)
        XCTAssertEqual(single.factors[0][0].count, 1)
        for lo in stride(from: Float(0), to: 1, by: 0.25) {
            XCTAssertEqual(coverage(binned, test, range: lo...(lo + 0.25)), 0.6827, accuracy: 0.06, "range \(lo)")
        }
        XCTAssertGreaterThan(coverage(single, test, range: 0...0.25), 0.85, "one factor over-covers the precise end")
        XCTAssertLessThan(coverage(single, test, range: 0.75...1), 0.5, "and under-covers the imprecise end")
        XCTAssertEqual(binned.factor(0, mean: -5), binned.factors[0][0][0])
        XCTAssertEqual(binned.factor(0, mean: 5), binned.factors[0][0][5])
        XCTAssertNil(binned.inconsistency)
    }

    /// Two populations with the same predicted value but errors 5× apart, told apart only by
    /// the context target: context classes calibrate each; without them neither is.
    func testContextClassesSeparatePopulations() {
        var rng = SystemRandomNumberGenerator()
        func draw(_ n: Int) -> (means: [[Float]], stds: [[Float]], truths: [[Float]]) {
            var means: [[Float]] = [], truths: [[Float]] = []
            for i in 0..<n {
                let fast = i % 2 == 0
                let m = Float.random(in: 0..<1, using: &rng)
                let s: Float = fast ? 0.1 : 0.5
                let u1 = max(Float.random(in: 0..<1, using: &rng), 1e-12), u2 = Float.random(in: 0..<1, using: &rng)
                let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
                means.append([m, fast ? 1 : -1])   // target 1 is the context (e.g. mean exchange)
                truths.append([m + s * z, fast ? 1 : -1])
            }
            return (means, [[Float]](repeating: [1, 1], count: n), truths)
        }
        func coverage(_ c: SigmaCalibration, _ d: (means: [[Float]], stds: [[Float]], truths: [[Float]]), fast: Bool) -> Double {
            let rows = d.means.indices.filter { (d.means[$0][1] > 0) == fast }
            let inside = rows.filter { r in
                let k = c.context(d.means[r])
                return abs(d.truths[r][0] - d.means[r][0]) <= d.stds[r][0] * c.factor(0, mean: d.means[r][0], context: k)
            }
            return Double(inside.count) / Double(rows.count)
        }
        let train = draw(12_000), test = draw(12_000)
        let classes = SigmaCalibration.fit(means: train.means, stds: train.stds, truths: train.truths, contextTargets: [1])
        let none = SigmaCalibration.fit(means: train.means, stds: train.stds, truths: train.truths, contextTargets: [1], contextClasses: 1)
        XCTAssertEqual(classes.factors.count, 2)
        XCTAssertNil(classes.inconsistency)
        XCTAssertEqual(coverage(classes, test, fast: true), 0.6827, accuracy: 0.04)
        XCTAssertEqual(coverage(classes, test, fast: false), 0.6827, accuracy: 0.04)
        XCTAssertGreaterThan(coverage(none, test, fast: true), 0.9)
        XCTAssertLessThan(coverage(none, test, fast: false), 0.5)
    }
}
