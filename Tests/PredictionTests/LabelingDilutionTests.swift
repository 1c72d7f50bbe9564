import EMU
import Foundation
import MLFluxCore
import Testing
import TestSupport
@testable import Prediction

/// Labeling-only mixing (pool dilution): a measured pool is f·(what the network made) +
/// (1 − f)·unlabeled material, outside the mass balances.
@Suite struct LabelingDilutionTests {
    /// The toy network with three tracers of A; molC and molF diluted (molF also through a
    /// natural-abundance map of its three carbons).
    static func problem() throws -> (LeastSquaresMFA, EMUSimulator, EMUSimulator, FreeFluxBasis, LabelingLayout) {
        let network = try toyNetwork(experiments: ["100", "010", "011"].map {
            TracerExperiment(id: "A_\($0)", inputs: [TracerInput(pool: "molA", components: [TracerComponent(pattern: $0, fraction: 1)!])])
        })
        let basis = try FreeFluxBasis(network: network)
        let p = 0.0107, q = 1 - p
        // Natural abundance of 3 carbons: column j = binomial of the 3 − j unlabeled ones, shifted by j.
        let c3: [Double] = [q * q * q, 0, 0, 0,
                            3 * p * q * q, q * q, 0, 0,
                            3 * p * p * q, 2 * p * q, q, 0,
                            p * p * p, p * p, p, 1]
        let maps = ["molF": MeasurementMap(size: 4, matrix: c3)]
        let plain = try EMUSimulator(network: network, experiments: network.experiments, measurementMaps: maps)
        let diluted = try EMUSimulator(network: network, experiments: network.experiments, measurementMaps: maps,
                                       dilution: ["molC": "molC", "molF": "molF"])
        let layout = LabelingLayout(experimentIDs: network.experiments.map(\.id), measured: diluted.measured)
        var mfa = LeastSquaresMFA(simulator: diluted, basis: basis, network: network, bounds: [(1, 1), (0.001, 0.999), (0, 100)])
        mfa.startCount = 8
        return (mfa, plain, diluted, basis, layout)
    }

    static let truth: [Double] = [1, 0.3, 4.0]     // v1.net (fixed), v3.net, v2.xch

    @Test func shareOneIsTheUndilutedModel() throws {
        let (_, plain, diluted, basis, _) = try Self.problem()
        let state = basis.fluxState(free: Self.truth)
        let a = try plain.simulate(state, basis: basis), b = try diluted.simulate(state, basis: basis, dilution: [1, 1])
        #expect(a.labeling.values == b.labeling.values)
        for row in 0..<a.jacobian.rows {
            for k in 0..<basis.count { #expect(a.jacobian[row, k] == b.jacobian[row, k]) }
        }
        #expect(b.jacobian.columns == basis.count + 2)
    }

    /// y = map(f·x + (1 − f)·e₀) against the undiluted simulation mixed by hand, and ∂y/∂f
    /// against central differences.
    @Test func mixedMIDAndItsDerivative() throws {
        let (_, plain, diluted, basis, _) = try Self.problem()
        let state = basis.fluxState(free: Self.truth)
        let f = [0.6, 0.8]
        let (lab, jac) = try diluted.simulate(state, basis: basis, dilution: f)
        let undiluted = try EMUSimulator(network: plain.network, experiments: plain.experiments).simulate(state)
        let c = plain.measurementMaps[plain.measured.firstIndex { $0.name == "molF" }!]!
        for e in 0..<3 {
            // molC: no map, a plain mixture with M+0.
            let x = undiluted.mid(experiment: e, named: "molC")!
            let y = lab.mid(experiment: e, named: "molC")!
            for k in x.indices { #expect(abs(y[k] - (0.6 * x[k] + (k == 0 ? 0.4 : 0))) < 1e-14) }
            // molF: mixed, then natural abundance (columns sum to 1 here, so no renormalisation).
            let xf = undiluted.mid(experiment: e, named: "molF")!
            let mixed = xf.indices.map { 0.8 * xf[$0] + ($0 == 0 ? 0.2 : 0) }
            let yf = lab.mid(experiment: e, named: "molF")!
            for i in 0..<4 {
                let expected = (0..<4).reduce(0.0) { $0 + c.matrix[i * 4 + $1] * mixed[$1] }
                #expect(abs(yf[i] - expected) < 1e-14)
            }
        }
        let h = 1e-6
        for g in 0..<2 {
            var up = f, down = f
            up[g] += h; down[g] -= h
            let a = try diluted.simulate(state, dilution: up).values, b = try diluted.simulate(state, dilution: down).values
            for row in a.indices {
                #expect(abs(jac[row, basis.count + g] - (a[row] - b[row]) / (2 * h)) < 1e-8)
            }
        }
        // The unmixed fragments do not depend on f.
        let molB = lab.offsets[lab.fragments.firstIndex { $0.name == "molB" }!]
        #expect(jac[molB, basis.count] == 0 && jac[molB, basis.count + 1] == 0)
    }

    /// Exact data with f = (0.7, 0.85): the fit recovers θ and both shares, counts them as
    /// parameters of the χ² test, and the report re-simulates with them.
    @Test func exactDataRecoverFluxesAndShares() throws {
        let (mfa, _, diluted, basis, layout) = try Self.problem()
        let state = basis.fluxState(free: Self.truth)
        let values = try diluted.simulate(state, dilution: [0.7, 0.85]).values
        let measured = MeasuredLabeling(layout: layout, values: values, stddev: [Double](repeating: 1e-4, count: values.count),
                                        mask: [Bool](repeating: true, count: values.count))
        let fit = try #require(mfa.fit(measured))
        #expect(abs(fit.prediction.free[1] - 0.3) < 1e-6)
        #expect(abs(fit.prediction.free[2] - 4.0) < 1e-4)
        #expect(fit.dilution.map(\.pool) == ["molC", "molF"])
        #expect(abs(fit.dilution[0].value - 0.7) < 1e-6 && abs(fit.dilution[1].value - 0.85) < 1e-6)
        #expect(fit.dilution.allSatisfy { $0.se > 0 && $0.se < 1e-3 })
        #expect(fit.vssr < 1e-6)
        #expect(fit.identifiable == 4)          // v3.net, v2.xch, two shares
        let report = try FitReport(prediction: fit.prediction, measured: measured, simulator: diluted, basis: basis,
                                   dilution: fit.dilution)
        #expect(report.chiSquared?.identifiable == 4)
        #expect((report.vssr ?? 1) < 1e-6)
    }

    /// The Cramér–Rao bound with diluted pools: the shares are nuisance parameters, so the
    /// flux bounds are the flux block of the inverse of the full 4 × 4 Fisher information,
    /// built here from central differences in (v3.net, v2.xch, f_molC, f_molF) and inverted by
    /// Gauss–Jordan elimination — and they are wider than the undiluted model's.
    @Test func informationBoundTreatsSharesAsNuisanceParameters() throws {
        let (mfa, plain, diluted, basis, layout) = try Self.problem()
        let f = [0.7, 0.85], sigma = 0.01
        func y(_ x: [Double]) throws -> [Double] {
            try diluted.simulate(basis.fluxState(free: [1, x[0], x[1]]), dilution: [x[2], x[3]]).values
        }
        let x0 = [Self.truth[1], Self.truth[2], f[0], f[1]]
        let d = try (0..<4).map { k -> [Double] in
            let h = 1e-6 * max(abs(x0[k]), 1)
            var up = x0, down = x0
            up[k] += h
            down[k] -= h
            return zip(try y(up), try y(down)).map { ($0 - $1) / (2 * h) }
        }
        // Augmented [F | I], eliminated to [I | F⁻¹].
        var a = (0..<4).map { i in (0..<4).map { j in zip(d[i], d[j]).reduce(0) { $0 + $1.0 * $1.1 } / (sigma * sigma) }
            + (0..<4).map { $0 == i ? 1.0 : 0.0 } }
        for c in 0..<4 {
            let pivot = (c..<4).max { abs(a[$0][c]) < abs(a[$1][c]) }!
            a.swapAt(c, pivot)
            let v = a[c][c]
            a[c] = a[c].map { $0 / v }
            for r in 0..<4 where r != c {
                let m = a[r][c]
                a[r] = zip(a[r], a[c]).map { $0 - m * $1 }
            }
        }
        let n = layout.count
        let measured = MeasuredLabeling(layout: layout, values: [Double](repeating: .nan, count: n),
                                        stddev: [Double](repeating: sigma, count: n), mask: [Bool](repeating: true, count: n))
        let state = basis.fluxState(free: Self.truth)
        let bound = try #require(mfa.informationBound(at: state, dilution: f, for: measured))
        let net = basis.freeNet[1], xch = basis.freeExchange[0]
        #expect(bound.identifiable == 2)
        #expect(abs(bound.netSE[net] - a[0][4].squareRoot()) < 1e-4 * a[0][4].squareRoot())
        #expect(abs(bound.exchangeSE[xch] - a[1][5].squareRoot()) < 1e-4 * a[1][5].squareRoot())
        // The same entries without dilution determine the fluxes better.
        let undiluted = LeastSquaresMFA(simulator: plain, basis: basis, network: plain.network,
                                        bounds: [(1, 1), (0.001, 0.999), (0, 100)])
        let sharp = try #require(undiluted.informationBound(at: state, for: measured))
        #expect(sharp.netSE[net] < bound.netSE[net] && sharp.exchangeSE[xch] < bound.exchangeSE[xch])
        #expect(mfa.informationBound(at: state, dilution: [0.7], for: measured) == nil)
    }
}
