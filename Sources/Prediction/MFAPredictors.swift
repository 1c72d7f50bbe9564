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

    /// - Throws: `MeasurementError` when nothing was measured or a value or σ is unusable;
    ///   `FitError.noValidStart` when no start reaches a valid flux state.
    public func predict(measured: MeasuredLabeling) throws -> FluxPrediction {
        try leastSquaresFit(measured: measured).prediction
    }

    /// - Throws: also `MeasurementError.underdetermined` when the data carry fewer
    ///   independent values than the fit has free parameters.
    public func leastSquaresFit(measured: MeasuredLabeling) throws -> LeastSquaresMFA.Fit {
        try mfa.check(measured)
        try mfa.checkDetermined(measured)
        guard let fit = mfa.fit(measured) else { throw FitError.noValidStart }
        return fit
    }
}

/// The hybrid strategy (`hybrid`): the ANN's prediction starts a least-squares
/// polish and, with `usesPrior`, is also its Gaussian prior (mean = the ANN's free fluxes,
/// covariance = its stated free-flux covariance, or its per-prediction standard errors when
/// it states none), so the result is the maximum a
/// posteriori estimate: fluxes the labeling resolves follow the measured MIDs to their
/// stated precision, fluxes it barely resolves keep the ANN's estimate instead of drifting
/// along flat directions of the VSSR.
///
/// Incomplete labeling: with an `imputer`, the ANN predicts from the imputed completion and
/// the least-squares polish fits the **measured entries only** (imputed values never enter
/// the VSSR); without one, MFA multi-start from the flux polytope.
///
/// Guarantee: the result's VSSR is never worse than that of the ANN's own prediction (same
/// σ). A polish that ends higher (a continuation stage or a bound clamp moved the start) or
/// reaches no valid state returns the ANN's prediction instead, marked `keptANNPrediction`.
public struct HybridPredictor: FluxPredictor {
    public let name = "hybrid"
    public var ann: ANNPredictor
    public var mfa: LeastSquaresMFA
    public var usesPrior: Bool
    /// Extra starts, drawn from the ANN's prediction, when the first fit misses the data.
    public var restarts: Int
    /// Completes incomplete labeling for the ANN's start (the fit itself sees only what was
    /// measured); `nil`: incomplete labeling gets plain MFA multi-start.
    public var imputer: (any Imputer)?
    /// The prior's σ is the ANN's stated σ times this (a tempered prior, weight 1/k² of its log
    /// density). Measured on toy (300 held-out states per sampling, σ 0.002–0.02, clipped and
    /// renormalised MIDs, censored fit; Guides/Prediction.md): k = 1 keeps every net flux,
    /// exchange flux and ΔG within 62.7–74.0 % 1σ coverage under log-uniform and uniform
    /// exchange sampling; k = 1.5 and 2 over-cover ΔG under uniform sampling (up to 77.7 and
    /// 79.0 %).
    public var priorInflation: Double = 1
    /// The MAP's covariance takes the larger of the data's and the prior's precision
    /// (`Prior.conditionedOnData`, per direction of their joint eigenbasis: `LargerPrecision`)
    /// instead of their sum: the ANN's prediction is a posterior given the same MIDs, and the
    /// sum counts the data twice (toy, log-uniform: 52–63 % coverage with the sum, 62.7–72.3 %
    /// with the larger).
    public var largerPrecision = true
    /// The prior carries the ANN's full free-flux covariance (`FluxPrediction.freeCovariance`,
    /// whitened residuals) when the network states one; `false`: its marginal σ only.
    public var densePrior = true

    public init(ann: ANNPredictor, mfa: LeastSquaresMFA, usesPrior: Bool = true, restarts: Int = 4,
                imputer: (any Imputer)? = nil) {
        self.ann = ann
        self.mfa = mfa
        self.usesPrior = usesPrior
        self.restarts = restarts
        self.imputer = imputer
    }

    public var requiresCompleteLabeling: Bool { false }

    public func predict(_ labeling: [[Double]]) throws -> [FluxPrediction] {
        try labeling.map { try predict(measured: MeasuredLabeling(
            layout: ann.layout, values: $0, stddev: [Double](repeating: .nan, count: $0.count),
            mask: [Bool](repeating: true, count: $0.count))) }
    }

    public func predict(measured: MeasuredLabeling) throws -> FluxPrediction {
        try leastSquaresFit(measured: measured).prediction
    }

    public func leastSquaresFit(measured: MeasuredLabeling) throws -> LeastSquaresMFA.Fit {
        try mfa.check(measured)
        let annInput: MeasuredLabeling
        if measured.isComplete {
            annInput = measured
        } else if let imputer {
            annInput = try imputer.impute(measured).complete
        } else {
            guard let fit = mfa.fit(measured) else { throw FitError.noValidStart }
            return fit
        }
        let start = try ann.predict(measured: annInput)
        let k2 = priorInflation * priorInflation
        let prior = usesPrior ? LeastSquaresMFA.Prior(mean: start.free, sd: start.freeSE.map { $0 * priorInflation },
                                                      covariance: densePrior ? start.freeCovariance?.map { $0 * k2 } : nil,
                                                      conditionedOnData: largerPrecision) : nil
        var fit = mfa.fit(measured, starts: [start.free], prior: prior)
        // A fit that misses the data (VSSR beyond the χ² 95 % quantile) is a local minimum:
        // restart from points drawn from the ANN's prediction (its mean ± its σ).
        let dof = max(measured.mask.filter { $0 }.count - mfa.basis.count + mfa.basis.fixed.count, 1)
        // The VSSR's p-quantile: χ²(dof), or the deviance reference of a censored fit.
        func quantile(_ p: Double, _ fit: LeastSquaresMFA.Fit?) -> Double {
            fit?.devianceReference?.quantile(p) ?? ChiSquared.quantile(p, dof: dof)
        }
        if (fit?.vssr ?? .infinity) > quantile(0.95, fit), restarts > 0 {
            var rng = SplitMix64(seed: mfa.seed)
            let draws = (0..<restarts).map { _ in
                zip(start.free, start.freeSE).enumerated().map { k, e in
                    mfa.basis.fixed[k] != nil ? e.0 : mfa.perturbed(e.0, sd: e.1, free: k, using: &rng)
                }
            }
            if var again = mfa.fit(measured, starts: draws, prior: prior) {
                again.starts = (fit?.starts ?? []) + again.starts
                if again.vssr < (fit?.vssr ?? .infinity) {
                    again.best += fit?.starts.count ?? 0
                    fit = again
                } else if var kept = fit {
                    kept.starts = again.starts
                    fit = kept
                }
            }
        }
        // Still rejected by the data (VSSR above the χ² 97.5 % quantile): the prior may hold the
        // fit away from a minimum the data accept. Least squares without the prior, from the
        // ANN's prediction and from where the MAP ended, replaces it when it fits better.
        if let map = fit, usesPrior, map.vssr > quantile(0.975, map),
           var plain = mfa.fit(measured, starts: [start.free, map.prediction.free.map { $0 / (map.scale?.value ?? 1) }], prior: nil),
           plain.vssr < map.vssr {
            plain.starts = map.starts + plain.starts
            plain.best += map.starts.count
            plain.priorDropped = true
            fit = plain
        }
        var result = try notWorseThanANN(fit, ann: start, measured: measured)
        if usesPrior, largerPrecision, !result.keptANNPrediction, !result.priorDropped, result.scale == nil {
            result.prediction = Self.noLessPrecise(result.prediction, than: start)
        }
        if usesPrior, let factors = ann.hybridCalibration {
            result.prediction = factors.apply(result.prediction, sigma: toldSigma(measured))
        }
        return result
    }

    /// The measurement σ the network is told for `measured` (its σ classes' key; nil for a
    /// network trained on exact MIDs).
    func toldSigma(_ measured: MeasuredLabeling) -> Float? {
        ann.networkSigma([MeasurementNoise.sampleSigma(measured.stddev, fallback: ann.defaultStddev)], rows: 1)?.first
    }

    /// Factors on this predictor's net, exchange and ΔG standard errors so that each covers
    /// 68.27 % of its errors on `rows` (complete measurements with their σ, e.g. the ANN's
    /// calibration rows) whose true fluxes are `truth`, per `classes` classes of the told σ
    /// (`DerivedCalibration.fit`). The MIDs do not identify some exchange fluxes; there the
    /// MAP's SE is the prior's log10 σ carried to flux units, which the ANN's own map rescales
    /// but the fit's does not. Rows whose fit fails are left out. `progress` gets rows done.
    public func calibration(rows: [MeasuredLabeling], truth: [FluxState], classes: Int, threads: Int,
                            progress: (@Sendable (Int, Int) -> Void)? = nil) -> DerivedCalibration {
        precondition(rows.count == truth.count)
        var plain = self
        plain.ann.hybridCalibration = nil
        let fitted = plain
        let counter = ProgressCounter()
        let predictions = ParallelRows.map(count: rows.count, threads: threads) { i -> FluxPrediction? in
            defer { counter.add(1); progress?(counter.value, rows.count) }
            return try? fitted.predict(measured: rows[i])
        }.map { (try? $0.get()) ?? nil }
        let kept = predictions.indices.filter { predictions[$0] != nil }
        return DerivedCalibration.fit(predictions: kept.map { predictions[$0]! }, truth: kept.map { truth[$0] },
                                      sigmas: ann.isNoiseAware ? kept.map { fitted.toldSigma(rows[$0])! } : nil,
                                      classes: classes)
    }

    /// `map` with the standard error of every net flux at most the ANN's (`ann`, the prior):
    /// the larger-precision rule per reported net flux. The MAP's covariance is already at
    /// least as precise as the prior's along every direction of θ, but the ANN's reported
    /// errors of fluxes fixed by mass balance do not come from its stated free-flux covariance:
    /// such a flux is a near-cancelling combination of large free fluxes (glycolysis: TPI … PYK
    /// from H_IN − H_EX, ~1 from ~1000), which needs correlations no network head states, so
    /// the ANN rescales them (`DerivedCalibration`). Where the MIDs do not resolve such a flux,
    /// the MAP inherits the raw covariance's error (glycolysis, 100 uniform states at σ 0.01:
    /// TPI median SE 0.088 for a median error of 0.013; the ANN's calibrated SE 0.021); capped,
    /// it keeps the ANN's calibrated error there and the data's wherever they are more precise.
    /// Exchange fluxes, ΔG and the free-flux covariance are left as fitted (capping them too
    /// under-covered toy ΔG: 58.3 % at σ 0.02, log-uniform).
    static func noLessPrecise(_ map: FluxPrediction, than ann: FluxPrediction) -> FluxPrediction {
        var p = map
        for r in p.net.indices where ann.netSE[r].isFinite && !(p.netSE[r] <= ann.netSE[r]) { p.netSE[r] = ann.netSE[r] }
        return p
    }

    /// `fit`, or the ANN's prediction `ann` when the fit's VSSR is worse than the ANN's own.
    func notWorseThanANN(_ fit: LeastSquaresMFA.Fit?, ann: FluxPrediction, measured: MeasuredLabeling) throws -> LeastSquaresMFA.Fit {
        let annVSSR = mfa.vssr(of: ann.fluxState, measured) ?? .infinity
        let fitVSSR = fit.flatMap { mfa.vssr(of: $0.prediction.fluxState, measured) } ?? .infinity
        if let fit, !(fitVSSR > annVSSR) { return fit }   // also when the ANN's state cannot be simulated
        guard annVSSR.isFinite else { throw FitError.noValidStart }
        // The fit's starts (how the polish ended) stay; its fluxes and VSSR become the ANN's.
        var kept = fit ?? LeastSquaresMFA.Fit(prediction: ann, vssr: annVSSR, iterations: 0,
                                              measurements: measured.independentValues, identifiable: 0,
                                              starts: [], best: 0)
        kept.prediction = ann
        if mfa.fluxScale, !mfa.fluxMeasurements.isEmpty {
            let scaled = MeasuredFluxScale.apply(ann, rows: mfa.fluxMeasurements, basis: mfa.basis, network: mfa.network)
            kept.prediction = scaled.prediction
            kept.scale = (scaled.scale, scaled.se)
        }
        kept.vssr = annVSSR
        kept.keptANNPrediction = true
        return kept
    }
}

/// A predictor built on a least-squares fit (`mfa`, `hybrid`): its fit's checks and warnings.
public protocol LeastSquaresBacked {
    var mfa: LeastSquaresMFA { get }
    /// The whole fit (every start's end, degrees of freedom, χ² test), not just its fluxes.
    func leastSquaresFit(measured: MeasuredLabeling) throws -> LeastSquaresMFA.Fit
}

extension MFAPredictor: LeastSquaresBacked {}
extension HybridPredictor: LeastSquaresBacked {}

public enum FitError: Error, Sendable, CustomStringConvertible {
    case noValidStart
    public var description: String { "least-squares fit found no start point with a valid flux state" }
}
