import Testing
import MLFluxCore
import TestSupport

/// Standard errors through the kernels: an undetermined free flux (σ = ∞) makes the errors
/// of exactly the fluxes that depend on it infinite; every other error stays finite (0·∞
/// must not become NaN).
struct FluxPredictionErrorTests {
    @Test func undeterminedFreeFluxLeavesIndependentFluxesFinite() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        // Toy free fluxes: v1.net (fixed to 1), v3.net, v2.xch.
        let p = FluxPrediction(free: [1, 0.2, 0.5], freeSE: [0, .infinity, 0.01], basis: basis, network: network)
        let nf = basis.freeNet.count
        for r in network.reactions.indices {
            let dependsOnV3 = basis.netKernel[r * nf + 1] != 0
            #expect(!p.netSE[r].isNaN && !p.exchangeSE[r].isNaN, "\(network.reactions[r].id)")
            #expect(p.netSE[r].isInfinite == dependsOnV3, "\(network.reactions[r].id): \(p.netSE[r])")
        }
        let v2 = try #require(network.reactionIndex["v2"])
        #expect(abs(p.exchangeSE[v2] - 0.01) < 1e-15)
        #expect(p.netSE[try #require(network.reactionIndex["v1"])] == 0)
    }
}
