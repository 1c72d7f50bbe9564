import Foundation
import MLFluxCore
import NeuralNetworks
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a network states its uncertainty about the targets it predicts.
///
/// `diagonal`: a mean and a log-variance per target (`Loss.gaussianNLL`), errors taken as
/// independent. `cholesky`: a mean per target and a full covariance through the Cholesky
/// factor of its precision (`Loss.gaussianCholeskyNLL`), so errors that move together (two
/// free fluxes the labeling only resolves as a sum) are stated as such.
public enum OutputHead: String, Codable, Sendable, CaseIterable {
    case diagonal
    case cholesky

    /// Network outputs for `targets` targets.
    public func outputWidth(_ targets: Int) -> Int { loss.predictionWidth(targetWidth: targets) }

    public var loss: Loss { self == .diagonal ? .gaussianNLL : .gaussianCholeskyNLL }
}

/// One trained network: input standardisation, the MLP, and the map from its targets to
/// free fluxes. The MLP outputs, per predicted free flux, a mean and a log-variance in
/// target space (Gaussian negative log-likelihood training) — or, with the `cholesky` head,
/// a full covariance — so every prediction carries its own uncertainty.
public struct ANNMember: Sendable, Equatable {
    public var features: InputFeatures
    public var inputScaler: Standardizer
    public var mlp: MLP
    public var transform: FluxTransform
    public var head: OutputHead

    public init(features: InputFeatures = .raw, inputScaler: Standardizer, mlp: MLP, transform: FluxTransform,
                head: OutputHead = .diagonal) {
        self.features = features
        self.inputScaler = inputScaler
        self.mlp = mlp
        self.transform = transform
        self.head = head
    }

    /// Standardised inputs are clamped to ±`inputClamp`: an input far outside everything the
    /// network was trained on (a noisy MID fed to a network trained on exact ones: the log
    /// feature of a fraction that was always 1e-9 in training) would otherwise overflow the
    /// Float32 layers into NaN.
    static let inputClamp: Float = 50

    /// Target-space means `[targets]` and covariances `[targets·targets]` (row-major) of each
    /// row, from inputs already mapped by `features` (shared by all members of a predictor).
    /// Outputs are bounded (means to ±1, the training range of each target, which lies inside
    /// its flux bounds; log-variances to −30…15), so any finite input gives a finite prediction.
    func distributions(featured x: Matrix) -> [(mean: [Double], covariance: [Double])] {
        var z = inputScaler.transform(x)
        for i in z.storage.indices {
            let v = z.storage[i]
            z.storage[i] = v.isNaN ? 0 : min(max(v, -Self.inputClamp), Self.inputClamp)
        }
        var out = mlp(z)
        let n = transform.targetCount
        for r in 0..<out.rows {
            for j in 0..<out.columns {
                let v = out.storage[r * out.columns + j]
                let (lo, hi): (Float, Float) = j < n ? (-1, 1) : j < 2 * n ? (-30, 15) : (-1e4, 1e4)
                out.storage[r * out.columns + j] = v.isNaN ? (j < n ? 0 : j < 2 * n ? hi : 0) : min(max(v, lo), hi)
            }
        }
        switch head {
        case .cholesky:
            return (0..<out.rows).map { Loss.gaussianMeanAndCovariance(out, row: $0, targets: n) }
        case .diagonal:
            let (mean, std) = Loss.gaussianMeanAndStd(out)
            return (0..<out.rows).map { r in
                var cov = [Double](repeating: 0, count: n * n)
                for j in 0..<n { let s = Double(std[r, j]); cov[j * n + j] = s * s }
                return ((0..<n).map { Double(mean[r, $0]) }, cov)
            }
        }
    }
}

/// What the network sees of a labeling vector `x` (fractions in [0, 1]).
///
/// `.logs` appends log10(x + 1e-7) and log10(1 − x + 1e-7) to every entry: tiny
/// differences near 0 or 1 — where small exchange fluxes leave their trace (toy:
/// 1 − B₁ ∝ v2r for small v2r) — become as visible as differences mid-range.
/// `.logsSigma` (noise-aware networks) takes the sample's absolute measurement σ `s` as the
/// floor instead — log10(x + s), log10(1 − x + s): bounded for zero fractions and blind to
/// differences the noise hides — and appends log10 s itself.
public enum InputFeatures: String, Codable, Sendable, CaseIterable {
    case raw
    case logs
    case logsSigma = "logs-sigma"

    public func width(_ columns: Int) -> Int {
        switch self {
        case .raw: return columns
        case .logs: return 3 * columns
        case .logsSigma: return 3 * columns + 1
        }
    }

    /// `true` when the features need the measurement σ of each sample.
    public var usesSigma: Bool { self == .logsSigma }

    /// The features of the rows of `x`; `sigma` (one absolute σ per row) is needed by `.logsSigma`.
    public func apply(_ x: Matrix, sigma: [Float]? = nil) -> Matrix {
        if self == .raw { return x }
        let c = x.columns, w = width(c)
        precondition(!usesSigma || sigma?.count == x.rows, "\(rawValue) features need one σ per row")
        return Matrix(rows: x.rows, columns: w) { out in
            for r in 0..<x.rows {
                let floor: Float = usesSigma ? max(sigma![r], 1e-7) : 1e-7
                for j in 0..<c {
                    let v = x.storage[r * c + j]
                    let f = v.isFinite ? v : 0
                    out[r * w + j] = f
                    out[r * w + c + j] = log10f(max(f, 0) + floor)
                    out[r * w + 2 * c + j] = log10f(max(1 - f, 0) + floor)
                }
                if usesSigma { out[r * w + 3 * c] = log10f(floor) }
            }
        }
    }
}

/// The ANN flux predictor (ML-Flux): complete labeling (a bundle's flat layout) → free
/// fluxes (moved into the flux polytope when the network's mean leaves it,
/// `FeasibleProjection`) → mass-balanced net and exchange fluxes through the kernels,
/// exchange fluxes clamped ≥ 0, ΔG = RT ln(v_rev/v_fwd) for every bidirectional reaction.
///
/// Uncertainty: each member states a per-prediction distribution of its targets (a
/// diagonal or a full covariance); a deep ensemble of members is combined as a Gaussian
/// mixture in target space (mean of means; covariance = mean of Σ_m + covariance of the
/// means), rescaled by the σ calibration (`D·Σ·D`, correlations kept), propagated to θ
/// (delta method) and through the kernels to every net and exchange flux and to ΔG with the
/// full covariance — so a flux fixed by mass balance gets the small error it has.
///
/// A noise-aware network (`noise` set, `.logsSigma` features) also takes the measurement σ
/// of its input: `predict(measured:)` uses the measurement's `stddev` (median over entries),
/// the other entry points `defaultStddev`.
public struct ANNPredictor: FluxPredictor {
    public let name = "ann"
    public let network: MetabolicNetwork
    public let basis: FreeFluxBasis
    public let layout: LabelingLayout
    public let members: [ANNMember]
    public var temperature: Double
    /// Factors on the stated σ per target and predicted range, fitted on validation data so
    /// that the stated 1σ covers 68.3 % of the true values (`calibrated(on:free:)`);
    /// `nil` = uncalibrated.
    public var calibration: SigmaCalibration?
    /// The measurement-error model the network was trained under (nil: exact MIDs).
    public var noise: MeasurementNoise?
    /// Absolute σ of MID entries assumed where an input states none (noise-aware networks).
    public var defaultStddev: Double = 0.01
    /// Propagate the free fluxes' errors as if independent (drop the covariance's
    /// off-diagonal) and skip `derivedCalibration`: how errors were propagated before — the
    /// ablation `mlflux evaluate --covariance diagonal` measures.
    public var independentErrors = false
    /// Factors on the propagated σ of every net flux, exchange flux and ΔG (`nil`: none).
    public var derivedCalibration: DerivedCalibration?
    /// Factors on the standard errors of the hybrid's MAP fit that starts from and is
    /// regularised by this network (`HybridPredictor.calibration`); `nil`: none. Fitted on
    /// this network's calibration, so recalibrating the network drops it.
    public var hybridCalibration: DerivedCalibration?
    /// The calibrated shape of each free flux's standardised error, attached to every
    /// prediction as `FluxPrediction.freeErrorQuantiles` (`nil`: Gaussian).
    public var quantileCalibration: QuantileCalibration?
    /// The shape of each free flux's error given the whole prediction (a quantile or mixture
    /// head, `ConditionalErrorShape`); when present it takes the place of `quantileCalibration`.
    public var errorShape: ConditionalErrorShape?
    /// A network trained on exact MIDs that predicts the rows whose stated σ is below
    /// `exactBelow` (at most one element; an array only to hold a value of this type): a
    /// noise-aware network trades accuracy on exact input for calibrated uncertainty on
    /// noisy input, and simulated (exact) MIDs deserve the exact network.
    public var exactCompanion: [ANNPredictor] = [] {
        didSet { precondition(exactCompanion.count <= 1 && exactCompanion.allSatisfy { $0.exactCompanion.isEmpty }) }
    }
    /// Stated σ below which rows go to `exactCompanion` (default: the noise-aware network's
    /// smallest trained σ).
    public var exactBelow: Double?
    /// `exactBelow`, or the noise-aware network's smallest trained σ (0 without one).
    var exactFloor: Double { exactBelow ?? noise?.minimum ?? 0 }

    public init(network: MetabolicNetwork, basis: FreeFluxBasis, layout: LabelingLayout, members: [ANNMember],
                temperature: Double = Thermodynamics.bodyTemperature, calibration: SigmaCalibration? = nil,
                noise: MeasurementNoise? = nil) {
        self.calibration = calibration
        precondition(!members.isEmpty, "an ANN predictor needs at least one member")
        precondition(members.allSatisfy { $0.features == members[0].features && $0.transform == members[0].transform && $0.head == members[0].head },
                     "ensemble members share input features, output head and flux transform")
        self.network = network
        self.basis = basis
        self.layout = layout
        self.members = members
        self.temperature = temperature
        self.noise = noise
    }

    /// `true` when the network takes the measurement σ as an input.
    public var isNoiseAware: Bool { members[0].features.usesSigma }

    public func predict(_ labeling: [[Double]]) throws -> [FluxPrediction] {
        for (i, row) in labeling.enumerated() {
            guard row.count == layout.count else { throw PredictionError.wrongLength(sample: i, expected: layout.count, found: row.count) }
            if let j = row.firstIndex(where: { !$0.isFinite }) { throw PredictionError.notFinite(sample: i, entry: j) }
        }
        let x = Matrix(rows: labeling.count, columns: layout.count, storage: labeling.flatMap { $0.map(Float.init) })
        return predict(matrix: x)
    }

    /// The prediction for one complete measurement; a noise-aware network is told the
    /// median of its `stddev` entries (`defaultStddev` when it has none).
    public func predict(measured: MeasuredLabeling) throws -> FluxPrediction {
        let (x, sigma) = try networkInput(measured)
        return predict(matrix: x, sigma: [sigma])[0]
    }

    /// One complete measurement as the network's input row and the σ it is told (the median of
    /// its `stddev` entries, `defaultStddev` when it has none).
    func networkInput(_ measured: MeasuredLabeling) throws -> (row: Matrix, sigma: Double) {
        guard measured.isComplete else { throw IncompleteLabelingError(predictor: name, missing: measured.mask.filter { !$0 }.count) }
        if let j = measured.values.firstIndex(where: { !$0.isFinite }) { throw PredictionError.notFinite(sample: 0, entry: j) }
        return (Matrix(rows: 1, columns: layout.count, storage: measured.values.map(Float.init)),
                MeasurementNoise.sampleSigma(measured.stddev, fallback: defaultStddev))
    }

    /// The calibrated target-space distribution (mean, row-major covariance over the outputs)
    /// for one complete measurement, from the network `predict(measured:)` would use (the exact
    /// companion below its σ floor), and that network.
    public func targetDistribution(measured: MeasuredLabeling) throws -> (network: ANNPredictor, mean: [Double], covariance: [Double]) {
        let (x, sigma) = try networkInput(measured)
        let net = exactCompanion.first.flatMap { sigma < exactFloor ? $0 : nil } ?? self
        let d = net.targetDistributions(x, sigma: [sigma])[0]
        return (net, d.mean, d.covariance)
    }

    /// Predictions for the rows of `x` (`[batch, layout.count]`, Float32 MIDs); `sigma` is each
    /// row's absolute measurement σ (noise-aware networks; default `defaultStddev`).
    public func predict(matrix x: Matrix, sigma: [Double]? = nil) -> [FluxPrediction] {
        if var exact = exactCompanion.first, let sigma {
            exact.temperature = temperature
            exact.independentErrors = independentErrors
            let floor = exactFloor
            let rows = (0..<x.rows).filter { sigma[$0] < floor }
            if !rows.isEmpty {
                var own = self
                own.exactCompanion = []
                let rest = (0..<x.rows).filter { sigma[$0] >= floor }
                func pick(_ r: [Int]) -> Matrix {
                    Matrix(rows: r.count, columns: x.columns, storage: r.flatMap { x.storage[($0 * x.columns)..<(($0 + 1) * x.columns)] })
                }
                var out = [FluxPrediction?](repeating: nil, count: x.rows)
                for (r, p) in zip(rows, exact.predict(matrix: pick(rows), sigma: rows.map { sigma[$0] })) { out[r] = p }
                if !rest.isEmpty {
                    for (r, p) in zip(rest, own.predict(matrix: pick(rest), sigma: rest.map { sigma[$0] })) { out[r] = p }
                }
                return out.map { $0! }
            }
        }
        let transform = members[0].transform
        let n = basis.count
        let told = networkSigma(sigma, rows: x.rows)
        let predictions = targetDistributions(x, sigma: sigma).enumerated().map { r, d in
            let (mean, cov) = d
            var freeCov = transform.freeCovariance(targets: mean, covariance: cov)
            if independentErrors { for i in 0..<n { for j in 0..<n where i != j { freeCov[i * n + j] = 0 } } }
            // A mean outside the flux polytope (noisy input) moves to its nearest feasible point.
            let free = FeasibleProjection.project(transform.free(fromTargets: mean.map(Float.init)),
                                                  scale: (0..<n).map { freeCov[$0 * n + $0].squareRoot() }, basis: basis)
            var p = FluxPrediction(free: free, freeCovariance: freeCov, basis: basis, network: network, temperature: temperature)
            p.freeErrorQuantiles = quantileCalibration?.quantiles(sigma: told?[r])
            guard let derived = derivedCalibration, !independentErrors else { return p }
            return derived.apply(p, sigma: told?[r])
        }
        guard let errorShape else { return predictions }
        return zip(predictions, errorShape.quantiles(predictions, sigmas: told, basis: basis)).map { p, q in
            var p = p
            p.freeErrorQuantiles = q
            return p
        }
    }

    /// The σ input of each row (clamped to the trained range), or nil for a network without one.
    func networkSigma(_ sigma: [Double]?, rows: Int) -> [Float]? {
        guard isNoiseAware else { return nil }
        let range = noise ?? MeasurementNoise()
        return (0..<rows).map { Float(range.clamp(sigma?[$0] ?? defaultStddev)) }
    }

    /// Target-space mean and (calibrated) covariance of each row: members combined as a
    /// Gaussian mixture (mean of means; covariance = mean of Σ_m + covariance of the means),
    /// then `D·Σ·D` with `D` the calibration's factors for this prediction.
    public func targetDistributions(_ x: Matrix, sigma: [Double]? = nil, calibrated: Bool = true)
        -> [(mean: [Double], covariance: [Double])] {
        let told = networkSigma(sigma, rows: x.rows)
        let featured = members[0].features.apply(x, sigma: told)
        let outs = members.map { $0.distributions(featured: featured) }
        let t = members[0].transform.targetCount, m = Double(members.count)
        let scale = calibrated ? calibration : nil
        return (0..<x.rows).map { r in
            var mean = [Double](repeating: 0, count: t), second = [Double](repeating: 0, count: t * t)
            for o in outs {
                let (mu, cov) = o[r]
                for i in 0..<t {
                    mean[i] += mu[i] / m
                    for j in 0..<t { second[i * t + j] += (cov[i * t + j] + mu[i] * mu[j]) / m }
                }
            }
            var cov = second
            for i in 0..<t { for j in 0..<t { cov[i * t + j] -= mean[i] * mean[j] } }
            for i in 0..<t { cov[i * t + i] = max(cov[i * t + i], 0) }
            if let scale {
                let fm = mean.map(Float.init)
                let context = scale.context(fm, sigma: told?[r])
                let f = (0..<t).map { Double(scale.factor($0, mean: fm[$0], context: context)) }
                for i in 0..<t { for j in 0..<t { cov[i * t + j] *= f[i] * f[j] } }
            }
            return (mean, cov)
        }
    }

    /// Target-space mean and (calibrated) σ of each row (the marginals of `targetDistributions`).
    public func targetMoments(_ x: Matrix, sigma: [Double]? = nil, calibrated: Bool = true) -> [(mean: [Float], std: [Float])] {
        let t = members[0].transform.targetCount
        return targetDistributions(x, sigma: sigma, calibrated: calibrated).map { mean, cov in
            (mean.map(Float.init), (0..<t).map { Float(cov[$0 * t + $0].squareRoot()) })
        }
    }

    /// A copy whose σ are rescaled per target, predicted range and exchange context
    /// (`SigmaCalibration`) so that, on the validation rows `x` (measurement σ `sigma`) with
    /// true free fluxes `free`, the stated 1σ covers 68.27 % of the errors in each range.
    /// Corrects the over- or under-confidence of the likelihood heads and of small ensembles
    /// without retraining. `bins: 1, contextClasses: 1` = one factor per target. A noise-aware
    /// network's classes are classes of the σ it is told (`SigmaCalibration.ContextKind.sigma`).
    /// Then, on the same rows, the derived fluxes' factors (`DerivedCalibration`) and the shape
    /// of the free fluxes' errors (`QuantileCalibration`, `shapeClasses` classes of the told σ;
    /// default 4 for a noise-aware network — the shape changes with the noise — and 1 otherwise;
    /// 0 = none).
    public func calibrated(on x: Matrix, sigma: [Double]? = nil, free: [[Double]], bins: Int = 6, contextClasses: Int? = nil,
                           shapeClasses: Int? = nil) -> ANNPredictor {
        let moments = targetMoments(x, sigma: sigma, calibrated: false)
        let told = networkSigma(sigma, rows: x.rows)
        let transform = members[0].transform
        let exchangeTargets = transform.outputs.indices.filter { transform.outputs[$0].kind == .log10 }
        var copy = self
        copy.calibration = SigmaCalibration.fit(means: moments.map(\.mean), stds: moments.map(\.std),
                                                truths: free.map(transform.targets), contextTargets: exchangeTargets,
                                                sigmas: told, contextClasses: contextClasses ?? (isNoiseAware ? 4 : 2), bins: bins)
        // Then the derived fluxes' own factors, on the same rows with the new free-flux σ.
        copy.derivedCalibration = nil
        copy.hybridCalibration = nil
        copy.quantileCalibration = nil
        copy.errorShape = nil   // fitted on the old σ: `withErrorShape` fits a new one
        copy.independentErrors = false
        let predictions = copy.predict(matrix: x, sigma: sigma)
        copy.derivedCalibration = DerivedCalibration.fit(predictions: predictions,
                                                         truth: free.map { basis.fluxState(free: $0) }, sigmas: told,
                                                         classes: contextClasses ?? (isNoiseAware ? 4 : 2))
        // The free fluxes' SEs do not depend on the derived factors: the same predictions serve.
        let shapes = shapeClasses ?? (isNoiseAware ? 4 : 1)
        if shapes > 0 {
            copy.quantileCalibration = QuantileCalibration.fit(predictions: predictions, truthFree: free, basis: basis,
                                                               sigmas: told, classes: shapes)
        }
        return copy
    }
}

public enum PredictionError: Error, Equatable, Sendable, CustomStringConvertible {
    case wrongLength(sample: Int, expected: Int, found: Int)
    case notFinite(sample: Int, entry: Int)
    case incompatibleWeights(file: String, reason: String)

    public var description: String {
        switch self {
        case .wrongLength(let s, let e, let f): return "sample \(s): labeling vector has \(f) entries, the layout has \(e)"
        case .notFinite(let s, let j): return "sample \(s): entry \(j) is not a finite number"
        case .incompatibleWeights(let f, let why): return "\(f): \(why)"
        }
    }
}
