import Foundation
import FluxSampling
import MLFluxCore
import TestSupport
import XCTest

/// The marginals have the distributions the settings promise (toy network: v3.net is a
/// 1-D interval, v2.xch a box 0 ≤ xch ≤ 100).
final class SamplerDistributionTests: XCTestCase {
    private func toySamples(_ settings: SamplerSettings, count: Int, seed: UInt64 = 1)
        throws -> (sampler: FluxSpaceSampler, samples: [[Double]]) {
        let network = try loadNetwork("toy")
        let basis = try FreeFluxBasis(network: network)
        XCTAssertEqual(basis.names, ["v1.net", "v3.net", "v2.xch"])
        let sampler = try FluxSpaceSampler(network: network, basis: basis, settings: settings)
        var rng = SplitMix64(seed: seed)
        return (sampler, sampler.sample(count: count, using: &rng))
    }

    func testToyBoundsFromTheMassBalances() throws {
        let (sampler, _) = try toySamples(SamplerSettings(net: .uniform, exchange: .uniform), count: 1)
        // v3 ≥ 0 from EX_molE ≥ 0, v3 ≤ 1 from EX_molF = 1 − v3 ≥ 0 (see FreeFluxes.md).
        XCTAssertEqual(sampler.bounds[0].lower, 1, accuracy: 1e-12)
        XCTAssertEqual(sampler.bounds[1].lower, 0, accuracy: 1e-12)
        XCTAssertEqual(sampler.bounds[1].upper, 1, accuracy: 1e-12)
        XCTAssertEqual(sampler.bounds[2].lower, 0, accuracy: 1e-12)
        XCTAssertEqual(sampler.bounds[2].upper, 100, accuracy: 1e-12)
    }

    func testUniformMarginalsPassKolmogorovSmirnov() throws {
        let n = 5000
        let (sampler, samples) = try toySamples(SamplerSettings(net: .uniform, exchange: .uniform), count: n)
        for k in [1, 2] {
            let (lo, hi) = sampler.bounds[k]
            let d = ksStatistic(samples.map { $0[k] }) { min(max(($0 - lo) / (hi - lo), 0), 1) }
            XCTAssertLessThan(d, ksCritical(count: n), "free flux \(k)")
        }
        XCTAssertTrue(samples.allSatisfy { $0[0] == 1 })
    }

    func testLogUniformExchangeCoversEveryDecade() throws {
        let n = 6000
        let (_, samples) = try toySamples(SamplerSettings(net: .uniform, exchange: .logUniform), count: n)
        let logs = samples.map { log10($0[2]) }
        // log10(xch) uniform in [log10 1e-4, log10 100] = [−4, 2].
        let d = ksStatistic(logs) { min(max(($0 + 4) / 6, 0), 1) }
        XCTAssertLessThan(d, ksCritical(count: n))
        var perDecade = [Int](repeating: 0, count: 6)
        for l in logs { perDecade[min(5, max(0, Int(floor(l + 4))))] += 1 }
        XCTAssertTrue(perDecade.allSatisfy { $0 > n / 6 - n / 20 }, "\(perDecade)")
        XCTAssertTrue(logs.allSatisfy { $0 >= -4 - 1e-12 && $0 <= 2 + 1e-12 })
    }

    func testLogNormalExchangeIsTruncatedLogNormal() throws {
        let n = 5000
        let settings = SamplerSettings(net: .uniform, exchange: .logNormal, logNormalMedian: 0.5, logNormalSigmaDecades: 1.5)
        let (_, samples) = try toySamples(settings, count: n)
        let mu = log10(0.5), sigma = 1.5
        func phi(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
        let pa = phi((-4 - mu) / sigma), pb = phi((2 - mu) / sigma)
        let d = ksStatistic(samples.map { log10($0[2]) }) { (phi(($0 - mu) / sigma) - pa) / (pb - pa) }
        XCTAssertLessThan(d, ksCritical(count: n))
    }

    func testMixedExchangeIsHalfUniformHalfLogUniform() throws {
        let n = 6000
        let (sampler, samples) = try toySamples(SamplerSettings(net: .uniform, exchange: .mixed), count: n)
        let (lo, hi) = sampler.bounds[2]
        XCTAssertEqual(lo, 0)
        // CDF of the equal mixture of U(0, hi) and log10 x ~ U(−4, log10 hi).
        let a = -4.0, b = log10(hi)
        let d = ksStatistic(samples.map { $0[2] }) { x in
            0.5 * min(max(x / hi, 0), 1) + 0.5 * min(max((log10(max(x, 1e-300)) - a) / (b - a), 0), 1)
        }
        XCTAssertLessThan(d, ksCritical(count: n))
    }

    func testHitAndRunOnABoxDrawsIndependently() throws {
        // A 1-D net polytope is a box: hit-and-run falls back to exact independent draws.
        let n = 3000
        let (sampler, samples) = try toySamples(SamplerSettings(net: .hitAndRun, exchange: .uniform), count: n)
        let (lo, hi) = sampler.bounds[1]
        XCTAssertLessThan(ksStatistic(samples.map { $0[1] }) { ($0 - lo) / (hi - lo) }, ksCritical(count: n))
    }

    func testSettingsRoundTripAndDefaults() throws {
        let basis = try FreeFluxBasis(network: loadNetwork("ccm"))
        let auto = SamplerSettings.automatic(for: basis)
        XCTAssertEqual(auto.net, .hitAndRun)
        XCTAssertEqual(auto.exchange, .logUniform)
        XCTAssertEqual(auto.exchangeFloor, 1e-4)
        let nonFixed = (0..<basis.freeNet.count).filter { basis.fixed[$0] == nil }.count
        XCTAssertEqual(auto.thinning, 2 * nonFixed)
        XCTAssertEqual(auto.burnIn, 100 * nonFixed)
        XCTAssertEqual(SamplerSettings.automatic(for: try FreeFluxBasis(network: loadNetwork("toy"))).net, .uniform)
        let data = try JSONEncoder().encode(auto)
        XCTAssertEqual(try JSONDecoder().decode(SamplerSettings.self, from: data), auto)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("hit-and-run"))
    }
}

/// `ExchangeFluxPrior`'s density against its own draws: for every distribution the density
/// integrated (numerically, in log10 above the floor) from the lower bound to x is the share of
/// draws `value(u)` at most x, u on a fine even grid of (0, 1) (the mixture's `value` is not
/// monotone in u, so the share is counted, not read off u).
final class ExchangeFluxPriorTests: XCTestCase {
    func testDensityIntegratesToTheDrawsQuantiles() {
        for method in SamplerSettings.ExchangeMethod.allCases {
            let settings = SamplerSettings(exchange: method, exchangeFloor: 1e-4, logNormalMedian: 1, logNormalSigmaDecades: 1)
            let prior = ExchangeFluxPrior(lower: 0, upper: 100, settings: settings)
            func integral(to x: Double) -> Double {
                // Below the floor only the uniform part has mass (linear), above it integrate in t = log10 x.
                var s = 0.0
                let floorX = min(x, 1e-4), n = 20_000
                for i in 0..<n {
                    let a = floorX * Double(i) / Double(n), b = floorX * Double(i + 1) / Double(n)
                    s += (prior.density((a + b) / 2)) * (b - a)
                }
                if x > 1e-4 {
                    let ta = -4.0, tb = log10(x)
                    for i in 0..<n {
                        let t = ta + (tb - ta) * (Double(i) + 0.5) / Double(n), xt = pow(10, t)
                        s += prior.density(xt) * xt * 2.302_585_092_994_046 * (tb - ta) / Double(n)
                    }
                }
                return s
            }
            let n = 200_000
            let draws = (0..<n).map { prior.value((Double($0) + 0.5) / Double(n)) }
            for x in [3e-5, 0.002, 0.5, 7, 60] {
                let share = Double(draws.filter { $0 <= x }.count) / Double(n)
                XCTAssertEqual(integral(to: x), share, accuracy: 2e-4, "\(method) x=\(x)")
            }
            XCTAssertEqual(integral(to: 100), 1, accuracy: 2e-4, "\(method)")
            XCTAssertEqual(prior.density(101), 0)
        }
    }
}
