import MLFluxCore
import Prediction
import Testing

/// Banding by hidden share, counted by hand on a two-reaction network.
@Suite struct MaskedShareAccuracyTests {
    @Test func bandsCountByHand() throws {
        let (mfa, basis, _, _) = try toyLeastSquares()
        let network = mfa.network
        let R = network.reactions.count
        let base = FluxPrediction(free: [1, 0.5, 1], freeSE: [0, 0, 0], basis: basis, network: network)
        // Every net flux `net`, the exchange flux of v2 (the focus) `xch`.
        let v2 = try #require(network.reactions.firstIndex { $0.id == "v2" })
        func state(_ net: Double, _ xch: Double) -> FluxState {
            var x = [Double](repeating: 0, count: R)
            x[v2] = xch
            return FluxState(net: [Double](repeating: net, count: R), exchange: x)
        }
        func prediction(_ s: FluxState) -> FluxPrediction {
            var p = base
            p.net = s.net
            p.exchange = s.exchange
            return p
        }
        let truth = [state(1, 1), state(1, 1), state(2, 1), state(2, 1), state(1, 2)]
        // State 1 is 10 % off in its net fluxes, state 3 failed, state 4 has its exchange 50 % off.
        let predictions: [FluxPrediction?] = [prediction(truth[0]), prediction(state(1.1, 1)), prediction(truth[2]), nil,
                                              prediction(state(1, 3))]
        let hidden = [0.42, 0.48, 0.55, 0.59, 0.91]
        let bands = MaskedShareAccuracy.bands(predictions: predictions, truth: truth, hidden: hidden, network: network,
                                              width: 0.1, focus: ["v2"])
        #expect(bands.map(\.states) == [2, 2, 1])
        #expect(bands.map(\.failures) == [0, 1, 0])
        #expect(bands.map(\.allNetWithin5) == [0.5, 0.5, 1])
        #expect(abs(bands[0].hiddenLow - 0.4) < 1e-12 && abs(bands[2].hiddenLow - 0.9) < 1e-12)
        #expect(abs(bands[0].medianNetRelativeError - 0.05) < 1e-12)   // median of 0 and 0.1
        #expect(abs(bands[2].medianExchangeRelativeError["v2"]! - 0.5) < 1e-12)

        // Cramér–Rao bounds (data only at σ, data only exact, with the prior at σ) per state, target 5 %:
        // band 0 has one state within the target at σ (state 0, error 0) and both for exact data;
        // band 1 one state not identifiable from the data alone.
        let b = MaskedShareAccuracy.StateBound.init
        let bounds = [[b(0.02, 1e-4, 0.01)], [b(0.7, 1e-3, 0.5)], [b(.infinity, .infinity, 0.2)], [b(0.03, 1e-4, 0.02)], [b(0.03, 1e-5, 0.03)]]
        let withBounds = MaskedShareAccuracy.bands(predictions: predictions, truth: truth, hidden: hidden, network: network,
                                                   width: 0.1, focus: ["v2"], bounds: bounds, targets: [0.05])
        let e = withBounds.map { $0.exchangeBound!["v2"]! }
        #expect(e.map(\.withinTarget) == [0.5, 0.5, 1])
        #expect(e.map(\.withinTargetExact) == [1, 0.5, 1])
        #expect(e.map(\.notIdentifiable) == [0, 0.5, 0])
        #expect(e.map(\.statesWithinTarget) == [1, 1, 1])
        #expect(e[0].medianErrorWithinTarget == 0 && e[0].medianErrorWithinTargetExact == 0)
        #expect(e[1].medianErrorWithinTarget.isNaN, "the one state within the target failed")
        #expect(abs(e[2].medianErrorWithinTarget - 0.5) < 1e-12)
        #expect(abs(e[0].medianBound - 0.36) < 1e-12 && abs(e[0].medianBoundWithPrior - 0.255) < 1e-12)
        #expect(e[1].medianBound == .infinity && abs(e[1].medianBoundWithPrior - 0.11) < 1e-12)
    }
}
