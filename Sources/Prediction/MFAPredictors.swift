import MLFluxCore

/// Least-squares MFA as a `FluxPredictor` (`mfa`): fits whatever was measured (missing
/// entries are simply left out of the residuals), with the given standard deviations.
public struct MFAPredictor: FluxPredictor {
    public let name = "mfa"
    public var mfa: LeastSquaresMFA
    public let layout: LabelingLayout

    public init(mfa: LeastSquaresMFA, layout: LabelingLayout) {
        self.mfa = mfa
        self.layout = layout
    }

    public var requiresCompleteLabeling: Bool { false }

    public func predict(_ labeling: [[Double]]) throws -> [FluxPrediction] {
        try labeling.map { try predict(measured: MeasuredLabeling(
            layout: layout, values: $0, stddev: [Double](repeating: .nan, count: $0.count),
            mask: [Bool](repeating: true, count: $0.count))) }
    }

    public func predict(measured: MeasuredLabeling) throws -> FluxPrediction {
        guard let fit = mfa.fit(measured) else { throw FitError.noValidStart }
        return fit.prediction
    }
}

/// The hybrid strategy (`hybrid`): the ANN's prediction starts a least-squares
/// polish — ML-Flux speed for the start, MFA's exact fit for the finish. Falls back to
/// MFA multi-start when the labeling is incomplete.
public struct HybridPredictor: FluxPredictor {
    public let name = "hybrid"
    public let ann: ANNPredictor
    public var mfa: LeastSquaresMFA

    public init(ann: ANNPredictor, mfa: LeastSquaresMFA) {
        self.ann = ann
        self.mfa = mfa
    }

    public var requiresCompleteLabeling: Bool { false }

    public func predict(_ labeling: [[Double]]) throws -> [FluxPrediction] {
        try labeling.map { try predict(measured: MeasuredLabeling(
            layout: ann.layout, values: $0, stddev: [Double](repeating: .nan, count: $0.count),
            mask: [Bool](repeating: true, count: $0.count))) }
    }

    public func predict(measured: MeasuredLabeling) throws -> FluxPrediction {
        let starts = measured.isComplete ? try ann.predict([measured.values]).map(\.free) : []
        guard let fit = mfa.fit(measured, starts: starts) else { throw FitError.noValidStart }
        return fit.prediction
    }
}

public enum FitError: Error, Sendable, CustomStringConvertible {
    case noValidStart
    public var description: String { "least-squares fit found no start point with a valid flux state" }
}
