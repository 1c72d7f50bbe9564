import XCTest
import EMU
import FluxML
import MLFluxCore
import TestSupport
@testable import Prediction

/// The constrained least-squares fit (issue 13) on the toy network: random starts reach the
/// truth, fits stay inside the constraints, measured fluxes enter as residuals, and the
/// minimised VSSR of noisy data follows its χ² distribution.
final class ConstrainedFitTests: XCTestCase {
    func toy() throws -> (LeastSquaresMFA, FreeFluxBasis, EMUSimulator, LabelingLayout) { try toyLeastSquares() }
    func labeling(_ values: [Double], _ layout: LabelingLayout, sd: Double) -> MeasuredLabeling { measuredLabeling(values, layout, sd: sd) }

    /// Noise-free data: at least 19 of 20 random starts end at the true free fluxes (1e-6).
    func testRandomStartsReachTheTruthOnExactData() throws {
        let (mfa, basis, sim, layout) = try toy()
        for truth in [[1, 0.2, 0.5], [1, 0.41, 0.03], [1, 0.07, 3.0]] {
            let values = try sim.simulate(basis.fluxState(free: truth)).values
            let fit = try XCTUnwrap(mfa.fit(labeling(values, layout, sd: 1e-4)))
            XCTAssertEqual(fit.starts.count, 20)
            let reached = fit.starts.filter { s in
                s.end.count == 3 && abs(s.end[1] - truth[1]) < 1e-6 && abs(s.end[2] - truth[2]) < 1e-6 * max(1, truth[2])
            }
            XCTAssertGreaterThanOrEqual(reached.count, 19, "truth \(truth): \(fit.starts.map(\.vssr))")
            XCTAssertTrue(fit.starts.allSatisfy { $0.converged || $0.vssr < 1e-12 }, "\(fit.starts.map(\.reason))")
        }
    }

    /// With geodesic acceleration the random starts reach the truth as well (exact data).
    func testGeodesicAccelerationReachesTheTruth() throws {
        var (mfa, basis, sim, layout) = try toy()
        mfa.geodesicAcceleration = true
        let truth = [1, 0.41, 0.03]
        let values = try sim.simulate(basis.fluxState(free: truth)).values
        let fit = try XCTUnwrap(mfa.fit(labeling(values, layout, sd: 1e-6)))
        let reached = fit.starts.filter { s in
            s.end.count == 3 && abs(s.end[1] - truth[1]) < 1e-6 && abs(s.end[2] - truth[2]) < 1e-6
        }
        XCTAssertGreaterThanOrEqual(reached.count, 19, "\(fit.starts.map(\.vssr))")
    }

    /// Standard errors of every net and exchange flux from the fit's covariance of θ agree
    /// with the profile likelihood's linearised errors, computed independently (an SVD
    /// minimum-norm solve of Jᵀz = g per flux). The toy has one free net and one free exchange
    /// flux, so this checks the fit's covariance and its use; that the kernels propagate
    /// correlations exactly is `CovariancePropagationTests`.
    func testFluxErrorsIncludeTheCorrelationsOfTheFreeFluxes() throws {
        var (mfa, basis, sim, layout) = try toy()
        mfa.startCount = 3
        let network = sim.network
        var rng = SplitMix64(seed: 21)
        let clean = try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values
        let fit = try XCTUnwrap(mfa.fit(labeling(noisyMIDs(clean, layout, sd: 0.01, &rng), layout, sd: 0.01)))
        XCTAssertNotNil(fit.prediction.freeCovariance)
        var fluxes: [ProfiledFlux] = network.reactions.indices.map { ProfiledFlux(reaction: $0, kind: .net) }
        fluxes += network.reactions.indices.filter { network.isBidirectional[$0] }.map { ProfiledFlux(reaction: $0, kind: .xch) }
        mfa.threads = 1
        let profile = mfa.profile(fit, fluxes: fluxes, threads: 1)
        var compared = 0
        for (f, interval) in zip(fluxes, profile.fluxes) {
            let mine = f.kind == .net ? fit.prediction.netSE[f.reaction] : fit.prediction.exchangeSE[f.reaction]
            let theirs = interval.standardError
            guard theirs.isFinite, theirs > 1e-12 else { continue }
            XCTAssertEqual(mine, theirs, accuracy: 1e-4 * theirs, "\(network.reactions[f.reaction].id) \(f.kind)")
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 6)
    }

    /// The bounds are linear inequalities kept exactly: data that pull v3 beyond its upper
    /// bound leave the fit on the bound, never outside, and its VSSR cannot be beaten by any
    /// feasible point on a fine grid (brute force).
    func testFitStaysOnABoundTheDataPullAcross() throws {
        var (_, basis, sim, layout) = try toy()
        let network = sim.network
        var mfa = LeastSquaresMFA(simulator: sim, basis: basis, network: network, bounds: [(1, 1), (0.001, 0.25), (0, 100)])
        mfa.startCount = 5
        let values = try sim.simulate(basis.fluxState(free: [1, 0.4, 0.5])).values
        let measured = labeling(values, layout, sd: 0.01)
        let fit = try XCTUnwrap(mfa.fit(measured))
        XCTAssertLessThanOrEqual(fit.prediction.free[1], 0.25)
        XCTAssertEqual(fit.prediction.free[1], 0.25, accuracy: 1e-9)
        var best = Double.infinity
        for i in 0...50 {
            for j in 0...60 {
                let theta = [1, 0.001 + (0.25 - 0.001) * Double(i) / 50, pow(10, -3 + 5 * Double(j) / 60)]
                let sim2 = try sim.simulate(basis.fluxState(free: theta)).values
                best = min(best, zip(sim2, values).reduce(0) { $0 + pow(($1.0 - $1.1) / 0.01, 2) })
            }
        }
        XCTAssertLessThanOrEqual(fit.vssr, best * (1 + 1e-9))
        _ = basis
    }

    /// A measured flux is a residual: with the labeling silent on v3 (huge σ), a measured v4
    /// (= v3 in the toy network) with its σ sets v3 and its standard error.
    func testMeasuredFluxDeterminesWhatTheLabelingCannot() throws {
        let (mfa, basis, sim, layout) = try toy()
        let network = sim.network
        let values = try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values
        let row = FluxMeasurementRow(kind: .net, terms: [IndexedFluxTerm(reaction: network.reactionIndex["v4"]!, coefficient: 1)],
                                     value: 0.12, stddev: 0.002,
                                     measurement: FluxMeasurement(id: "fm", kind: .net, reaction: "v4", value: 0.12, stddev: 0.002))
        let fit = try XCTUnwrap(mfa.fit(labeling(values, layout, sd: 1e3), fluxes: [row]))
        XCTAssertEqual(fit.prediction.free[1], 0.12, accuracy: 1e-6)
        XCTAssertEqual(fit.prediction.freeSE[1], 0.002, accuracy: 2e-5)
        XCTAssertEqual(fit.measurements, layout.count - 3 * 5 + 1)   // 5 complete MIDs per experiment lose one each; + the flux
    }

    /// Measured rates in the lab's unit on a relative network (v1 = 1): the fit returns every
    /// flux times the scale s, and s and its error are the weighted least-squares ones — here
    /// analytic, since exact labeling fixes the relative fluxes: s = Σ fᵢmᵢ/σᵢ² / Σ fᵢ²/σᵢ²,
    /// σ_s = (Σ fᵢ²/σᵢ²)^(-1/2) with fᵢ the true relative fluxes.
    func testMeasuredRatesPutFluxesInTheirUnit() throws {
        var (mfa, basis, sim, layout) = try toy()
        let network = sim.network
        let truth = [1, 0.3, 0.5]
        let relative = basis.fluxState(free: truth)
        let values = try sim.simulate(relative).values
        func row(_ r: String, _ value: Double, _ sd: Double) -> FluxMeasurementRow {
            FluxMeasurementRow(kind: .net, terms: [IndexedFluxTerm(reaction: network.reactionIndex[r]!, coefficient: 1)],
                               value: value, stddev: sd,
                               measurement: FluxMeasurement(id: r, kind: .net, reaction: r, value: value, stddev: sd))
        }
        // Uptake 2.4 ± 0.05 and the F efflux 1.7 ± 0.1 (relative 0.7): not exactly consistent.
        let rows = [row("v1", 2.4, 0.05), row("EX_molF", 1.7, 0.1)]
        mfa.fluxMeasurements = rows
        mfa.fluxScale = true
        let fit = try XCTUnwrap(mfa.fit(labeling(values, layout, sd: 1e-4)))
        let f = rows.map { $0.simulated(relative) }
        let info = zip(f, rows).reduce(0.0) { $0 + $1.0 * $1.0 / ($1.1.stddev * $1.1.stddev) }
        let s = zip(f, rows).reduce(0.0) { $0 + $1.0 * $1.1.value / ($1.1.stddev * $1.1.stddev) } / info
        XCTAssertEqual(f[1], 0.7, accuracy: 1e-12)
        let scale = try XCTUnwrap(fit.scale)
        XCTAssertEqual(scale.value, s, accuracy: 1e-6 * s)
        XCTAssertEqual(scale.se, 1 / info.squareRoot(), accuracy: 1e-3 / info.squareRoot())
        for r in network.reactions.indices {
            XCTAssertEqual(fit.prediction.net[r], s * relative.net[r], accuracy: 1e-6, network.reactions[r].id)
            XCTAssertEqual(fit.prediction.exchange[r], s * relative.exchange[r], accuracy: 1e-5, network.reactions[r].id)
        }
        // The reference flux's error is the scale's; ΔG does not change with the unit.
        XCTAssertEqual(fit.prediction.netSE[network.reactionIndex["v1"]!], scale.se, accuracy: 1e-9)
        let v2 = network.reactionIndex["v2"]!
        XCTAssertEqual(fit.prediction.deltaG[v2], Thermodynamics.deltaG(net: relative.net[v2], xch: relative.exchange[v2],
                                                                        temperature: fit.prediction.temperature), accuracy: 1e-6)
        // The residual of the two rates is in the VSSR, the scale among the identifiable parameters.
        let expected = zip(f, rows).reduce(0.0) { $0 + pow((s * $1.0 - $1.1.value) / $1.1.stddev, 2) }
        XCTAssertEqual(fit.vssr, expected, accuracy: 1e-6 * max(expected, 1))
        XCTAssertEqual(fit.identifiable, 3)
        // The ANN route's post-hoc scale gives the same s and σ_s from the same relative state.
        let p = FluxPrediction(free: truth, freeSE: [0, 0, 0], basis: basis, network: network)
        let posthoc = MeasuredFluxScale.apply(p, rows: rows, basis: basis, network: network)
        XCTAssertEqual(posthoc.scale, s, accuracy: 1e-12)
        XCTAssertEqual(posthoc.se, 1 / info.squareRoot(), accuracy: 1e-12)
    }

    /// Fewer independent values than free parameters is an error for pure least squares.
    func testUnderdeterminedFitIsAnError() throws {
        let (mfa, basis, sim, layout) = try toy()
        let values = try sim.simulate(basis.fluxState(free: [1, 0.3, 0.5])).values
        var mask = [Bool](repeating: false, count: values.count)
        let f = layout.fragmentNames.firstIndex(of: "molE")!
        for k in 0..<layout.isotopologues[f] { mask[layout.offsets[f] + k] = true }   // one MID of 2 entries: 1 value
        let one = MeasuredLabeling(layout: layout, values: zip(values, mask).map { $1 ? $0 : .nan },
                                   stddev: [Double](repeating: 0.01, count: values.count), mask: mask)
        XCTAssertThrowsError(try mfa.checkDetermined(one)) { e in
            XCTAssertEqual(e as? MeasurementError, .underdetermined(values: 1, parameters: 2))
        }
        XCTAssertThrowsError(try MFAPredictor(mfa: mfa, layout: layout).predict(measured: one))
        XCTAssertNoThrow(try mfa.checkDetermined(measuredLabeling(values, layout, sd: 0.01)))
    }

    /// With noise (σ = 0.01 per entry, each MID still summing to 1), the minimised VSSR follows χ² with
    /// (independent measurements − identifiable free fluxes) degrees of freedom: its mean over
    /// 60 repeats lies within 10 % of them (standard error of the mean ≈ √(2·dof/60)).
    func testMinimisedVSSRFollowsItsChiSquaredDistribution() throws {
        var (mfa, basis, sim, layout) = try toy()
        mfa.startCount = 3
        let clean = try sim.simulate(basis.fluxState(free: [1, 0.25, 0.4])).values
        var rng = SplitMix64(seed: 5)
        var total = 0.0, dof = 0
        let repeats = 60
        for _ in 0..<repeats {
            let noisy = noisyMIDs(clean, layout, sd: 0.01, &rng)
            let fit = try XCTUnwrap(mfa.fit(labeling(noisy, layout, sd: 0.01)))
            total += fit.vssr
            dof = fit.degreesOfFreedom
        }
        let mean = total / Double(repeats)
        XCTAssertEqual(mean, Double(dof), accuracy: 0.1 * Double(dof), "mean VSSR \(mean), dof \(dof)")
    }

    /// Bad measurement input gets a clear error naming it.
    func testBadMeasurementsAreNamed() throws {
        let base = """
            <?xml version="1.0" encoding="utf-8"?>
            <fluxml xmlns="http://www.13cflux.net/fluxml">
              <reactionnetwork>
                <metabolitepools><pool id="A" atoms="2"/><pool id="B" atoms="2"/></metabolitepools>
                <reaction id="r1"><reduct cfg="ab" id="A"/><rproduct cfg="ab" id="B"/></reaction>
                <reaction id="out"><reduct cfg="ab" id="B"/></reaction>
              </reactionnetwork>
              <constraints><net><textual>r1=1;</textual></net></constraints>
              <configuration name="c1">
                <input pool="A" type="isotopomer"><label cfg="10">1</label></input>
                <measurement>
                  <model><fluxmeasurement><netflux id="fm"><textual>FLUX</textual></netflux></fluxmeasurement></model>
                  <data><datum id="fm" stddev="0.1">1</datum></data>
                </measurement>
              </configuration>
            </fluxml>
            """
        XCTAssertThrowsError(try FluxMLReader.parseDocument(base.replacingOccurrences(of: "FLUX", with: "nope"), fileName: "m.fml")) { e in
            XCTAssertTrue("\(e)".hasPrefix("m.fml:") && "\(e)".contains("nope"), "\(e)")
        }
    }
}
