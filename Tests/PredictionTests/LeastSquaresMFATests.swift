import XCTest
import EMU
import LinearAlgebra
import MLFluxCore
import TestSupport
@testable import Prediction

final class LeastSquaresMFATests: XCTestCase {
    /// Least squares on the toy network fed with the given labelings of A (one experiment each).
    func toyMFA(_ patterns: [String]) throws -> (LeastSquaresMFA, FreeFluxBasis, EMUSimulator, LabelingLayout) {
        try toyLeastSquares(patterns, startCount: 5)
    }

    /// Noise-free MIDs of a known toy state: the fit recovers the free fluxes from
    /// multi-start, and the stated standard errors scale with the assumed σ.
    func testRecoversKnownFluxesFromExactData() throws {
        var (mfa, basis, sim, layout) = try toyMFA(["100", "010", "011"])
        mfa.defaultStddev = 0.001
        for truth in [[1, 0.2, 0.5], [1, 0.41, 0.03], [1, 0.07, 3.0]] {
            let values = try sim.simulate(basis.fluxState(free: truth)).values
            let measured = MeasuredLabeling(layout: layout, values: values,
                                            stddev: [Double](repeating: .nan, count: values.count),
                                            mask: [Bool](repeating: true, count: values.count))
            let fit = try XCTUnwrap(mfa.fit(measured))
            XCTAssertEqual(fit.prediction.free[1], truth[1], accuracy: 1e-6)
            XCTAssertEqual(fit.prediction.free[2], truth[2], accuracy: 1e-5 * truth[2])
            XCTAssertLessThan(fit.vssr, 1e-10)
            XCTAssertGreaterThan(fit.prediction.freeSE[1], 0)

            // Half the entries missing: still identifiable from the rest (no imputer needed).
            var partial = measured
            for i in partial.mask.indices where i % 2 == 1 { partial.mask[i] = false; partial.values[i] = .nan }
            let pf = try XCTUnwrap(mfa.fit(partial))
            XCTAssertEqual(pf.prediction.free[1], truth[1], accuracy: 1e-5)
        }
    }

    /// The MAP fit with a Gaussian prior: where the data carry no weight (σ huge) the
    /// estimate and its standard errors are the prior's; where they are exact (σ tiny, far
    /// below any prior) the truth is recovered from a prior centred elsewhere.
    func testPriorHoldsWhereDataAreSilentAndYieldsToPreciseData() throws {
        var (mfa, basis, sim, layout) = try toyMFA(["100", "011"])
        let truth = [1, 0.3, 0.2]
        let values = try sim.simulate(basis.fluxState(free: truth)).values
        func measured(_ sd: Double) -> MeasuredLabeling {
            MeasuredLabeling(layout: layout, values: values, stddev: [Double](repeating: sd, count: values.count),
                             mask: [Bool](repeating: true, count: values.count))
        }
        let prior = LeastSquaresMFA.Prior(mean: [1, 0.6, 2.0], sd: [0, 0.05, 0.4])

        // Data silent: the posterior is the prior.
        let silent = try XCTUnwrap(mfa.fit(measured(1e6), starts: [[1, 0.5, 1.0]], prior: prior))
        XCTAssertEqual(silent.prediction.free[1], 0.6, accuracy: 1e-6)
        XCTAssertEqual(silent.prediction.free[2], 2.0, accuracy: 1e-5)
        XCTAssertEqual(silent.prediction.freeSE[1], 0.05, accuracy: 1e-6)
        XCTAssertEqual(silent.prediction.freeSE[2], 0.4, accuracy: 1e-5)

        // Exact data at σ = 1e-9 (reached through the σ continuation from a start at the
        // prior, 2 and 10 prior σ away from the truth).
        mfa.continuationStart = 1e-2
        let precise = try XCTUnwrap(mfa.fit(measured(1e-9), starts: [prior.mean], prior: prior))
        XCTAssertEqual(precise.prediction.free[1], 0.3, accuracy: 1e-6)
        XCTAssertEqual(precise.prediction.free[2], 0.2, accuracy: 1e-5)
        XCTAssertLessThan(precise.prediction.freeSE[1], 1e-6)
        XCTAssertLessThan(precise.vssr, 100, "the data-only VSSR excludes the prior term")
    }
}

/// What a least-squares fit refuses before it starts, and when it warns.
final class LeastSquaresMeasurementCheckTests: XCTestCase {
    func toy() throws -> (MFAPredictor, LabelingLayout, [Double]) {
        let network = try toyNetwork(experiments: [
            TracerExperiment(id: "A_100", inputs: [TracerInput(pool: "molA", components: [TracerComponent(pattern: "100", fraction: 1)!])])])
        let basis = try FreeFluxBasis(network: network)
        let sim = try EMUSimulator(network: network, experiments: network.experiments)
        let layout = LabelingLayout(experimentIDs: network.experiments.map(\.id), measured: sim.measured)
        let mfa = LeastSquaresMFA(simulator: sim, basis: basis, network: network, bounds: [(1, 1), (0.001, 0.999), (0, 100)])
        return (MFAPredictor(mfa: mfa, layout: layout), layout, try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values)
    }

    func testNothingMeasuredIsAnError() throws {
        let (p, layout, _) = try toy()
        let none = MeasuredLabeling(layout: layout, values: [Double](repeating: .nan, count: layout.count),
                                    stddev: [Double](repeating: .nan, count: layout.count),
                                    mask: [Bool](repeating: false, count: layout.count))
        XCTAssertThrowsError(try p.predict(measured: none)) { XCTAssertEqual($0 as? MeasurementError, .nothingMeasured) }
        XCTAssertNil(p.mfa.fit(none))
    }

    /// σ below MeasuredLabeling.minimumStddev (1e-160 made LAPACK print 42,540 warnings on
    /// stdout and return garbage) is refused, naming the entry; σ at the floor fits.
    func testStddevBelowTheFloorIsRefusedAndTheFloorItselfFits() throws {
        var (p, layout, values) = try toy()
        var m = MeasuredLabeling(layout: layout, values: values, stddev: [Double](repeating: 1e-160, count: values.count),
                                 mask: [Bool](repeating: true, count: values.count))
        XCTAssertThrowsError(try p.predict(measured: m)) { error in
            guard case .stddevOutOfRange(let entry, let value)? = error as? MeasurementError else { return XCTFail("\(error)") }
            XCTAssertEqual(value, 1e-160)
            XCTAssertTrue(entry.hasPrefix("A_100 "), entry)
        }
        m.stddev = [Double](repeating: .nan, count: values.count)
        p.mfa.defaultStddev = 1e-160
        XCTAssertThrowsError(try p.predict(measured: m))
        p.mfa.defaultStddev = .infinity
        XCTAssertThrowsError(try p.predict(measured: m))
        p.mfa.defaultStddev = MeasuredLabeling.minimumStddev
        let before = LinearAlgebra.diagnosticCount
        let fit = try p.predict(measured: m)
        XCTAssertEqual(fit.free[1], 0.3, accuracy: 1e-6)
        XCTAssertEqual(LinearAlgebra.diagnosticCount, before, "no LAPACK illegal-argument report")
        m.values[0] = .infinity
        XCTAssertThrowsError(try p.predict(measured: m)) {
            guard case .nonFiniteValue? = $0 as? MeasurementError else { return XCTFail("\($0)") }
        }
    }

    /// Independent values: n − 1 per complete MID, each entry of a partial one; fewer than
    /// the free fluxes to fit is an error for pure least squares.
    func testUnderdeterminedIsAnError() throws {
        let (p, layout, values) = try toy()
        XCTAssertEqual(p.mfa.fittedParameterCount, 2)
        func only(_ fragment: String, entries: Int? = nil) -> MeasuredLabeling {
            let f = layout.fragmentNames.firstIndex(of: fragment)!
            let start = layout.offsets[f], n = entries ?? layout.isotopologues[f]
            var mask = [Bool](repeating: false, count: values.count)
            for k in 0..<n { mask[start + k] = true }
            return MeasuredLabeling(layout: layout, values: zip(values, mask).map { $1 ? $0 : .nan },
                                    stddev: [Double](repeating: .nan, count: values.count), mask: mask)
        }
        let e = only("molE")                       // 2 entries → 1 independent value
        XCTAssertEqual(e.independentValues, 1)
        XCTAssertThrowsError(try p.mfa.checkDetermined(e))
        XCTAssertThrowsError(try p.predict(measured: e))
        let b = only("molB")                       // 4 entries → 3
        XCTAssertEqual(b.independentValues, 3)
        XCTAssertNoThrow(try p.mfa.checkDetermined(b))
        XCTAssertEqual(only("molB", entries: 2).independentValues, 2, "a partial MID: each measured entry counts")
        let all = MeasuredLabeling(layout: layout, values: values, stddev: [Double](repeating: .nan, count: values.count),
                                   mask: [Bool](repeating: true, count: values.count))
        XCTAssertEqual(all.independentValues, layout.count - layout.fragmentNames.count)
    }
}
