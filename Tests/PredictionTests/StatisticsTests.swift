import Testing
import XCTest
import MLFluxCore
import TestSupport
@testable import Prediction

final class StatisticsTests: XCTestCase {
    /// Tabulated χ² critical values (α = 0.05).
    func testChiSquaredQuantilesMatchTables() {
        XCTAssertEqual(ChiSquared.quantile(0.95, dof: 1), 3.841459, accuracy: 1e-5)
        XCTAssertEqual(ChiSquared.quantile(0.95, dof: 2), 5.991465, accuracy: 1e-5)
        XCTAssertEqual(ChiSquared.quantile(0.95, dof: 10), 18.307038, accuracy: 1e-5)
        XCTAssertEqual(ChiSquared.quantile(0.95, dof: 54), 72.153216, accuracy: 1e-4)
        // χ²(2) CDF is 1 − e^(−x/2)
        XCTAssertEqual(ChiSquared.cdf(3, dof: 2), 1 - exp(-1.5), accuracy: 1e-12)
    }

    func testQuantilesR2AndSlope() {
        XCTAssertEqual(Evaluation.quantiles([4, 1, 3, 2, 5], [0, 0.5, 1, 0.25]), [1, 3, 5, 2])
        let t = [1.0, 2, 3, 4]
        XCTAssertEqual(Evaluation.rSquared(t, t), 1)
        XCTAssertEqual(Evaluation.slope(t.map { 2 * $0 + 1 }, t), 2, accuracy: 1e-12)
        // SS_res = 4·0.25 = 1, SS_tot = 5 → R² = 0.8
        XCTAssertEqual(Evaluation.rSquared(t.map { $0 + 0.5 }, t), 0.8, accuracy: 1e-12)
    }

    func testTransformRoundTripAndStandardErrors() throws {
        let net = try toyNetwork()
        let basis = try FreeFluxBasis(network: net)
        var rng = SplitMix64(seed: 3)
        let training = (0..<200).map { _ in [1, Double.random(in: 0...0.5, using: &rng), pow(10, Double.random(in: -4...2, using: &rng))] }
        let tf = FluxTransform(basis: basis, training: training)
        XCTAssertEqual(tf.targetCount, 2)   // v1 is fixed
        for theta in training.prefix(20) {
            let y = tf.targets(theta)
            XCTAssertTrue(y.allSatisfy { abs($0) <= 1.0001 })
            let back = tf.free(fromTargets: y)
            for k in 0..<3 { XCTAssertEqual(back[k], theta[k], accuracy: 1e-5 * max(1, abs(theta[k]))) }
        }
        // Delta method: σ_y on a log10 target of θ gives θ·ln10·scale·σ_y.
        let theta = [1, 0.2, 3.0]
        let y = tf.targets(theta)
        let se = tf.freeSE(targets: y, std: [0.01, 0.01])
        XCTAssertEqual(se[0], 0)
        XCTAssertEqual(se[1], 0.01 * tf.outputs[0].scale, accuracy: 1e-9)
        XCTAssertEqual(se[2], 3.0 * log(10) * tf.outputs[1].scale * 0.01, accuracy: 1e-4)
    }

    func testPerfectPredictionsEvaluateAsPerfect() throws {
        let net = try toyNetwork()
        let basis = try FreeFluxBasis(network: net)
        var rng = SplitMix64(seed: 9)
        let free = (0..<100).map { _ in [1, Double.random(in: 0.01...0.49, using: &rng), pow(10, Double.random(in: -3...1, using: &rng))] }
        let truth = free.map { basis.fluxState(free: $0) }
        let preds = free.map { FluxPrediction(free: $0, freeSE: [0, 0.01, 0.01], basis: basis, network: net) }
        for p in preds {
            XCTAssertLessThan(p.fluxState.balanceResidual(in: net).map(abs).max()!, 1e-12)
        }
        let report = Evaluation.evaluate(predictions: preds, truth: truth, truthFree: free, basis: basis, network: net)
        XCTAssertEqual(report.allNetWithin5, 1)
        XCTAssertEqual(report.allDeltaGWithinTolerance, 1)
        XCTAssertEqual(report.chiSquaredPass, 1)
        XCTAssertEqual(report.chiSquaredDOF, 2)
        XCTAssertEqual(report.coverage68, 1)
        let svg = ParityPlot.svg(report.quantities.prefix(3).map { q in
            ParityPlot.Panel(title: q.name, truth: truth.map { $0.net[1] }, predicted: preds.map { $0.net[1] }) })
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 300)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
    }

    /// A free exchange flux's SE states a Gaussian in log10 (`ErrorQuantiles` conventions): with
    /// truths drawn from exactly that distribution (one decade per SE), the "free" coverage is
    /// P(|z| ≤ 1) = 0.6827 — read as p ± SE in flux units it would be Φ(log10(1 + ln 10)) = 0.70.
    /// The net flux, with truths p + SE·z, covers 0.6827 either way.
    func testFreeExchangeCoverageReadsTheLogScaleInterval() throws {
        let net = try toyNetwork()
        let basis = try FreeFluxBasis(network: net)
        var rng = SplitMix64(seed: 21)
        let n = 40_000, decades = 1.0
        var truthFree: [[Double]] = [], preds: [FluxPrediction] = []
        for _ in 0..<n {
            let p = [1, Double.random(in: 0.2...0.3, using: &rng), pow(10, Double.random(in: -2...0, using: &rng))]
            let se = [0, 0.01, decades * p[2] * log(10)]
            preds.append(FluxPrediction(free: p, freeSE: se, basis: basis, network: net))
            truthFree.append([1, p[1] + se[1] * rng.nextGaussian(), p[2] * pow(10, decades * rng.nextGaussian())])
        }
        let report = Evaluation.evaluate(predictions: preds, truth: truthFree.map { basis.fluxState(free: $0) }, truthFree: truthFree,
                                         basis: basis, network: net)
        let tolerance = 3.5 * (0.6827 * 0.3173 / Double(n)).squareRoot()
        for name in basis.names.dropFirst() {
            let q = try XCTUnwrap(report.quantities.first { $0.kind == "free" && $0.name == name })
            XCTAssertEqual(q.coverage68, 0.6827, accuracy: tolerance, name)
        }
        XCTAssertEqual(report.coverage68, 0.6827, accuracy: tolerance)
    }
}

/// Rank histograms (SBC): standardised errors of a calibrated Gaussian give uniform ranks;
/// errors twice as wide as stated (σ too small by 2) pile up in the outer bins.
@Suite struct RankCalibrationTests {
    @Test func calibratedIsUniformOverconfidentIsNot() {
        var rng = SplitMix64(seed: 42)
        let z = (0..<5000).map { _ in rng.nextGaussian() }
        let good = RankCalibration.histogram(name: "x", standardizedErrors: z)
        #expect(good.counts.reduce(0, +) == 5000)
        #expect(good.pValue > 0.01, "\(good)")
        let bad = RankCalibration.histogram(name: "x", standardizedErrors: z.map { 2 * $0 })
        #expect(bad.pValue < 1e-6 && bad.counts[0] > 3 * bad.counts[5], "\(bad)")
        // Φ(0) = 0.5 exactly: a zero error lands in the sixth of ten bins.
        #expect(RankCalibration.histogram(name: "x", standardizedErrors: [0]).counts[5] == 1)
    }
}
