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
        /// Per reaction id, with `bounds`: the Cramér–Rao bound of its exchange flux over the
        /// band and the error on the states whose bound is within the target.
        public var exchangeBound: [String: ExchangeBound]?
    }

    /// The relative Cramér–Rao bounds (SE / true value; ∞ where not identifiable) of one
    /// exchange flux in one state: from the measured entries alone with the comparison's noise
    /// σ (`noisy`) and with exact data's σ (Float32 storage resolution, `exact`), and at the
    /// noise σ with the flux space's bounds as a prior (`LeastSquaresMFA.boundsPrior`).
    public struct StateBound: Sendable {
        public var noisy: Double
        public var exact: Double
        public var noisyWithPrior: Double
        public init(noisy: Double, exact: Double, noisyWithPrior: Double) {
            self.noisy = noisy
            self.exact = exact
            self.noisyWithPrior = noisyWithPrior
        }
    }

    /// How well the measured entries determine one exchange flux over a band's states, and
    /// the error on the states where they (with the flux space) determine it to the target.
    public struct ExchangeBound: Codable, Sendable {
        /// The target relative error.
        public var target: Double
        /// Share of the band's states where the measured entries alone do not identify the flux (infinite bound).
        public var notIdentifiable: Double
        /// Median relative bound from the measured entries alone at the noise σ (∞ when more
        /// than half are not identifiable), and with the flux-space prior.
        public var medianBound: Double
        public var medianBoundWithPrior: Double
        /// Share of the band's states whose relative bound is at most `target`: with the prior
        /// at the noise σ, and from the entries alone for exact data.
        public var withinTarget: Double
        public var withinTargetExact: Double
        /// Median |relative error| of the predictions on the states within the target at the
        /// noise σ (NaN when none, or every one failed), and how many there are.
        public var medianErrorWithinTarget: Double
        public var statesWithinTarget: Int
        /// The same on the states within the target for exact data.
        public var medianErrorWithinTargetExact: Double
        public var statesWithinTargetExact: Int
    }

    /// The bands of width `width` covering `hidden` (one share per state; `predictions[i]` nil
    /// where the predictor failed). `excluded` reactions are left out of the net-flux judgement.
    /// `bounds[i][f]`: the relative Cramér–Rao bounds of the exchange flux of `focus[f]` in
    /// state i, judged against `targets[f]`.
    public static func bands(predictions: [FluxPrediction?], truth: [FluxState], hidden: [Double], network: MetabolicNetwork,
                             width: Double = 0.1, excluded: Set<String> = [], focus: [String] = [],
                             bounds: [[StateBound]]? = nil, targets: [Double] = []) -> [Band] {
        precondition(predictions.count == truth.count && truth.count == hidden.count && width > 0)
        precondition(bounds == nil || (bounds!.count == truth.count && targets.count == focus.count))
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
                var bound: [String: ExchangeBound]?
                if let bounds {
                    bound = [:]
                    for (f, id) in focus.enumerated() {
                        guard let r = network.reactions.firstIndex(where: { $0.id == id }) else { continue }
                        let inside = idx.filter { bounds[$0][f].noisyWithPrior <= targets[f] }
                        let insideExact = idx.filter { bounds[$0][f].exact <= targets[f] }
                        func error(_ states: [Int]) -> Double {
                            median(states.compactMap { i in predictions[i].map { relative($0.exchange[r], truth[i].exchange[r]) } })
                        }
                        bound![id] = ExchangeBound(
                            target: targets[f],
                            notIdentifiable: Double(idx.filter { bounds[$0][f].noisy == .infinity }.count) / Double(idx.count),
                            medianBound: medianCountingInfinity(idx.map { bounds[$0][f].noisy }),
                            medianBoundWithPrior: medianCountingInfinity(idx.map { bounds[$0][f].noisyWithPrior }),
                            withinTarget: Double(inside.count) / Double(idx.count),
                            withinTargetExact: Double(insideExact.count) / Double(idx.count),
                            medianErrorWithinTarget: error(inside), statesWithinTarget: inside.count,
                            medianErrorWithinTargetExact: error(insideExact), statesWithinTargetExact: insideExact.count)
                    }
                }
                bands.append(Band(hiddenLow: lo, hiddenHigh: hi, states: idx.count, failures: idx.count - ok.count,
                                  allNetWithin5: Double(within) / Double(idx.count),
                                  medianNetRelativeError: median(perState), medianExchangeRelativeError: xch, exchangeBound: bound))
            }
            if last { break }
            lo = hi
        }
        return bands
    }

    static func median(_ x: [Double]) -> Double { Evaluation.quantiles(x, [0.5])[0] }

    /// The median of `x` with +∞ counted as the largest values (`quantiles` drops them): ∞
    /// when the median falls on or next to one.
    static func medianCountingInfinity(_ x: [Double]) -> Double {
        let m = median(x.map { $0 == .infinity ? Double.greatestFiniteMagnitude / 4 : $0 })
        return m >= Double.greatestFiniteMagnitude / 16 ? .infinity : m
    }
}
