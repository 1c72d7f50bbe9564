import FluxSampling
import MLFluxCore
import TestSupport
import XCTest

/// Every sample of every shipped network satisfies every constraint and the mass balances.
final class SamplerFeasibilityTests: XCTestCase {
    private func check(_ name: String, net: SamplerSettings.NetMethod, exchange: SamplerSettings.ExchangeMethod,
                       count: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let network = try loadNetwork(name)
        let basis = try FreeFluxBasis(network: network)
        var settings = SamplerSettings.automatic(for: basis)
        settings.net = net
        settings.exchange = exchange
        let sampler: FluxSpaceSampler
        do {
            sampler = try FluxSpaceSampler(network: network, basis: basis, settings: settings)
        } catch let error as FluxSamplingError {
            // Uniform rejection in a high-dimensional polytope is refused with a clear error.
            guard net == .uniform, case .lowAcceptance = error else { throw error }
            XCTAssertTrue(error.description.contains("hit-and-run"), file: file, line: line)
            return
        }
        var rng = SplitMix64(seed: 42)
        let samples = sampler.sample(count: count, using: &rng)
        XCTAssertEqual(samples.count, count, file: file, line: line)
        var worstBalance = 0.0
        for θ in samples {
            XCTAssertEqual(θ.count, basis.count, file: file, line: line)
            let state = basis.fluxState(free: θ)
            let v = basis.violations(of: state, in: network, tolerance: 1e-9)
            XCTAssertTrue(v.isEmpty, "\(name) \(net) \(exchange): \(v)", file: file, line: line)
            if !v.isEmpty { return }
            worstBalance = max(worstBalance, state.balanceResidual(in: network).map(abs).max() ?? 0)
            for (k, b) in sampler.bounds.enumerated() {
                XCTAssertTrue(θ[k] >= b.lower - 1e-9 && θ[k] <= b.upper + 1e-9, file: file, line: line)
            }
        }
        XCTAssertLessThan(worstBalance, 1e-9, file: file, line: line)
        print("\(name) \(net.rawValue)/\(exchange.rawValue): net dim \(sampler.netDimension), xch dim \(sampler.exchangeDimension), \(count) feasible")
    }

    private func checkAll(_ name: String, count: Int) throws {
        for net in SamplerSettings.NetMethod.allCases {
            for exchange in SamplerSettings.ExchangeMethod.allCases {
                try check(name, net: net, exchange: exchange, count: count)
            }
        }
    }

    func testToy() throws { try checkAll("toy", count: 1000) }
    func testGlycolysis() throws { try checkAll("glycolysis", count: 500) }
    func testGlyPPP() throws { try checkAll("glyppp", count: 500) }
    func testCCM() throws { try checkAll("ccm", count: 300) }

    func testDeterministicForASeed() throws {
        let network = try loadNetwork("ccm")
        let basis = try FreeFluxBasis(network: network)
        let sampler = try FluxSpaceSampler(network: network, basis: basis, settings: .automatic(for: basis))
        var a = SplitMix64(seed: 9), b = SplitMix64(seed: 9), c = SplitMix64(seed: 10)
        let x = sampler.sample(count: 50, using: &a)
        XCTAssertEqual(x, sampler.sample(count: 50, using: &b))
        XCTAssertNotEqual(x, sampler.sample(count: 50, using: &c))
    }

    func testBoundsOfCCM() throws {
        let network = try loadNetwork("ccm")
        let basis = try FreeFluxBasis(network: network)
        let sampler = try FluxSpaceSampler(network: network, basis: basis, settings: .automatic(for: basis))
        XCTAssertEqual(sampler.bounds.count, basis.count)
        for (k, v) in basis.fixed {
            XCTAssertEqual(sampler.bounds[k].lower, v, accuracy: 1e-12)
            XCTAssertEqual(sampler.bounds[k].upper, v, accuracy: 1e-12)
        }
        for (name, b) in zip(basis.names, sampler.bounds) {
            XCTAssertTrue(b.lower.isFinite && b.upper.isFinite && b.lower <= b.upper, name)
        }
    }
}
