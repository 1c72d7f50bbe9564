import EMU
import MLFluxCore
import TestSupport
@testable import Prediction

/// Least squares on the toy network with one experiment per labeling pattern of A, bounds
/// v3 ∈ [0.001, 0.999] and v2.xch ∈ [0, 100], `startCount` random starts.
func toyLeastSquares(_ patterns: [String] = ["100", "010", "011"], startCount: Int = 20) throws
    -> (LeastSquaresMFA, FreeFluxBasis, EMUSimulator, LabelingLayout) {
    let network = try toyNetwork(experiments: patterns.map {
        TracerExperiment(id: "A_\($0)", inputs: [TracerInput(pool: "molA", components: [TracerComponent(pattern: $0, fraction: 1)!])])
    })
    let basis = try FreeFluxBasis(network: network)
    let sim = try EMUSimulator(network: network, experiments: network.experiments)
    let layout = LabelingLayout(experimentIDs: network.experiments.map(\.id), measured: sim.measured)
    var mfa = LeastSquaresMFA(simulator: sim, basis: basis, network: network, bounds: [(1, 1), (0.001, 0.999), (0, 100)])
    mfa.startCount = startCount
    return (mfa, basis, sim, layout)
}

/// Every entry of `values` measured with σ = `sd`.
func measuredLabeling(_ values: [Double], _ layout: LabelingLayout, sd: Double) -> MeasuredLabeling {
    MeasuredLabeling(layout: layout, values: values, stddev: [Double](repeating: sd, count: values.count),
                     mask: [Bool](repeating: true, count: values.count))
}

/// Gaussian noise σ per MID entry, each MID's noise projected onto sum zero (TestSupport's
/// `noisyMIDs` with draws from `rng`).
func noisyMIDs(_ clean: [Double], _ layout: LabelingLayout, sd: Double, _ rng: inout SplitMix64) -> [Double] {
    noisyMIDs(clean, layout, sd: sd) { rng.nextGaussian() }
}
