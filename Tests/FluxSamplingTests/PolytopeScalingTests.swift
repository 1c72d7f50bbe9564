@testable import FluxSampling
import TestSupport
import MLFluxCore
import XCTest

/// Polytopes whose variables differ by orders of magnitude (a growth rate of ~0.6 h⁻¹ tied
/// to drains of ~10⁴ µmol/g/h by biomass coefficients, as in the published E. coli model of
/// 13CFLUX's FluxML examples) are reduced and bounded as well as well-scaled ones.
final class PolytopeScalingTests: XCTestCase {
    private func row(_ g: [Double], _ r: FluxConstraint.Relation, _ h: Double, _ name: String) -> LinearRow {
        LinearRow(g: g, relation: r, h: h, origin: name)
    }

    /// Variables (x, y, μ): 0.55 ≤ μ ≤ 0.77; 4792 ≤ x ≤ 6542; 1000 ≤ y ≤ 60000;
    /// 0 ≤ y − 33247 μ + x ≤ 10 (a thin slab: an ATP balance); x + 5363 μ ≤ 9800.
    /// By hand: μ ∈ [0.55, 0.77]; x ∈ [4792, 6542] (x = 6542 needs μ ≤ (9800 − 6542)/5363 = 0.6075);
    /// y = 33247 μ − x + [0, 10] is least at μ = 0.55, x = 6542 and largest at μ = 0.77, x = 4792
    /// (allowed: 4792 + 5363 · 0.77 = 8921.5 ≤ 9800).
    func testBadlyScaledThinPolytopeHasItsHandComputedBounds() throws {
        let rows = [
            row([0, 0, 1], .greaterOrEqual, 0.55, "mu>=0.55"), row([0, 0, 1], .lessOrEqual, 0.77, "mu<=0.77"),
            row([1, 0, 0], .greaterOrEqual, 4792, "x>=4792"), row([1, 0, 0], .lessOrEqual, 6542, "x<=6542"),
            row([0, 1, 0], .greaterOrEqual, 1000, "y>=1000"), row([0, 1, 0], .lessOrEqual, 60000, "y<=60000"),
            row([1, 1, -33247], .greaterOrEqual, 0, "atp>=0"), row([1, 1, -33247], .lessOrEqual, 10, "atp<=10"),
            row([1, 0, 5363], .lessOrEqual, 9800, "nadph"),
        ]
        let p = try ReducedPolytope(names: ["x", "y", "mu"], rows: rows)
        XCTAssertEqual(p.dimension, 3)
        let expected: [(Double, Double)] = [(4792, 6542), (33247 * 0.55 - 6542, 33247 * 0.77 - 4792 + 10), (0.55, 0.77)]
        for (k, e) in expected.enumerated() {
            XCTAssertEqual(p.bounds[k].lower, e.0, accuracy: 1e-7 * max(1, abs(e.0)), "lower \(k)")
            XCTAssertEqual(p.bounds[k].upper, e.1, accuracy: 1e-7 * max(1, abs(e.1)), "upper \(k)")
        }
        // The stored (unscaled) inequalities hold at the centre and at every extreme point,
        // and the centre maps to a point satisfying every original row.
        XCTAssertTrue(p.contains(p.chebyshevCenter, slack: 1e-9))
        let x = p.point(p.chebyshevCenter)
        for r in rows {
            let lhs = zip(r.g, x).reduce(0) { $0 + $1.0 * $1.1 }
            switch r.relation {
            case .lessOrEqual: XCTAssertLessThanOrEqual(lhs, r.h + 1e-9 * max(1, abs(r.h)), r.origin)
            case .greaterOrEqual: XCTAssertGreaterThanOrEqual(lhs, r.h - 1e-9 * max(1, abs(r.h)), r.origin)
            case .equal: XCTAssertEqual(lhs, r.h, accuracy: 1e-9)
            }
        }
    }
}

/// The published E. coli model (Networks/published) has a thin net flux polytope in badly
/// scaled coordinates: 13CFLUX finds it feasible, and so must the sampler (it once called the
/// constraints contradictory). Its exchange fluxes and the CO2 recycling flux GAS2 have no
/// upper bound in the file, so the test bounds them (as `bundle new --constraints` would).
final class PublishedEcoliPolytopeTests: XCTestCase {
    func testSamplesOfThePublishedEcoliModelSatisfyEveryConstraint() throws {
        let file = try loadNetwork("published/ecoli_model_level_1")
        var rows = "reaction,kind,lower,upper\nGAS2_v71___1,net,8.6e-7,100000\n"
        for (j, r) in file.reactions.enumerated() where file.isBidirectional[j] {
            let lower = r.id == "TCA4_v23" ? 86000 : r.id == "TCA9_v28___1" ? 2082.1976 : 0
            rows += "\(r.id),xch,\(lower),\(r.id == "TCA4_v23" ? 200000 : 100000)\n"
        }
        let network = try file.applyingBounds(try FluxBoundsTable.parse(rows, file: "bounds"))
        let basis = try FreeFluxBasis(network: network)
        let sampler = try FluxSpaceSampler(network: network, basis: basis, settings: .automatic(for: basis))
        var rng = SplitMix64(seed: 7)
        let samples = sampler.sample(count: 50, using: &rng)
        for θ in samples {
            let v = basis.violations(of: basis.fluxState(free: θ), in: network, tolerance: 1e-6)
            XCTAssertTrue(v.isEmpty, "\(v.prefix(3))")
            if !v.isEmpty { return }
        }
        // The growth rate stays inside its measured range [0.5513, 0.7719] h⁻¹ (FluxML file).
        let mu = network.reactionIndex["mu2_v70___1"]!
        let rates = samples.map { basis.fluxState(free: $0).net[mu] }
        XCTAssertGreaterThanOrEqual(rates.min()!, 0.55134342 - 1e-9)
        XCTAssertLessThanOrEqual(rates.max()!, 0.77191708 + 1e-9)
        XCTAssertGreaterThan(rates.max()! - rates.min()!, 0.01, "the chain moves")
    }
}
