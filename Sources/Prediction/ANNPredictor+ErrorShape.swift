import Foundation
import MLFluxCore
import NeuralNetworks

extension ANNPredictor {
    /// A copy carrying a `ConditionalErrorShape` fitted on the rows `x` (measurement σ `sigma`)
    /// with true free fluxes `free`, on this predictor's own predictions (its σ calibration
    /// included; call it after `calibrated(on:…)`), and how the fit went.
    public func withErrorShape(on x: Matrix, sigma: [Double]? = nil, free: [[Double]], head: ConditionalErrorShape.Head = .quantiles,
                               hidden: [Int] = [64, 64], epochs: Int = 60, seed: UInt64 = 1,
                               progress: ((EpochReport) -> Void)? = nil) -> (predictor: ANNPredictor, summary: ConditionalErrorShape.FitSummary) {
        var copy = self
        copy.errorShape = nil
        let predictions = copy.predict(matrix: x, sigma: sigma)
        let (shape, summary) = ConditionalErrorShape.fit(predictions: predictions, truthFree: free, basis: basis,
                                                         sigmas: networkSigma(sigma, rows: x.rows), head: head,
                                                         hidden: hidden, epochs: epochs, seed: seed, progress: progress)
        copy.errorShape = shape
        return (copy, summary)
    }
}
