import Dispatch
import MLFluxCore
import Prediction

/// Several predictors of one bundle run on the same measured MIDs (`mlflux compare`): per
/// predictor its fluxes with standard errors, the fit (MIDs re-simulated from its fluxes,
/// VSSR and χ² test with one σ for all), its wall time and, given the true flux state, its
/// per-flux errors.
public struct PredictorComparison: Sendable {
    /// Errors of a prediction against a known flux state (predicted − true).
    public struct FluxErrors: Sendable, Equatable {
        /// Net flux errors in reaction order.
        public var net: [Double]
        /// Exchange flux errors in reaction order; NaN for one-way reactions.
        public var exchange: [Double]
        /// max |net error| over all reactions.
        public var maxAbsNet: Double
        /// Median of |exchange error| / true exchange over the bidirectional reactions whose
        /// true exchange flux is above 0 (a relative error of a zero flux is undefined); nil when there is none.
        public var medianRelativeExchange: Double?

        public init(prediction: FluxPrediction, truth: FluxState, network: MetabolicNetwork) {
            let R = network.reactions.count
            net = (0..<R).map { prediction.net[$0] - truth.net[$0] }
            exchange = (0..<R).map { network.isBidirectional[$0] ? prediction.exchange[$0] - truth.exchange[$0] : .nan }
            maxAbsNet = net.map(abs).max() ?? 0
            let relative = (0..<R).filter { network.isBidirectional[$0] && truth.exchange[$0] > 0 }
                .map { abs(exchange[$0]) / truth.exchange[$0] }.sorted()
            if relative.isEmpty {
                medianRelativeExchange = nil
            } else {
                let n = relative.count
                medianRelativeExchange = n % 2 == 1 ? relative[n / 2] : (relative[n / 2 - 1] + relative[n / 2]) / 2
            }
        }
    }

    /// One predictor's outcome.
    public struct Result: Sendable {
        public var predictor: String
        public var prediction: FluxPrediction
        /// MIDs re-simulated from `prediction` against the input, with the χ² test; nil when
        /// its fluxes cannot be simulated (`fitFailure` says why: e.g. an ANN prediction with a
        /// negative one-way flux or a non-finite flux on data unlike its training data).
        public var fit: FitReport?
        public var fitFailure: String?
        /// Wall time of the prediction (the predictor's construction, e.g. reading weights, left out).
        public var seconds: Double
        /// Hybrid: the least-squares polish ended with a worse VSSR than the ANN's own
        /// prediction, so the ANN's prediction is the result.
        public var keptANNPrediction: Bool
        /// With a true flux state: the prediction's errors.
        public var errors: FluxErrors?
        /// The imputer that completed the input for this predictor (the hybrid: for its ANN
        /// start only); nil when none ran.
        public var imputer: String? = nil
    }

    public var model: String
    public var network: MetabolicNetwork
    /// σ of MID entries that came without one (fits and χ² tests).
    public var defaultStddev: Double
    public var truth: FluxState?
    /// In the order the predictors were asked for.
    public var results: [Result]

    /// Runs `predictors` (registry names, see `StrategyRegistry.known(.predictor)`) of `bundle` on
    /// `measured`, one after the other.
    /// Incomplete input reaches each predictor by its `ImputationRoute` (`options.imputer`, else
    /// the bundle's default imputer): completed for those that need complete labeling, as
    /// measured for least squares and the hybrid (whose ANN starts from the completion); every
    /// fit is judged on the measured entries only.
    /// - Throws: `UnknownStrategyError` for a name the registry does not know (before any
    ///   prediction), `IncompleteLabelingError` when a predictor needs complete labeling,
    ///   entries are missing and the bundle has no imputer, and whatever a predictor or the
    ///   re-simulation throws.
    public init(bundle: ModelBundle, measured: MeasuredLabeling, predictors: [String],
                options: StrategyRegistry.Options = .init(), truth: FluxState? = nil) throws {
        let built = try predictors.map { try StrategyRegistry.predictor($0, bundle: bundle, options: options) }
        let routes = try built.map { p in
            try ImputationRoute(measured: measured, predictor: p, imputer: p is MFAPredictor ? nil : options.imputer,
                                bundle: bundle, options: options)
        }
        let simulator = try bundle.simulator()
        let sigma = options.measurementStddev ?? 0.01
        var results: [Result] = []
        for ((name, p), route) in zip(zip(predictors, built), routes) {
            let input = route.input
            let clock = DispatchTime.now().uptimeNanoseconds
            var prediction: FluxPrediction
            var scale: FitReport.Scale?
            var starts: [LeastSquaresMFA.StartResult]?
            var kept = false
            var dilution: [LeastSquaresMFA.DilutionEstimate] = []
            if let ls = p as? any LeastSquaresBacked {
                let f = try ls.leastSquaresFit(measured: input)
                prediction = f.prediction
                scale = f.scale.map { FitReport.Scale(value: $0.value, se: $0.se) }
                starts = f.starts
                kept = f.keptANNPrediction
                dilution = f.dilution
            } else {
                prediction = try p.predict(measured: input)
                if options.fluxScale, !options.fluxRows.isEmpty {
                    // A strategy that ignores measured fluxes: its relative fluxes in their unit.
                    let s = MeasuredFluxScale.apply(prediction, rows: options.fluxRows, basis: bundle.basis, network: bundle.network)
                    prediction = s.prediction
                    scale = FitReport.Scale(value: s.scale, se: s.se)
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9
            var fit: FitReport?, failure: String?
            do {
                fit = try FitReport(prediction: prediction, measured: measured, simulator: simulator,
                                    basis: bundle.basis, defaultStddev: sigma, fluxes: options.fluxRows,
                                    scaled: options.fluxScale, dilution: dilution)
                fit?.starts = starts
                fit?.scale = scale
            } catch {
                failure = "\(error)"
            }
            results.append(Result(predictor: name, prediction: prediction, fit: fit, fitFailure: failure,
                                  seconds: seconds, keptANNPrediction: kept,
                                  errors: truth.map { FluxErrors(prediction: prediction, truth: $0, network: bundle.network) },
                                  imputer: route.imputer))
        }
        model = bundle.name
        network = bundle.network
        defaultStddev = sigma
        self.truth = truth
        self.results = results
    }
}
