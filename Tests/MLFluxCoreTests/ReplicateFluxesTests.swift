import Foundation
import Testing
@testable import MLFluxCore
import TestSupport

/// Replicate predictions combined per flux: mean, SD (n − 1) and SE = √((SD² + Σse²/n)/n),
/// checked against hand computations.
struct ReplicateFluxesTests {
    /// Values 1, 3, 5 with errors 0.1, 0.2, 0.3: mean 3, SD √((4 + 0 + 4)/2) = 2,
    /// SE √((4 + 0.14/3)/3) = 1.161416…; a constant column has SD 0 and SE √(Σse²/n)/√n.
    @Test func statisticByHand() {
        let s = ReplicateFluxes.statistic([[1, 2], [3, 2], [5, 2]], [[0.1, 0.3], [0.2, 0.3], [0.3, 0.3]])
        #expect(s.mean == [3, 2])
        #expect(abs(s.sd[0] - 2) < 1e-15 && s.sd[1] == 0)
        #expect(abs(s.se[0] - ((4 + 0.14 / 3) / 3).squareRoot()) < 1e-15)
        #expect(abs(s.se[1] - (0.09 / 3).squareRoot()) < 1e-15)
        // One replicate: no SD, its own error.
        let single = ReplicateFluxes.statistic([[7]], [[0.5]])
        #expect(single.sd[0].isNaN && single.se[0] == 0.5 && single.mean == [7])
    }

    /// Toy predictions with v3 = 0.1, 0.2, 0.3 (SE 0.01, 0.02, 0.03), v2 exchange 0.5 (SE 0.01):
    /// by mass balance v4 = v3 and v2 = 1 − 2·v3; ΔG of v2 = RT ln(xch / (xch + net)).
    @Test func toyPredictionsCombine() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        let v3s = [0.1, 0.2, 0.3]
        let predictions = zip(v3s, [0.01, 0.02, 0.03]).map { v3, se in
            FluxPrediction(free: [1, v3, 0.5], freeSE: [0, se, 0.01], basis: basis, network: network)
        }
        let c = ReplicateFluxes(predictions)
        let v2 = try #require(network.reactionIndex["v2"]), v3 = try #require(network.reactionIndex["v3"])
        let v1 = try #require(network.reactionIndex["v1"])
        #expect(c.count == 3)
        #expect(abs(c.net.mean[v3] - 0.2) < 1e-15 && abs(c.net.sd[v3] - 0.1) < 1e-15)
        #expect(abs(c.net.se[v3] - ((0.01 + (1e-4 + 4e-4 + 9e-4) / 3) / 3).squareRoot()) < 1e-15)
        #expect(abs(c.net.mean[v2] - 0.6) < 1e-15 && abs(c.net.sd[v2] - 0.2) < 1e-15)
        #expect(c.net.mean[v1] == 1 && c.net.sd[v1] == 0 && c.net.se[v1] == 0)
        #expect(abs(c.exchange.mean[v2] - 0.5) < 1e-15 && abs(c.exchange.se[v2] - (1e-4 / 3).squareRoot()) < 1e-15)
        let rt = 8.314462618e-3 * 310.15
        let dG = [0.8, 0.6, 0.4].map { rt * log(0.5 / (0.5 + $0)) }
        let mean = dG.reduce(0, +) / 3
        #expect(abs(c.deltaG.mean[v2] - mean) < 1e-9, "\(c.deltaG.mean[v2]) vs \(mean)")
        let sd = (dG.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
        #expect(abs(c.deltaG.sd[v2] - sd) < 1e-9)
    }
}
