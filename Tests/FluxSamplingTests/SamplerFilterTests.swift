import Foundation
import FluxSampling
import TestSupport
import XCTest

/// MarginalFlattening and DistanceWeightedAcceptance.
final class SamplerFilterTests: XCTestCase {
    private func histogram(_ x: [Double], bins: Int) -> [Int] {
        let lo = x.min()!, hi = x.max()!
        var h = [Int](repeating: 0, count: bins)
        for v in x { h[min(bins - 1, Int((v - lo) / (hi - lo) * Double(bins)))] += 1 }
        return h
    }

    func testFlatteningFlattensASkewedMarginal() throws {
        var rng = SplitMix64(seed: 11)
        // x = u² on [0, 1]: density 1/(2√x), first bin holds 9× the last.
        let values = (0..<200_000).map { _ in [pow(Double.random(in: 0..<1, using: &rng), 2)] }
        let before = histogram(values.map { $0[0] }, bins: 20)
        XCTAssertGreaterThan(Double(before.max()!) / Double(before.min()!), 5)
        var pick = SplitMix64(seed: 12)
        let kept = MarginalFlattening.select(values, bins: 20, using: &pick)
        XCTAssertEqual(kept, kept.sorted())
        let after = histogram(kept.map { values[$0][0] }, bins: 20)
        XCTAssertLessThan(Double(after.max()!) / Double(after.min()!), 1.5, "\(after)")
        XCTAssertGreaterThan(kept.count, 20 * before.min()! * 8 / 10)
        var again = SplitMix64(seed: 12)
        XCTAssertEqual(MarginalFlattening.select(values, bins: 20, using: &again), kept)
    }

    func testFlatteningOfTwoCorrelatedFluxes() throws {
        var rng = SplitMix64(seed: 13)
        // x = u², y = (u² + v)/2: skewed and correlated.
        let values = (0..<200_000).map { _ -> [Double] in
            let u = Double.random(in: 0..<1, using: &rng), v = Double.random(in: 0..<1, using: &rng)
            return [u * u, (u * u + v) / 2]
        }
        var pick = SplitMix64(seed: 14)
        let kept = MarginalFlattening.select(values, bins: 10, using: &pick)
        for j in 0..<2 {
            let all = histogram(values.map { $0[j] }, bins: 10)
            let h = histogram(kept.map { values[$0][j] }, bins: 10)
            // Dense bins (≥ 20 % of the mean count, the default threshold) flat to 1.5.
            let mean = Double(values.count) / 10
            let dense = (0..<10).filter { Double(all[$0]) >= 0.2 * mean }.map { h[$0] }
            XCTAssertLessThan(Double(dense.max()!) / Double(dense.min()!), 1.5, "flux \(j): \(h)")
        }
    }

    func testDistanceWeightingFavoursTheSparseRegion() throws {
        var rng = SplitMix64(seed: 21)
        // 90 % of the points in a tight cluster, 10 % spread over the square.
        var points: [([Double], Bool)] = []
        for _ in 0..<4000 {
            if Double.random(in: 0..<1, using: &rng) < 0.9 {
                points.append(([0.3 + 0.03 * Double.random(in: -1...1, using: &rng),
                                0.3 + 0.03 * Double.random(in: -1...1, using: &rng)], false))
            } else {
                points.append(([Double.random(in: -1...1, using: &rng), Double.random(in: -1...1, using: &rng)], true))
            }
        }
        func run(seed: UInt64) -> [Bool] {
            var acceptance = DistanceWeightedAcceptance(neighbours: 10)
            var g = SplitMix64(seed: seed)
            return points.map { acceptance.offer($0.0, using: &g) }
        }
        let decisions = run(seed: 7)
        XCTAssertEqual(decisions, run(seed: 7))
        XCTAssertNotEqual(decisions, run(seed: 8))
        XCTAssertTrue(decisions.prefix(10).allSatisfy { $0 })
        var sparse = (0, 0), dense = (0, 0)
        for (p, ok) in zip(points, decisions) {
            if p.1 { sparse.1 += 1; if ok { sparse.0 += 1 } } else { dense.1 += 1; if ok { dense.0 += 1 } }
        }
        let sparseRate = Double(sparse.0) / Double(sparse.1), denseRate = Double(dense.0) / Double(dense.1)
        XCTAssertGreaterThan(sparseRate, 3 * denseRate, "sparse \(sparseRate), dense \(denseRate)")
        var acceptance = DistanceWeightedAcceptance()
        var g = SplitMix64(seed: 7)
        for p in points { _ = acceptance.offer(p.0, using: &g) }
        XCTAssertEqual(acceptance.accepted, decisions.filter { $0 }.count)
    }
}
