import Foundation
import MLFluxCore

/// Flux accuracy as a function of how much of the labeling was hidden: states are grouped
/// into bands of their hidden share of MID entries, and each band reports how many states
/// have every (judged) net flux within 5 % (or 0.005 absolute), the median relative net-flux
/// error and the median relative error of chosen exchange fluxes.
public enum MaskedShareAccuracy {
    public struct Band: Codable, Sendable {
        /// The band's hidden share of entries, `[low, high)` (the last band includes its top).
        public var hiddenLow: Double
        public var hiddenHigh: Double
        public var states: Int
        /// States without a prediction (the predictor failed); counted as not within 5 %.
        public var failures: Int
        public var allNetWithin5: Double
        /// Median over the band's states of each state's median |relative error| of the judged net fluxes.
        public var medianNetRelativeError: Double
        /// Per reaction id: median |relative error| of its exchange flux.
        public var medianExchangeRelativeError: [String: Double]
    }

    /// The bands of width `width` covering `hidden` (one share per state; `predictions[i]` nil
    /// where the predictor failed). `excluded` reactions are left out of the net-flux judgement.
    public static func bands(predictions: [FluxPrediction?], truth: [FluxState], hidden: [Double], network: MetabolicNetwork,
                             width: Double = 0.1, excluded: Set<String> = [], focus: [String] = []) -> [Band] {
        precondition(predictions.count == truth.count && truth.count == hidden.count && width > 0)
        let judged = network.reactions.indices.filter { !excluded.contains(network.reactions[$0].id) }
        let focusIdx = focus.compactMap { id in network.reactions.firstIndex { $0.id == id } }
        func relative(_ p: Double, _ t: Double) -> Double { abs(p - t) / max(abs(t), 1e-12) }
        guard let low = hidden.min(), let top = hidden.max() else { return [] }
        var bands: [Band] = []
        var lo = (low / width).rounded(.down) * width
        while lo <= top + 1e-12 {
            let hi = lo + width
            let last = hi > top + 1e-12
            let idx = hidden.indices.filter { hidden[$0] >= lo - 1e-12 && (hidden[$0] < hi - 1e-12 || last) }
            if !idx.isEmpty {
                let ok = idx.compactMap { i in predictions[i].map { (truth[i], $0) } }
                let within = ok.filter { t, p in
                    judged.allSatisfy { abs(p.net[$0] - t.net[$0]) <= max(0.05 * abs(t.net[$0]), 0.005) }
                }.count
                let perState = ok.map { t, p in median(judged.map { relative(p.net[$0], t.net[$0]) }) }
                var xch: [String: Double] = [:]
                for r in focusIdx {
                    xch[network.reactions[r].id] = median(ok.map { t, p in relative(p.exchange[r], t.exchange[r]) })
                }
                bands.append(Band(hiddenLow: lo, hiddenHigh: hi, states: idx.count, failures: idx.count - ok.count,
                                  allNetWithin5: Double(within) / Double(idx.count),
                                  medianNetRelativeError: median(perState), medianExchangeRelativeError: xch))
            }
            if last { break }
            lo = hi
        }
        return bands
    }

    static func median(_ x: [Double]) -> Double { Evaluation.quantiles(x, [0.5])[0] }
}
