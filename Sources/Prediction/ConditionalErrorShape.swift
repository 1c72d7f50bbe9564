import Foundation
import MLFluxCore
import NeuralNetworks

/// The shape of each free flux's standardised error **given the prediction**: a small network
/// that maps what a prediction states to the distribution of every free flux's z
/// (`ErrorQuantiles` conventions: net fluxes (t − p)/SE, exchange fluxes in log10) — a
/// conditional density head in the spirit of mixture density networks (Bishop 1994).
///
/// `QuantileCalibration` fits one shape per class of the measurement σ, pooled over the flux
/// polytope, though a flux near a bound has a one-sided error. This head is conditioned on the
/// whole prediction instead, so each prediction gets its own shape. Measured on glycolysis
/// (Guides/Prediction.md) it fits held-out rows far better than N(0, 1), but its ranks are less
/// uniform than the pooled map's: a conditional shape is sharper, a pooled one calibrated by
/// construction. `train calibrate --conditional-shape` fits it; shipped bundles do not carry one.
///
/// Features (2·free fluxes + 1 of them), standardised by `features`: per free flux
/// its predicted value (exchange fluxes as log10) and log10 of its SE (exchange fluxes: of the
/// SE in log10 units), then log10 of the measurement σ the network is told (0 for a network
/// told none). Output per free flux, basis order (`Head`): a mixture of Gaussians
/// (`Loss.gaussianMixtureNLL`, fitted by likelihood) or the z quantiles at `probabilities`
/// directly (`Loss.monotoneQuantiles`, fitted by the pinball loss; it also takes sharp edges —
/// a flux at a bound of the polytope — that a few Gaussians round off). Each prediction's
/// shape becomes knots at `probabilities` (`ErrorQuantiles`), so every consumer of the marginal
/// map (intervals, ranks) takes it unchanged.
public struct ConditionalErrorShape: Sendable, Equatable {
    /// What the network states per free flux.
    public enum Head: Sendable, Equatable {
        /// A mixture of `components` Gaussians.
        case mixture(components: Int)
        /// The quantiles at `probabilities`.
        case quantiles

        /// Network outputs per free flux with `m` probabilities.
        func width(probabilities m: Int) -> Int {
            switch self {
            case .mixture(let k): return 3 * k
            case .quantiles: return m
            }
        }
    }

    public var mlp: MLP
    public var features: Standardizer
    public var head: Head
    /// Per free flux: `false` for a fixed flux (no shape: Gaussian).
    public var covered: [Bool]
    /// The probability grid of the knots each prediction gets.
    public var probabilities: [Double]

    public init(mlp: MLP, features: Standardizer, head: Head, covered: [Bool],
                probabilities: [Double] = QuantileCalibration.defaultProbabilities) {
        precondition(mlp.outputWidth == head.width(probabilities: probabilities.count) * covered.count
                     && mlp.inputWidth == features.columns && features.columns == 2 * covered.count + 1)
        self.mlp = mlp
        self.features = features
        self.head = head
        self.covered = covered
        self.probabilities = probabilities
    }

    /// The raw (unstandardised) feature row of `p`, told measurement σ `sigma`.
    static func featureRow(_ p: FluxPrediction, sigma: Float?, basis: FreeFluxBasis) -> [Float] {
        let n = basis.count, nNet = basis.freeNet.count
        var row = [Float](repeating: 0, count: 2 * n + 1)
        for k in 0..<n {
            let v = p.free[k], se = max(p.freeSE[k], 1e-12)
            if k < nNet {
                row[k] = Float(v)
                row[n + k] = Float(log10(se))
            } else {
                let x = max(v, 1e-9)
                row[k] = Float(log10(x))
                row[n + k] = Float(log10(max(se / (x * 2.302_585_092_994_046), 1e-12)))
            }
        }
        row[2 * n] = sigma.map { log10f(max($0, 1e-12)) } ?? 0
        return row.map { $0.isFinite ? $0 : 0 }
    }

    /// The feature matrix of `predictions` (told σ `sigmas`, nil for a network told none).
    static func featureMatrix(_ predictions: [FluxPrediction], sigmas: [Float]?, basis: FreeFluxBasis) -> Matrix {
        let w = 2 * basis.count + 1
        var storage: [Float] = []
        storage.reserveCapacity(predictions.count * w)
        for (r, p) in predictions.enumerated() { storage += featureRow(p, sigma: sigmas?[r], basis: basis) }
        return Matrix(rows: predictions.count, columns: w, storage: storage)
    }

    /// Each prediction's knots at `probabilities` for every free flux (nil where not covered),
    /// rows in order.
    public func knots(_ predictions: [FluxPrediction], sigmas: [Float]?, basis: FreeFluxBasis) -> [[[Double]?]] {
        var out: [[[Double]?]] = []
        out.reserveCapacity(predictions.count)
        let n = covered.count, w = head.width(probabilities: probabilities.count)
        var q = [Double](repeating: 0, count: probabilities.count)
        var begin = 0
        while begin < predictions.count {
            let end = min(begin + 4096, predictions.count)
            let x = features.transform(Self.featureMatrix(Array(predictions[begin..<end]), sigmas: sigmas.map { Array($0[begin..<end]) }, basis: basis))
            let y = mlp(x)
            for r in 0..<(end - begin) {
                let row = y.storage[(r * y.columns)..<((r + 1) * y.columns)]
                out.append((0..<n).map { j -> [Double]? in
                    guard covered[j] else { return nil }
                    let base = row.startIndex + w * j
                    switch head {
                    case .mixture(let k):
                        return ScalarGaussianMixture(logits: row[base..<(base + k)], means: row[(base + k)..<(base + 2 * k)],
                                                     logScales: row[(base + 2 * k)..<(base + 3 * k)]).quantiles(probabilities)
                    case .quantiles:
                        Loss.monotoneQuantileValues(row[base..<(base + w)], into: &q)
                        return q
                    }
                })
            }
            begin = end
        }
        return out
    }

    /// Each prediction's `ErrorQuantiles`.
    public func quantiles(_ predictions: [FluxPrediction], sigmas: [Float]?, basis: FreeFluxBasis) -> [ErrorQuantiles] {
        knots(predictions, sigmas: sigmas, basis: basis).map { ErrorQuantiles(probabilities: probabilities, knots: $0) }
    }

    /// How a fit went: the head's loss per free flux and row on the validation rows (mixture:
    /// negative log-likelihood in nats without ½log 2π; quantiles: mean pinball loss), and the
    /// same loss of the Gaussian N(0, 1) the SEs state.
    public struct FitSummary: Sendable, Equatable {
        public var trainingRows: Int
        public var validationRows: Int
        public var epochs: Int
        public var validationLoss: Double
        public var gaussianLoss: Double
    }

    /// Fits the head on `predictions` of rows with true free fluxes `truthFree` (told σ
    /// `sigmas`): the last `validationFraction` of the rows (at least 1) choose the epoch
    /// (early stopping); Adam on mini-batches, the learning rate halved after 4 epochs without
    /// improvement.
    /// Non-finite z (an exchange flux predicted at 0) and fixed fluxes carry no weight.
    public static func fit(predictions: [FluxPrediction], truthFree: [[Double]], basis: FreeFluxBasis, sigmas: [Float]?,
                           head: Head = .quantiles, hidden: [Int] = [64, 64], epochs: Int = 60, validationFraction: Double = 0.1,
                           probabilities: [Double] = QuantileCalibration.defaultProbabilities,
                           batchSize: Int = 256, learningRate: Float = 1e-3, seed: UInt64 = 1, progress: ((EpochReport) -> Void)? = nil) -> (shape: ConditionalErrorShape, summary: FitSummary) {
        precondition(predictions.count == truthFree.count && predictions.count >= 2)
        if case .mixture(let k) = head { precondition(k >= 1) }
        let n = basis.count
        let covered = (0..<n).map { basis.fixed[$0] == nil }
        let raw = featureMatrix(predictions, sigmas: sigmas, basis: basis)
        var z = Matrix(rows: predictions.count, columns: n)
        for (r, p) in predictions.enumerated() {
            for j in 0..<n {
                let e = covered[j] ? p.standardizedError(free: j, truth: truthFree[r][j], basis: basis) : .nan
                z.storage[r * n + j] = e.isFinite ? Float(e) : .nan
            }
        }
        let nValidation = min(max(1, Int(Double(predictions.count) * validationFraction)), predictions.count - 1)
        let nTrain = predictions.count - nValidation
        let scaler = Standardizer(fitting: raw.rows(0..<nTrain))
        let x = scaler.transform(raw)
        var rng = SplitMix64(seed: seed)
        let w = head.width(probabilities: probabilities.count)
        var mlp = MLP(widths: [x.columns] + hidden + [w * n], hidden: .relu, output: .identity, using: &rng)
        // Start near N(0, 1): small output weights; biases for a unit Gaussian (mixture: means
        // spread over ±1, unit scales; quantiles: Φ⁻¹ at the probabilities).
        let last = mlp.layers.count - 1
        mlp.layers[last].weight.storage = mlp.layers[last].weight.storage.map { $0 * 0.05 }
        let normal = Self.unitOutputs(head, probabilities: probabilities)
        for j in 0..<n {
            for i in 0..<w { mlp.layers[last].bias[w * j + i] = normal[i] }
            if case .mixture(let k) = head {   // the components apart, to start with
                for c in 0..<k {
                    mlp.layers[last].bias[w * j + c] = 0
                    mlp.layers[last].bias[w * j + k + c] = k == 1 ? 0 : Float(2 * c - (k - 1)) / Float(k - 1)
                }
            }
        }
        let loss: Loss
        switch head {
        case .mixture(let k): loss = .gaussianMixtureNLL(components: k)
        case .quantiles: loss = .monotoneQuantiles(probabilities: probabilities.map(Float.init))
        }
        let trainer = Trainer(loss: loss, configuration: .init(epochs: epochs, batchSize: batchSize,
                                                               schedule: .reduceOnPlateau(initial: learningRate, patience: 4),
                                                               patience: 10, seed: seed))
        let history = trainer.fit(&mlp, inputs: x.rows(0..<nTrain), targets: z.rows(0..<nTrain),
                                  validation: (x.rows(nTrain..<predictions.count), z.rows(nTrain..<predictions.count)),
                                  progress: { progress?($0); return true })
        // Both losses as means over the finite validation z only; the Gaussian's from the same
        // loss on outputs that state N(0, 1).
        let vz = z.rows(nTrain..<predictions.count)
        let finite = Double(vz.storage.filter { !$0.isNaN }.count)
        let all = Double(vz.storage.count)
        let unit = Matrix(rows: vz.rows, columns: w * n, storage: [Float]((0..<(vz.rows * n)).map { _ in normal }.joined()))
        let gaussian = Double(loss(unit, vz)) * all / max(finite, 1)
        let shape = ConditionalErrorShape(mlp: mlp, features: scaler, head: head, covered: covered, probabilities: probabilities)
        return (shape, FitSummary(trainingRows: nTrain, validationRows: nValidation, epochs: history.epochs.count,
                                  validationLoss: Double(history.bestValidationLoss) * all / max(finite, 1), gaussianLoss: gaussian))
    }

    /// The outputs of one free flux that state N(0, 1): mixture, the first component at
    /// N(0, 1) and the others without weight; quantiles, Φ⁻¹ at the probabilities.
    static func unitOutputs(_ head: Head, probabilities: [Double]) -> [Float] {
        switch head {
        case .mixture(let k):
            return (0..<k).map { $0 == 0 ? 0 : -80 } + [Float](repeating: 0, count: 2 * k)
        case .quantiles:
            let q = ScalarGaussianMixture(weights: [1], means: [0], scales: [1]).quantiles(probabilities)
            return [Float(q[0])] + (1..<q.count).map { i in Float(log(expm1(max(q[i] - q[i - 1] - 1e-4, 1e-6)))) }
        }
    }
}
