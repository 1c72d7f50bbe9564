import Foundation
import FluxSampling
import MLFluxCore
import TestSupport
import XCTest

/// Hit-and-run reproduces the moments of the uniform distribution on known 2-D polytopes.
final class SamplerHitAndRunTests: XCTestCase {
    private func moments(_ network: MetabolicNetwork, count: Int, seed: UInt64 = 3)
        throws -> (mean: [Double], cov: [[Double]], sampler: FluxSpaceSampler) {
        let basis = try FreeFluxBasis(network: network)
        let sampler = try FluxSpaceSampler(network: network, basis: basis,
                                           settings: SamplerSettings(net: .hitAndRun, exchange: .uniform))
        XCTAssertEqual(sampler.netDimension, 2)
        var rng = SplitMix64(seed: seed)
        let samples = sampler.sample(count: count, using: &rng)
        // (x, y) = net fluxes of u1 and u2, whichever free fluxes the basis chose.
        let pts = samples.map { θ -> [Double] in
            let s = basis.fluxState(free: θ)
            XCTAssertTrue(basis.violations(of: s, in: network).isEmpty)
            return [s.net[0], s.net[1]]
        }
        let n = Double(pts.count)
        let mean = (0..<2).map { k in pts.reduce(0) { $0 + $1[k] } / n }
        let cov = (0..<2).map { i in (0..<2).map { j in
            pts.reduce(0) { $0 + ($1[i] - mean[i]) * ($1[j] - mean[j]) } / (n - 1) } }
        return (mean, cov, sampler)
    }

    func testTriangle() throws {
        // x, y ≥ 0 (one-way uptakes), x + y ≤ 1: mean (1/3, 1/3), var 1/18, cov −1/36.
        let (mean, cov, sampler) = try moments(twoFluxNetwork([sumConstraint(.lessOrEqual, 1)]), count: 20000)
        XCTAssertEqual(mean[0], 1.0 / 3, accuracy: 0.01)
        XCTAssertEqual(mean[1], 1.0 / 3, accuracy: 0.01)
        XCTAssertEqual(cov[0][0], 1.0 / 18, accuracy: 0.004)
        XCTAssertEqual(cov[1][1], 1.0 / 18, accuracy: 0.004)
        XCTAssertEqual(cov[0][1], -1.0 / 36, accuracy: 0.004)
        for b in sampler.bounds {
            XCTAssertEqual(b.lower, 0, accuracy: 1e-12)
            XCTAssertEqual(b.upper, 1, accuracy: 1e-12)
        }
    }

    func testSquareWithACutCorner() throws {
        // [0, 1]² without the corner x + y > 1.5: area 7/8.
        let network = try twoFluxNetwork([
            FluxConstraint(kind: .net, reaction: "u1", .lessOrEqual, 1),
            FluxConstraint(kind: .net, reaction: "u2", .lessOrEqual, 1),
            sumConstraint(.lessOrEqual, 1.5),
        ])
        // Moments of the unit square minus those of the corner triangle (0.5,1), (1,1), (1,0.5).
        let corner = 0.125, area = 1 - corner, c = 5.0 / 6
        let m1 = (0.5 - corner * c) / area
        // E[x²]: square 1/3; triangle: area·(c² + var), var of the corner triangle = 1/72·(0.5)²·…
        // computed from the vertex formula E[x²] = (Σ x_i² + Σ_{i<j} x_i x_j)/6 over the vertices.
        let tx = [0.5, 1.0, 1.0], ty = [1.0, 1.0, 0.5]
        func second(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for i in 0..<3 { for j in 0..<3 { s += a[i] * b[j] * (i == j ? 2 : 1) } }
            return s / 12
        }
        let exx = (1.0 / 3 - corner * second(tx, tx)) / area
        let exy = (1.0 / 4 - corner * second(tx, ty)) / area
        let (mean, cov, _) = try moments(network, count: 20000, seed: 5)
        XCTAssertEqual(mean[0], m1, accuracy: 0.01)
        XCTAssertEqual(mean[1], m1, accuracy: 0.01)
        XCTAssertEqual(cov[0][0], exx - m1 * m1, accuracy: 0.005)
        XCTAssertEqual(cov[0][1], exy - m1 * m1, accuracy: 0.005)
    }

    func testImplicitEqualityIsEliminated() throws {
        // x + y ≤ 1 and x + y ≥ 1 (two inequalities): a segment, sampled along its length.
        let network = try twoFluxNetwork([sumConstraint(.lessOrEqual, 1), sumConstraint(.greaterOrEqual, 1)])
        let basis = try FreeFluxBasis(network: network)
        let sampler = try FluxSpaceSampler(network: network, basis: basis,
                                           settings: SamplerSettings(net: .hitAndRun, exchange: .uniform))
        XCTAssertEqual(sampler.netDimension, 1)
        var rng = SplitMix64(seed: 1)
        let xs = sampler.sample(count: 4000, using: &rng).map { θ -> Double in
            let s = basis.fluxState(free: θ)
            XCTAssertTrue(basis.violations(of: s, in: network).isEmpty)
            return s.net[0]
        }
        XCTAssertLessThan(ksStatistic(xs) { min(max($0, 0), 1) }, ksCritical(count: xs.count))
    }
}
