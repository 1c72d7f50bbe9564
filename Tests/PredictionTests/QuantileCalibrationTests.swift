import EMU
import Foundation
import MLFluxCore
import NeuralNetworks
import TestSupport
import XCTest
@testable import Prediction

/// `QuantileCalibration` against known error distributions: standardised errors drawn from a
/// uniform distribution (net flux) and a shifted exponential (exchange flux, in log10) — whose
/// quantile functions are known in closed form — and from a Gaussian (map ≈ identity).
final class QuantileCalibrationTests: XCTestCase {
    /// Toy basis: θ = [v1 (fixed), v3 net, v2 exchange].
    static let netFlux = 1, exchangeFlux = 2

    /// Predictions whose truth is `truth` and whose standardised errors (stated SE 0.01 for the
    /// net flux, 0.05 in log10 for the exchange flux) are drawn by `draw`.
    static func predictions(_ n: Int, seed: UInt64, basis: FreeFluxBasis, network: MetabolicNetwork,
                            draw: (inout SplitMix64) -> (net: Double, exchange: Double))
        -> (predictions: [FluxPrediction], truth: [[Double]]) {
        var rng = SplitMix64(seed: seed)
        let truth = [1, 0.3, 0.5]
        var out: [FluxPrediction] = []
        for _ in 0..<n {
            let (zNet, zX) = draw(&rng)
            var theta = truth
            let seNet = 0.01, seLog = 0.05
            theta[netFlux] = truth[netFlux] - zNet * seNet   // z = (t − p)/SE
            theta[exchangeFlux] = truth[exchangeFlux] * pow(10, -zX * seLog)
            // SE of the exchange flux in flux units: σ_log · p · ln 10.
            let seX = seLog * theta[exchangeFlux] * log(10)
            out.append(FluxPrediction(free: theta, freeCovariance: [0, 0, 0, 0, seNet * seNet, 0, 0, 0, seX * seX],
                                      basis: basis, network: network))
        }
        return (out, [[Double]](repeating: truth, count: n))
    }

    static func uniform(_ rng: inout SplitMix64) -> Double { Double(rng.next() >> 11) * 0x1p-53 }

    /// Uniform on ±√3 (unit variance) for the net flux, Exp(1) − 1 (skewed, unit variance) for
    /// the exchange flux: the map makes held-out ranks uniform, Φ(z) does not. (The map's own
    /// sampling error shows in the χ² of 3,000 held-out rows: it is fitted on 20,000.)
    func testMapMakesNonGaussianRanksUniformOnHeldOutRows() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        let draw: (inout SplitMix64) -> (net: Double, exchange: Double) = { rng in
            ((2 * Self.uniform(&rng) - 1) * 3.0.squareRoot(), -log(1 - Self.uniform(&rng)) - 1)
        }
        let fit = Self.predictions(20000, seed: 1, basis: basis, network: network, draw: draw)
        let q = QuantileCalibration.fit(predictions: fit.predictions, truthFree: fit.truth, basis: basis, sigmas: nil)
        XCTAssertNil(q.inconsistency(names: basis.names))
        XCTAssertNil(q.knots[0][0], "the fixed flux v1 has no map")
        let e = q.quantiles(sigma: nil)
        // Knots against the closed-form quantiles: uniform √3(2p − 1); exponential −ln(1 − p) − 1.
        // Standard error of a sample quantile: √(p(1−p)/n)/f(z_p) — uniform: 2√3·√(p(1−p)/n),
        // exponential: √(p/((1−p)·n)); 4.5 of them (and the 1e-4 rounding) allowed.
        let n = 20000.0
        for (i, p) in q.probabilities.enumerated() {
            XCTAssertEqual(e.knots(Self.netFlux)![i], 3.0.squareRoot() * (2 * p - 1),
                           accuracy: 4.5 * 2 * 3.0.squareRoot() * (p * (1 - p) / n).squareRoot() + 2e-4, "net, p \(p)")
            XCTAssertEqual(e.knots(Self.exchangeFlux)![i], -log(1 - p) - 1,
                           accuracy: 4.5 * (p / ((1 - p) * n)).squareRoot() + 2e-4, "exchange, p \(p)")
        }
        let test = Self.predictions(3000, seed: 2, basis: basis, network: network, draw: draw)
        for k in [Self.netFlux, Self.exchangeFlux] {
            var gaussian = test.predictions
            for i in gaussian.indices { gaussian[i].freeErrorQuantiles = nil }
            var mapped = test.predictions
            for i in mapped.indices { mapped[i].freeErrorQuantiles = e }
            let before = RankCalibration.histogram(name: "", ranks: gaussian.map { $0.rank(free: k, truth: test.truth[0][k], basis: basis) })
            let after = RankCalibration.histogram(name: "", ranks: mapped.map { $0.rank(free: k, truth: test.truth[0][k], basis: basis) })
            XCTAssertLessThan(before.pValue, 1e-6, "flux \(k): Φ(z) of a non-Gaussian z is not uniform \(before.counts)")
            XCTAssertGreaterThan(after.pValue, 0.01, "flux \(k): F̂(z) is uniform \(after.counts)")
            let exact = RankCalibration.histogram(name: "", ranks: test.predictions.map { p -> Double in
                let z = p.standardizedError(free: k, truth: test.truth[0][k], basis: basis)
                return k == Self.netFlux ? (z + 3.0.squareRoot()) / (2 * 3.0.squareRoot()) : 1 - exp(-(z + 1))
            })
            XCTAssertGreaterThan(exact.pValue, 0.01, "flux \(k): the closed-form CDF's ranks (the held-out rows themselves)")
        }
    }

    /// Gaussian z: the fitted map is the identity within sampling error (F̂(z) ≈ Φ(z)).
    func testGaussianErrorsGiveTheIdentityMap() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        let fit = Self.predictions(8000, seed: 3, basis: basis, network: network) { rng in
            (rng.nextGaussianForCalibrationTests(), rng.nextGaussianForCalibrationTests())
        }
        let e = QuantileCalibration.fit(predictions: fit.predictions, truthFree: fit.truth, basis: basis, sigmas: nil).quantiles(sigma: nil)
        for k in [Self.netFlux, Self.exchangeFlux] {
            for z in stride(from: -2.5, through: 2.5, by: 0.25) {
                // √(Φ(1−Φ)/n) ≤ 0.0056 at n = 8000: 0.02 is > 3.5 standard errors.
                XCTAssertEqual(try XCTUnwrap(e.cdf(z, flux: k)), 0.5 * erfc(-z / 2.0.squareRoot()), accuracy: 0.02, "flux \(k), z \(z)")
            }
            XCTAssertEqual(try XCTUnwrap(e.quantile(0.5, flux: k)), 0, accuracy: 0.05)
            XCTAssertEqual(try XCTUnwrap(e.quantile(0.975, flux: k)), 1.96, accuracy: 0.12)
        }
    }

    /// The CDF and quantile function invert each other, inside the knots and in both
    /// exponential tails, and the CDF is monotone with limits 0 and 1.
    func testCDFAndQuantileAreMonotoneInverses() throws {
        let p = QuantileCalibration.defaultProbabilities
        let knots = p.map { -log(1 - $0) - 1 }   // Exp(1) − 1
        let e = ErrorQuantiles(probabilities: p, lower: [nil, knots], upper: [nil, knots.map { 2 * $0 }], weight: 0.25)
        XCTAssertNil(e.cdf(0, flux: 0), "no map: nil")
        var last = 0.0
        for z in stride(from: -6.0, through: 30, by: 0.01) {
            let u = try XCTUnwrap(e.cdf(z, flux: 1))
            XCTAssertGreaterThanOrEqual(u, last)
            XCTAssertTrue(u >= 0 && u < 1)
            last = u
        }
        for q in [1e-6, 1e-3, 0.004, 0.005, 0.0123, 0.3, 0.5, 0.87, 0.995, 0.999, 1 - 1e-7] {
            let z = try XCTUnwrap(e.quantile(q, flux: 1))
            XCTAssertEqual(try XCTUnwrap(e.cdf(z, flux: 1)), q, accuracy: 1e-9 * max(1, q / (1 - q)), "q \(q)")
        }
        // Knots mixed 3:1 between the two sets.
        XCTAssertEqual(try XCTUnwrap(e.quantile(0.5, flux: 1)), 1.25 * (log(2) - 1), accuracy: 1e-12)
    }

    /// Asymmetric intervals from the map: z uniform on ±√3 (net) gives the 68 % interval
    /// predicted ± 0.68·√3·SE; a map shifted by +1 in z moves an exchange flux's interval up by
    /// a factor 10^(SE_log10) at both ends.
    func testShapedIntervalsFollowTheMap() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        var p = Self.predictions(1, seed: 1, basis: basis, network: network) { _ in (0, 0) }.predictions[0]
        XCTAssertNil(p.shapedInterval(free: Self.netFlux, level: 0.68, basis: basis), "no map: none")
        let grid = QuantileCalibration.defaultProbabilities
        let uniform = grid.map { 3.0.squareRoot() * (2 * $0 - 1) }
        let ramp = grid   // any increasing knots: only the shift by +1 matters below
        p.freeErrorQuantiles = ErrorQuantiles(probabilities: grid, knots: [nil, uniform, ramp.map { $0 + 1 }])
        let net = try XCTUnwrap(p.shapedInterval(free: Self.netFlux, level: 0.68, basis: basis))
        XCTAssertEqual(net.lower, 0.3 - 0.68 * 3.0.squareRoot() * 0.01, accuracy: 1e-12)
        XCTAssertEqual(net.upper, 0.3 + 0.68 * 3.0.squareRoot() * 0.01, accuracy: 1e-12)
        var unshifted = p
        unshifted.freeErrorQuantiles = ErrorQuantiles(probabilities: grid, knots: [nil, uniform, ramp])
        let x = try XCTUnwrap(p.shapedInterval(free: Self.exchangeFlux, level: 0.95, basis: basis))
        let x0 = try XCTUnwrap(unshifted.shapedInterval(free: Self.exchangeFlux, level: 0.95, basis: basis))
        XCTAssertEqual(x.lower / x0.lower, pow(10, 0.05), accuracy: 1e-9)   // SE in log10: 0.05
        XCTAssertEqual(x.upper / x0.upper, pow(10, 0.05), accuracy: 1e-9)
    }

    /// Classes of the measurement σ: each class's knots at its centre, interpolated in log10 σ
    /// between centres, the nearest outside them.
    func testSigmaClassesInterpolateInLogSigma() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        // σ 0.001: z uniform on ±√3; σ 0.1: the same, twice as wide.
        var rows = Self.predictions(4000, seed: 5, basis: basis, network: network) { rng in
            ((2 * Self.uniform(&rng) - 1) * 3.0.squareRoot(), rng.nextGaussianForCalibrationTests())
        }
        let wide = Self.predictions(4000, seed: 6, basis: basis, network: network) { rng in
            ((2 * Self.uniform(&rng) - 1) * 2 * 3.0.squareRoot(), rng.nextGaussianForCalibrationTests())
        }
        rows.predictions += wide.predictions
        rows.truth += wide.truth
        let sigmas = [Float](repeating: 0.001, count: 4000) + [Float](repeating: 0.1, count: 4000)
        let q = QuantileCalibration.fit(predictions: rows.predictions, truthFree: rows.truth, basis: basis, sigmas: sigmas, classes: 2)
        XCTAssertEqual(q.sigmaCentres.count, 2)
        XCTAssertEqual(q.sigmaCentres[0], -3, accuracy: 1e-5)
        XCTAssertEqual(q.sigmaCentres[1], -1, accuracy: 1e-5)
        let top = 3.0.squareRoot() * 0.98   // p = 0.99
        let i = try XCTUnwrap(q.probabilities.firstIndex(of: 0.99))
        XCTAssertEqual(q.quantiles(sigma: 1e-4).knots(Self.netFlux)![i], top, accuracy: 0.05)
        XCTAssertEqual(q.quantiles(sigma: 0.001).knots(Self.netFlux)![i], top, accuracy: 0.05)
        XCTAssertEqual(q.quantiles(sigma: 0.01).knots(Self.netFlux)![i], 1.5 * top, accuracy: 0.06)
        XCTAssertEqual(q.quantiles(sigma: 0.5).knots(Self.netFlux)![i], 2 * top, accuracy: 0.08)
    }

    /// The map rides in the weights file: read back equal; a file without it predicts exactly as
    /// before (no shape attached, same fluxes and SEs); a broken map is refused in one line
    /// naming the file and the metadata key.
    func testWeightsFileRoundTripAndValidation() throws {
        var (plain, rng) = try untrainedToyANN(seed: 8)
        let (network, basis, layout) = (plain.network, plain.basis, plain.layout)
        let x = Matrix(rows: 20, columns: layout.count, storage: (0..<(20 * layout.count)).map { _ in Float(Self.uniform(&rng)) })
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("qcal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let plainURL = dir.appendingPathComponent("plain.safetensors")
        try ANNWeightsFile.write(plain, to: plainURL)
        // The safetensors header (8-byte little-endian length, then JSON) has no such key.
        let bytes = try Data(contentsOf: plainURL)
        let length = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        XCTAssertFalse(String(decoding: bytes.dropFirst(8).prefix(length), as: UTF8.self).contains("quantile_calibration"))
        let plainRead = try ANNWeightsFile.read(plainURL, network: network, basis: basis, layout: layout)
        XCTAssertNil(plainRead.quantileCalibration)
        let before = plain.predict(matrix: x)
        let reread = plainRead.predict(matrix: x)
        for f in [\FluxPrediction.free, \.freeSE, \.net, \.netSE, \.exchange, \.exchangeSE] {
            XCTAssertEqual(reread.map { $0[keyPath: f] }, before.map { $0[keyPath: f] }, "no map: predictions as before")
        }
        XCTAssertTrue(before.allSatisfy { $0.freeErrorQuantiles == nil })

        var shaped = plain
        let p = QuantileCalibration.defaultProbabilities
        shaped.quantileCalibration = QuantileCalibration(probabilities: p, sigmaCentres: [0],
                                                         knots: [[nil, p.map { 3.0.squareRoot() * (2 * $0 - 1) }, nil]])
        let shapedURL = dir.appendingPathComponent("shaped.safetensors")
        try ANNWeightsFile.write(shaped, to: shapedURL)
        let shapedRead = try ANNWeightsFile.read(shapedURL, network: network, basis: basis, layout: layout)
        XCTAssertEqual(shapedRead.quantileCalibration, shaped.quantileCalibration)
        let after = shapedRead.predict(matrix: x)
        XCTAssertEqual(after.map(\.free), before.map(\.free))
        XCTAssertEqual(after.map(\.freeSE), before.map(\.freeSE))
        XCTAssertEqual(after.map(\.netSE), before.map(\.netSE))
        XCTAssertEqual(try XCTUnwrap(after[0].freeErrorQuantiles?.knots(1)?.last), 3.0.squareRoot() * 0.99, accuracy: 1e-12, "the map is attached")

        var broken = shaped
        broken.quantileCalibration!.knots[0][1]![7] = broken.quantileCalibration!.knots[0][1]![3]
        let brokenURL = dir.appendingPathComponent("broken.safetensors")
        try ANNWeightsFile.write(broken, to: brokenURL)
        XCTAssertThrowsError(try ANNWeightsFile.read(brokenURL, network: network, basis: basis, layout: layout)) {
            let text = "\($0)"
            XCTAssertTrue(text.contains(brokenURL.path) && text.contains("quantile_calibration") && text.contains("not increasing at entry 7"), text)
            XCTAssertFalse(text.contains("\n"))
        }
        broken.quantileCalibration = shaped.quantileCalibration
        broken.quantileCalibration!.knots[0].removeLast()
        try ANNWeightsFile.write(broken, to: brokenURL)
        XCTAssertThrowsError(try ANNWeightsFile.read(brokenURL, network: network, basis: basis, layout: layout)) {
            XCTAssertTrue("\($0)".contains("quantile_calibration") && "\($0)".contains("2 free fluxes, the network 3"), "\($0)")
        }
    }
}

/// An untrained one-tracer toy ANN (8 hidden units, diagonal head, exchange transform from 50
/// random states) for tests of what the weights file stores, and the generator after it.
func untrainedToyANN(seed: UInt64) throws -> (predictor: ANNPredictor, rng: SplitMix64) {
    let network = try toyNetwork(experiments: [TracerExperiment(id: "A_100", inputs: [
        TracerInput(pool: "molA", components: [TracerComponent(pattern: "100", fraction: 1)!])])])
    let basis = try FreeFluxBasis(network: network)
    let sim = try EMUSimulator(network: network, experiments: network.experiments)
    let layout = LabelingLayout(experimentIDs: network.experiments.map(\.id), measured: sim.measured)
    var rng = SplitMix64(seed: seed)
    let training = (0..<50).map { _ in
        [1, 0.05 + 0.4 * QuantileCalibrationTests.uniform(&rng), pow(10, -2 + 2 * QuantileCalibrationTests.uniform(&rng))]
    }
    let transform = FluxTransform(basis: basis, training: training)
    let member = ANNMember(inputScaler: Standardizer(mean: [Float](repeating: 0, count: layout.count), std: [Float](repeating: 1, count: layout.count)),
                           mlp: MLP(widths: [layout.count, 8, OutputHead.diagonal.outputWidth(transform.targetCount)], using: &rng),
                           transform: transform)
    return (ANNPredictor(network: network, basis: basis, layout: layout, members: [member]), rng)
}
