import XCTest
import EMU
import MLFluxCore
import TestSupport
@testable import Prediction

/// The Cramér–Rao bound of `LeastSquaresMFA.informationBound`, checked against a Fisher
/// information built independently: central finite differences of the simulated MIDs in the
/// raw free fluxes (no EMU Jacobian, no log10 exchange parameters), inverted by hand.
final class CramerRaoBoundTests: XCTestCase {
    /// Central differences ∂y/∂θ_k of the simulated labeling (every entry).
    func finiteDifference(_ sim: EMUSimulator, _ basis: FreeFluxBasis, at θ: [Double], free k: Int, step: Double) throws -> [Double] {
        var up = θ, down = θ
        up[k] += step
        down[k] -= step
        let a = try sim.simulate(basis.fluxState(free: up)).values, b = try sim.simulate(basis.fluxState(free: down)).values
        return zip(a, b).map { ($0 - $1) / (2 * step) }
    }

    /// Toy network (free fluxes: v1 fixed at 1, one free net flux, the exchange of v2), three
    /// tracers, σ = 0.01: the 2 × 2 Fisher information FᵢⱼΣ = Σ ∂y/∂θᵢ ∂y/∂θⱼ / σ² over the
    /// measured entries, inverted by hand, gives the bounds of both free fluxes — with every
    /// entry measured and with every other entry hidden — and they double with σ.
    func testToyBoundEqualsInverseOfFiniteDifferenceFisherInformation() throws {
        let (mfa, basis, sim, layout) = try toyLeastSquares()
        XCTAssertEqual(basis.fixed.count, 1)
        let net = basis.freeNet[1], xch = basis.freeExchange[0]
        for θ in [[1, 0.3, 0.5], [1, 0.7, 0.05], [1, 0.2, 4.0]] {
            let state = basis.fluxState(free: θ)
            let dNet = try finiteDifference(sim, basis, at: θ, free: 1, step: 1e-6)
            let dXch = try finiteDifference(sim, basis, at: θ, free: 2, step: 1e-6 * θ[2])
            for (sigma, hideOdd) in [(0.01, false), (0.01, true), (0.02, false)] {
                let n = dNet.count
                let mask = (0..<n).map { !hideOdd || $0 % 2 == 0 }
                var f00 = 0.0, f01 = 0.0, f11 = 0.0
                for i in 0..<n where mask[i] {
                    f00 += dNet[i] * dNet[i] / (sigma * sigma)
                    f01 += dNet[i] * dXch[i] / (sigma * sigma)
                    f11 += dXch[i] * dXch[i] / (sigma * sigma)
                }
                let det = f00 * f11 - f01 * f01
                let seNet = (f11 / det).squareRoot(), seXch = (f00 / det).squareRoot()
                let measured = MeasuredLabeling(layout: layout, values: [Double](repeating: .nan, count: n),
                                                stddev: [Double](repeating: sigma, count: n), mask: mask)
                let bound = try XCTUnwrap(mfa.informationBound(at: state, for: measured))
                XCTAssertEqual(bound.determined, [true, true, true])
                XCTAssertEqual(bound.identifiable, 2)
                XCTAssertEqual(bound.netSE[net], seNet, accuracy: 1e-5 * seNet, "θ \(θ) σ \(sigma) hideOdd \(hideOdd)")
                XCTAssertEqual(bound.exchangeSE[xch], seXch, accuracy: 1e-5 * seXch, "θ \(θ) σ \(sigma) hideOdd \(hideOdd)")
                XCTAssertEqual(bound.netSE[basis.freeNet[0]], 0, "the fixed reference flux")
            }
        }
    }

    /// Toy network fed uniformly labeled A (every MID constant: finite differences move by
    /// round-off only) and A labeled at C1: measuring only the first experiment
    /// leaves both free fluxes structurally not identifiable (infinite bounds, the fixed one
    /// known) — with the bounds as a prior, their bounds are the prior's — and adding the
    /// second experiment makes both finite.
    func testEntriesWithoutSensitivityGiveInfiniteBounds() throws {
        let (mfa, basis, sim, layout) = try toyLeastSquares(["111", "100"])
        let θ = [1, 0.3, 0.5]
        let blind = layout.count / 2
        for k in 1...2 {
            let d = try finiteDifference(sim, basis, at: θ, free: k, step: 1e-6)
            XCTAssertLessThan(d[..<blind].map { abs($0) }.max()!, 1e-9, "uniform label: no entry moves with free flux \(k)")
            XCTAssertGreaterThan(d[blind...].map { abs($0) }.max()!, 1e-3)
        }
        func bound(_ mask: [Bool]) throws -> LeastSquaresMFA.InformationBound {
            try XCTUnwrap(mfa.informationBound(at: basis.fluxState(free: θ), for: MeasuredLabeling(
                layout: layout, values: [Double](repeating: .nan, count: mask.count),
                stddev: [Double](repeating: 0.005, count: mask.count), mask: mask)))
        }
        let none = try bound((0..<layout.count).map { $0 < blind })
        XCTAssertEqual(none.determined, [true, false, false])
        XCTAssertEqual(none.identifiable, 0)
        XCTAssertEqual(none.exchangeSE[basis.freeExchange[0]], .infinity)
        XCTAssertEqual(none.netSE[basis.freeNet[1]], .infinity)
        // The flux space's bounds as the prior: with no information in the data, the bounds are
        // the prior's — the SD of a uniform distribution over v3 ∈ [0.001, 0.999] and over
        // log10 v2.xch ∈ [log10 1e-7, log10 100] (the exchange floor to the bound).
        let prior = mfa.boundsPrior(around: θ)
        let withPrior = try XCTUnwrap(mfa.informationBound(at: basis.fluxState(free: θ), for: MeasuredLabeling(
            layout: layout, values: [Double](repeating: .nan, count: layout.count),
            stddev: [Double](repeating: 0.005, count: layout.count), mask: (0..<layout.count).map { $0 < blind }), prior: prior))
        XCTAssertEqual(withPrior.netSE[basis.freeNet[1]], 0.998 / 12.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(withPrior.exchangeSE[basis.freeExchange[0]], 0.5 * log(10) * 9 / 12.0.squareRoot(), accuracy: 1e-9)
        let both = try bound([Bool](repeating: true, count: layout.count))
        XCTAssertEqual(both.identifiable, 2)
        XCTAssertTrue(both.exchangeSE[basis.freeExchange[0]].isFinite && both.netSE[basis.freeNet[1]].isFinite)
    }

    /// Glycolysis (two tracers, 17 free fluxes) at its example state: hiding every MID entry
    /// that moves with the PGI exchange flux by more than 10⁻⁹ per unit (finite differences)
    /// leaves entries whose sensitivity is tiny — the bound on the PGI exchange is then more
    /// than 10⁴ times the flux at σ = 0.005 and beyond a 5 % target even for exact Float32
    /// data (σ = 6·10⁻⁸ of each value) — while the kept entries still determine other free fluxes, and
    /// the complete labeling bounds it within a fraction of the flux.
    func testHidingEveryEntryThatCarriesTheExchangeLeavesItUndetermined() throws {
        let network = try loadNetwork("glycolysis")
        let basis = try FreeFluxBasis(network: network)
        let sim = try EMUSimulator(network: network, experiments: network.experiments)
        let layout = LabelingLayout(experimentIDs: network.experiments.map(\.id), measured: sim.measured)
        let mfa = LeastSquaresMFA(simulator: sim, basis: basis, network: network,
                                  bounds: (0..<basis.count).map { $0 < basis.freeNet.count ? (-1e4, 1e4) : (0, 1e4) })
        // The bundle's example state (Plugins/glycolysis/fluxes.json): exchanges 0.5 but PYK's 0.
        let netByID: [String: Double] = [
            "GLC_IN": 1, "H_IN": 991.843, "NADH_IN": 90.09, "PGI": 0.951, "PFK": 0.902, "FBA": 0.902, "TPI": 0.853,
            "GAPD": 1.755, "PGK": 1.755, "PGM1": 1.706, "PGM2": 1.706, "ENO": 1.706, "PYK": 1.657, "H_EX": 990.99,
            "NADH_EX": 91.845, "G6P_EX": 0.049, "F6P_EX": 0.049, "DHAP_EX": 0.049, "PG3_EX": 0.049, "PEP_EX": 0.049, "PYR_EX": 1.657]
        let id = network.reactions.map(\.id)
        let example = FluxState(net: id.map { netByID[$0]! },
                                exchange: id.map { network.isBidirectional[id.firstIndex(of: $0)!] && $0 != "PYK" ? 0.5 : 0 })
        let θ = basis.freeFluxes(of: example)
        let state = basis.fluxState(free: θ)
        XCTAssertEqual(basis.violations(of: state, in: network, tolerance: 1e-6), [])
        let values = try sim.simulate(state).values
        let pgi = try XCTUnwrap(id.firstIndex(of: "PGI"))
        let k = try XCTUnwrap(basis.freeExchange.firstIndex(of: pgi)) + basis.freeNet.count
        let sensitivity = try finiteDifference(sim, basis, at: θ, free: k, step: 1e-6)
        let carries = sensitivity.map { abs($0) > 1e-9 }
        XCTAssertTrue(carries.contains(true) && carries.contains(false))

        func bound(_ mask: [Bool], _ sigma: (Double) -> Double) throws -> LeastSquaresMFA.InformationBound {
            try XCTUnwrap(mfa.informationBound(at: state, for: MeasuredLabeling(
                layout: layout, values: values, stddev: values.map(sigma), mask: mask)))
        }
        let blind = carries.map { !$0 }
        XCTAssertGreaterThan(try bound(blind) { _ in 0.005 }.exchangeSE[pgi] / 0.5, 1e4)
        XCTAssertGreaterThan(try bound(blind) { MIDResolution.float32Storage.sigma($0) }.exchangeSE[pgi] / 0.5, 0.05)
        XCTAssertGreaterThan(try bound(blind) { _ in 0.005 }.identifiable, 0)
        let complete = try bound([Bool](repeating: true, count: carries.count)) { _ in 0.005 }
        XCTAssertTrue(complete.exchangeSE[pgi] > 0 && complete.exchangeSE[pgi] < 0.5)
    }
}
