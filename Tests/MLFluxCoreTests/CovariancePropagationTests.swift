import Foundation
import MLFluxCore
import TestSupport
import XCTest

/// `FluxPrediction(free:freeCovariance:…)` against an independent Monte-Carlo propagation of
/// the same Gaussian free-flux distribution through `FreeFluxBasis.fluxState` and
/// `Thermodynamics.deltaG`.
final class CovariancePropagationTests: XCTestCase {
    /// Glycolysis: 0.1 % correlated errors on every non-fixed free flux around the example state.
    func testStandardErrorsMatchMonteCarlo() throws {
        let network = try loadNetwork("glycolysis")
        let basis = try FreeFluxBasis(network: network)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/Plugins/glycolysis/fluxes.json"))) as! [String: [String: Double]]
        var state = FluxState(net: [Double](repeating: 0, count: network.reactions.count), exchange: [Double](repeating: 0, count: network.reactions.count))
        for (r, reaction) in network.reactions.enumerated() {
            state.net[r] = json[reaction.id]?["net"] ?? 0
            state.exchange[r] = json[reaction.id]?["xch"] ?? 0
        }
        let theta = basis.freeFluxes(of: state)
        let n = basis.count
        // Σ = D·(A·Aᵀ + I/20)·D, A of rank 2, D = 0.1 % of |θ| (+1e-4): strongly correlated,
        // positive definite, and small enough for ΔG's first order.
        var rng = SplitMix64(seed: 5)
        let a = (0..<(n * 2)).map { _ in Double.random(in: -1...1, using: &rng) }
        let d = (0..<n).map { basis.fixed[$0] == nil ? 0.001 * abs(theta[$0]) + 1e-4 : 0 }
        var cov = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var s = i == j ? 0.05 : 0
                for k in 0..<2 { s += a[i * 2 + k] * a[j * 2 + k] }
                cov[i * n + j] = d[i] * s * d[j]
            }
        }
        let p = FluxPrediction(free: theta, freeCovariance: cov, basis: basis, network: network)
        XCTAssertEqual(p.freeCovariance, cov)
        // Cholesky of Σ (on the non-fixed block) to draw θ ~ N(θ₀, Σ).
        var L = [Double](repeating: 0, count: n * n)
        for i in 0..<n where d[i] > 0 {
            for j in 0...i where d[j] > 0 {
                var s = cov[i * n + j]
                for k in 0..<j { s -= L[i * n + k] * L[j * n + k] }
                L[i * n + j] = i == j ? s.squareRoot() : s / L[j * n + j]
            }
        }
        let R = network.reactions.count, draws = 20_000
        var sum = [Double](repeating: 0, count: 3 * R), sq = sum
        for _ in 0..<draws {
            let z = (0..<n).map { _ in rng.nextGaussianForTests() }
            var t = theta
            for i in 0..<n { for k in 0...i { t[i] += L[i * n + k] * z[k] } }
            let s = basis.fluxState(free: t)
            for r in 0..<R {
                let g = network.isBidirectional[r] ? Thermodynamics.deltaG(net: s.net[r], xch: s.exchange[r]) : 0
                for (k, v) in [s.net[r], s.exchange[r], g].enumerated() { sum[k * R + r] += v; sq[k * R + r] += v * v }
            }
        }
        func sd(_ k: Int, _ r: Int) -> Double {
            let m = sum[k * R + r] / Double(draws)
            return max(sq[k * R + r] / Double(draws) - m * m, 0).squareRoot()
        }
        var checked = 0
        for r in 0..<R {
            // Linear maps: exact up to Monte-Carlo error (relative SE of an SD at 20,000 draws: 0.5 %).
            XCTAssertEqual(p.netSE[r], sd(0, r), accuracy: 0.02 * sd(0, r) + 1e-12, "net \(network.reactions[r].id)")
            XCTAssertEqual(p.exchangeSE[r], sd(1, r), accuracy: 0.02 * sd(1, r) + 1e-12, "xch \(network.reactions[r].id)")
            if network.isBidirectional[r] && state.exchange[r] > 0 {
                // ΔG to first order: 0.1 % errors leave the curvature negligible.
                XCTAssertEqual(p.deltaGSE[r], sd(2, r), accuracy: 0.05 * sd(2, r), "ΔG \(network.reactions[r].id)")
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 9)
        // Independent errors would be wrong here: the diagonal-only propagation differs for some flux.
        let independent = FluxPrediction(free: theta, freeSE: (0..<n).map { cov[$0 * n + $0].squareRoot() }, basis: basis, network: network)
        XCTAssertTrue((0..<R).contains { abs(independent.netSE[$0] - p.netSE[$0]) > 0.1 * p.netSE[$0] + 1e-9 }
                      || (0..<R).contains { abs(independent.deltaGSE[$0] - p.deltaGSE[$0]) > 0.1 * p.deltaGSE[$0] + 1e-9 })
    }

    /// Analytic: with one uncertain free net flux θ_k (σ = 0.05), every net flux r has
    /// SE = 0.05·|K[r,k]| (toy: v2 = v1 − v3 − v4 moves with v3), and nothing else is uncertain.
    func testKernelPropagationIsAnalytic() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        let n = basis.count, nNet = basis.freeNet.count
        let theta = basis.freeFluxes(of: FluxState(net: [1, 0.6, 0.2, 0.2, 0.8, 0.6, 0.8], exchange: [0, 0.5, 0, 0, 0, 0, 0]))
        let k = try XCTUnwrap((0..<nNet).first { basis.fixed[$0] == nil })
        var cov = [Double](repeating: 0, count: n * n)
        cov[k * n + k] = 0.0025
        let p = FluxPrediction(free: theta, freeCovariance: cov, basis: basis, network: network)
        for r in 0..<network.reactions.count {
            XCTAssertEqual(p.netSE[r], 0.05 * abs(basis.netKernel[r * nNet + k]), accuracy: 1e-12)
        }
        XCTAssertEqual(p.exchangeSE.max(), 0, "no exchange uncertainty stated, none propagated")
    }
}

extension SplitMix64 {
    /// A standard normal draw (Box–Muller), independent of the library's generators.
    mutating func nextGaussianForTests() -> Double {
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53, u2 = Double(next() >> 11) * 0x1p-53
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
