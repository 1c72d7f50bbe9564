import Foundation
import MLFluxCore
import NeuralNetworks
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One trained network: input standardisation, the MLP, and the map from its targets to
/// free fluxes. The MLP outputs, per predicted free flux, a mean and a log-variance in
/// target space (Gaussian negative log-likelihood training), so every prediction carries
/// its own uncertainty.
public struct ANNMember: Sendable, Equatable {
    public var features: InputFeatures
    public var inputScaler: Standardizer
    public var mlp: MLP
    public var transform: FluxTransform

    public init(features: InputFeatures = .raw, inputScaler: Standardizer, mlp: MLP, transform: FluxTransform) {
        self.features = features
        self.inputScaler = inputScaler
        self.mlp = mlp
        self.transform = transform
    }

    /// Target-space means and standard deviations, `[batch, targets]` each, from inputs
    /// already mapped by `features` (shared by all members of a predictor).
    func targets(featured x: Matrix) -> (mean: Matrix, std: Matrix) {
        Loss.gaussianMeanAndStd(mlp(inputScaler.transform(x)))
    }
}

/// What the network sees of a labeling vector `x` (fractions in [0, 1]).
///
/// `.logs` appends log10(x + 1e-7) and log10(1 − x + 1e-7) to every entry: tiny
/// differences near 0 or 1 — where small exchange fluxes leave their trace (toy:
/// 1 − B₁ ∝ v2r for small v2r) — become as visible as differences mid-range.
public enum InputFeatures: String, Codable, Sendable, CaseIterable {
    case raw
    case logs

    public func width(_ columns: Int) -> Int { self == .raw ? columns : 3 * columns }

    public func apply(_ x: Matrix) -> Matrix {
        guard self == .logs else { return x }
        let c = x.columns
        return Matrix(rows: x.rows, columns: 3 * c) { out in
            for r in 0..<x.rows {
                for j in 0..<c {
                    let v = x.storage[r * c + j]
                    out[r * 3 * c + j] = v
                    out[r * 3 * c + c + j] = log10f(max(v, 0) + 1e-7)
                    out[r * 3 * c + 2 * c + j] = log10f(max(1 - v, 0) + 1e-7)
                }
            }
        }
    }
}

/// The ANN flux predictor (ML-Flux): complete labeling (a bundle's flat layout) → free
/// fluxes → mass-balanced net and exchange fluxes through the kernels, exchange fluxes
/// clamped ≥ 0, ΔG = RT ln(v_rev/v_fwd) for every bidirectional reaction.
///
/// Uncertainty: each member states a per-prediction σ; a deep ensemble of members is
/// combined as a Gaussian mixture in target space (mean of means; variance = mean of
/// σ² + variance of the means), then propagated to θ (delta method), to full fluxes
/// (kernels) and to ΔG (first order).
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

    public init(network: MetabolicNetwork, basis: FreeFluxBasis, layout: LabelingLayout, members: [ANNMember],
                temperature: Double = Thermodynamics.bodyTemperature, calibration: SigmaCalibration? = nil) {
        self.calibration = calibration
        precondition(!members.isEmpty, "an ANN predictor needs at least one member")
        precondition(members.allSatisfy { $0.features == members[0].features && $0.transform == members[0].transform },
                     "ensemble members share input features and flux transform")
        self.network = network
        self.basis = basis
        self.layout = layout
        self.members = members
        self.temperature = temperature
    }

    public func predict(_ labeling: [[Double]]) throws -> [FluxPrediction] {
        for (i, row) in labeling.enumerated() {
            guard row.count == layout.count else { throw PredictionError.wrongLength(sample: i, expected: layout.count, found: row.count) }
            if let j = row.firstIndex(where: { !$0.isFinite }) { throw PredictionError.notFinite(sample: i, entry: j) }
        }
        let x = Matrix(rows: labeling.count, columns: layout.count, storage: labeling.flatMap { $0.map(Float.init) })
        return predict(matrix: x)
    }

    /// Predictions for the rows of `x` (`[batch, layout.count]`, Float32 MIDs).
    public func predict(matrix x: Matrix) -> [FluxPrediction] {
        let transform = members[0].transform
        return targetMoments(x).map { mean, std in
            FluxPrediction(free: transform.free(fromTargets: mean), freeSE: transform.freeSE(targets: mean, std: std),
                           basis: basis, network: network, temperature: temperature)
        }
    }

    /// Target-space mean and (calibrated) σ of each row: members combined as a Gaussian
    /// mixture (mean of means; variance = mean of σ² + variance of the means).
    public func targetMoments(_ x: Matrix, calibrated: Bool = true) -> [(mean: [Float], std: [Float])] {
        let featured = members[0].features.apply(x)
        let outs = members.map { $0.targets(featured: featured) }
        let t = outs[0].mean.columns, m = Float(members.count)
        let scale = calibrated ? calibration : nil
        return (0..<x.rows).map { r in
            var mean = [Float](repeating: 0, count: t), second = mean
            for o in outs {
                for j in 0..<t {
                    let mu = o.mean.storage[r * t + j], s = o.std.storage[r * t + j]
                    mean[j] += mu / m
                    second[j] += (s * s + mu * mu) / m
                }
            }
            let context = scale?.context(mean) ?? 0
            let std = (0..<t).map {
                (max(second[$0] - mean[$0] * mean[$0], 0)).squareRoot() * (scale?.factor($0, mean: mean[$0], context: context) ?? 1)
            }
            return (mean, std)
        }
    }

    /// A copy whose σ are rescaled per target, predicted range and exchange context
    /// (`SigmaCalibration`) so that, on the validation rows `x` with true free fluxes `free`,
    /// the stated 1σ covers 68.27 % of the errors in each range. Corrects the over- or
    /// under-confidence of the likelihood heads and of small ensembles without retraining.
    /// `bins: 1, contextClasses: 1` = one factor per target.
    public func calibrated(on x: Matrix, free: [[Double]], bins: Int = 6, contextClasses: Int = 2) -> ANNPredictor {
        let moments = targetMoments(x, calibrated: false)
        let transform = members[0].transform
        let exchangeTargets = transform.outputs.indices.filter { transform.outputs[$0].kind == .log10 }
        var copy = self
        copy.calibration = SigmaCalibration.fit(means: moments.map(\.mean), stds: moments.map(\.std),
                                                truths: free.map(transform.targets), contextTargets: exchangeTargets,
                                                contextClasses: contextClasses, bins: bins)
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
