import Foundation
import MLFluxCore

/// Shape (quantile) recalibration of a predictor's free-flux marginals (Kuleshov, Fenner &
/// Ermon 2018): per free flux, the empirical quantile function of the standardised error z on
/// held-out rows, so that u = F̂(z) of the truth is uniform — what simulation-based
/// calibration asks — where the Gaussian u = Φ(z) is not.
///
/// `SigmaCalibration` makes the stated 1σ cover 68.27 % of the errors, but the posterior of a
/// flux bounded by the flux polytope is not Gaussian (fewer errors beyond ±1.3σ, more between
/// ±0.8σ and ±1.3σ; skewed exchange fluxes): this map carries the shape. It is fitted after the
/// σ factors, on the same rows, on z exactly as `Evaluation` computes it (`ErrorQuantiles`
/// conventions: net fluxes (t − p)/SE, exchange fluxes in log10), and leaves means and SEs as
/// they are.
///
/// Classes: rows are split into equal-count classes of log10 of the measurement σ a
/// noise-aware network is told (one class otherwise); each class stores its knots at the
/// median log10 σ of its rows (`sigmaCentres`), and a prediction's knots are interpolated
/// linearly in log10 σ between the two nearest centres (the nearest one outside them).
public struct QuantileCalibration: Codable, Sendable, Equatable {
    /// The probability grid of every knot set, strictly ascending in (0, 1).
    public var probabilities: [Double]
    /// log10 measurement σ at the centre of each class, strictly ascending (one per class).
    public var sigmaCentres: [Float]
    /// Per class, per free flux (basis order): z quantiles at `probabilities`, strictly
    /// ascending, or nil (a fixed flux, or too few finite errors: Gaussian).
    public var knots: [[[Double]?]]

    public init(probabilities: [Double], sigmaCentres: [Float], knots: [[[Double]?]]) {
        self.probabilities = probabilities
        self.sigmaCentres = sigmaCentres
        self.knots = knots
    }

    /// 0.005, 0.01, 0.02, …, 0.99, 0.995.
    public static let defaultProbabilities: [Double] = [0.005] + (1...99).map { Double($0) / 100 } + [0.995]

    /// A description of what is wrong for a basis of `names` free fluxes, or nil.
    public func inconsistency(names: [String]) -> String? {
        guard probabilities.count >= 2, probabilities.allSatisfy({ $0 > 0 && $0 < 1 }),
              zip(probabilities, probabilities.dropFirst()).allSatisfy({ $0 < $1 }) else {
            return "probabilities must be at least 2, strictly ascending, inside (0, 1)"
        }
        guard !knots.isEmpty, knots.count == sigmaCentres.count else { return "needs one knot set per σ class (\(sigmaCentres.count)), at least one" }
        guard sigmaCentres.allSatisfy(\.isFinite), zip(sigmaCentres, sigmaCentres.dropFirst()).allSatisfy({ $0 < $1 }) else {
            return "σ class centres must be finite and strictly ascending"
        }
        for (c, set) in knots.enumerated() {
            guard set.count == names.count else { return "class \(c + 1) has \(set.count) free fluxes, the network \(names.count)" }
            for (k, z) in set.enumerated() {
                guard let z else { continue }
                guard z.count == probabilities.count else {
                    return "class \(c + 1), flux '\(names[k])': \(z.count) knots for \(probabilities.count) probabilities"
                }
                if let i = z.firstIndex(where: { !$0.isFinite }) { return "class \(c + 1), flux '\(names[k])': knot \(i) is not finite" }
                if let i = z.indices.dropFirst().first(where: { !(z[$0] > z[$0 - 1]) }) {
                    return "class \(c + 1), flux '\(names[k])': knots are not increasing at entry \(i)"
                }
            }
        }
        return nil
    }

    /// The knots for a prediction told measurement σ `sigma` (nil: the first class, as for a
    /// network that is told none).
    public func quantiles(sigma: Float?) -> ErrorQuantiles {
        guard knots.count > 1, let sigma else { return ErrorQuantiles(probabilities: probabilities, knots: knots[0]) }
        let x = log10f(max(sigma, 1e-12))
        guard x > sigmaCentres[0] else { return ErrorQuantiles(probabilities: probabilities, knots: knots[0]) }
        guard x < sigmaCentres[sigmaCentres.count - 1] else { return ErrorQuantiles(probabilities: probabilities, knots: knots[knots.count - 1]) }
        let j = SigmaCalibration.bin(x, sigmaCentres) - 1
        let w = Double((x - sigmaCentres[j]) / (sigmaCentres[j + 1] - sigmaCentres[j]))
        return ErrorQuantiles(probabilities: probabilities, lower: knots[j], upper: knots[j + 1], weight: min(max(w, 0), 1))
    }

    /// Fits the knots on `predictions` of rows with true free fluxes `truthFree` (told
    /// measurement σ `sigmas`, noise-aware networks): rows split into `classes` equal-count
    /// classes of log10 σ (one without `sigmas`, fewer when a class would hold under
    /// `minimumRows`); per class and free flux, the type-7 quantiles of its finite z at
    /// `probabilities` (nil under `minimumRows` finite z, or for a fixed flux), rounded to 1e-4
    /// and made strictly ascending (steps of at least 1e-4).
    public static func fit(predictions: [FluxPrediction], truthFree: [[Double]], basis: FreeFluxBasis, sigmas: [Float]?,
                           classes: Int = 1, minimumRows: Int = 1000,
                           probabilities: [Double] = defaultProbabilities) -> QuantileCalibration {
        precondition(predictions.count == truthFree.count && (sigmas == nil || sigmas!.count == predictions.count))
        let n = predictions.count
        let k = sigmas == nil ? 1 : max(1, min(classes, n / max(minimumRows, 1)))
        let key = sigmas.map { $0.map { log10f(max($0, 1e-12)) } } ?? [Float](repeating: 0, count: n)
        let order = (0..<n).sorted { key[$0] < key[$1] }
        var centres: [Float] = [], knots: [[[Double]?]] = []
        for c in 0..<k {
            let rows = order[(c * n / k)..<((c + 1) * n / k)]
            var centre = rows.isEmpty ? 0 : key[rows[rows.startIndex + rows.count / 2]]
            if let last = centres.last, !(centre > last) { centre = last.nextUp }
            centres.append(centre)
            knots.append((0..<basis.count).map { j -> [Double]? in
                guard basis.fixed[j] == nil else { return nil }
                let z = rows.map { predictions[$0].standardizedError(free: j, truth: truthFree[$0][j], basis: basis) }.filter(\.isFinite)
                guard z.count >= max(minimumRows, 2) else { return nil }
                var q = Evaluation.quantiles(z, probabilities).map { ($0 * 1e4).rounded() / 1e4 }
                for i in q.indices.dropFirst() where q[i] < q[i - 1] + 1e-4 { q[i] = q[i - 1] + 1e-4 }
                return q
            })
        }
        return QuantileCalibration(probabilities: probabilities, sigmaCentres: centres, knots: knots)
    }
}
