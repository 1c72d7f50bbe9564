import EMU
import Foundation
import MLFluxCore
import Prediction

/// Measured MIDs through one or several predictors of a bundle, as `mlflux predict` and
/// `mlflux serve` run them: the imputation route (`ImputationRoute`), the least-squares
/// checks (identifiability of the measurement), the prediction (in the measured fluxes'
/// unit when the options carry measured fluxes of a relative network), the fit report with
/// its χ² test against what was measured (never against imputed entries), and optionally
/// profile-likelihood intervals. Notes and warnings come back as text; nothing is printed.
public struct PredictionJob: Sendable {
    public var bundle: ModelBundle
    /// The predictors, each run on every sample (`StrategyRegistry.predictor`).
    public var predictors: [any FluxPredictor]
    /// Imputer named by the user (nil: the route's default, `ImputationRoute`).
    public var imputer: String?
    /// The options the predictors were built with; `measurementStddev` (default 0.01) is the
    /// σ of MID entries without one in the χ² test, `fluxRows`/`fluxScale` the measured fluxes.
    public var options: StrategyRegistry.Options
    /// Fluxes to profile (least-squares predictors only), on `options.threads` threads.
    public var profile: [ProfiledFlux]?
    /// The bundle's simulator, when the caller keeps one (nil: built for each fit report).
    public var simulator: EMUSimulator?
    /// Built imputers, when the caller keeps them (nil: the route builds the one it needs).
    public var imputers: ImputerCache?

    public init(bundle: ModelBundle, predictors: [any FluxPredictor], imputer: String? = nil,
                options: StrategyRegistry.Options = .init(), profile: [ProfiledFlux]? = nil,
                simulator: EMUSimulator? = nil, imputers: ImputerCache? = nil) {
        self.bundle = bundle
        self.predictors = predictors
        self.imputer = imputer
        self.options = options
        self.profile = profile
        self.simulator = simulator
        self.imputers = imputers
    }

    /// One predictor's result for one sample.
    public struct Outcome: Sendable {
        public var predictor: String
        public var prediction: FluxPrediction
        public var fit: FitReport
        /// Profile-likelihood intervals (when `profile` was given and the predictor fits by least squares).
        public var intervals: LeastSquaresMFA.ProfileResult?
        /// Wall time of the profile, s.
        public var profileSeconds = 0.0
        /// What the user should know (imputation, assumed σ), without a "note:" prefix.
        public var notes: [String] = []
        /// What questions the result (a failed χ² test), without a "warning:" prefix.
        public var warnings: [String] = []
        /// Wall time of the whole prediction (route, fit, report), s.
        public var seconds = 0.0
    }

    /// Every predictor on every sample, samples in order, predictors in order within a sample.
    /// `input` names the measurement in messages; a sample's name is appended to it.
    public func run(samples: [(sample: String, labeling: MeasuredLabeling)],
                    input: String) throws -> [(sample: String, outcomes: [Outcome])] {
        try samples.map { sample, labeling in
            let name = sample.isEmpty ? input : "\(input) (sample \(sample))"
            return (sample, try predictors.map { try run(labeling, input: name, predictor: $0) })
        }
    }

    /// One measurement through `predictor`; errors are `PredictionJobError`s naming `input`
    /// (or the strategy's own errors, e.g. an unknown imputer).
    public func run(_ table: MeasuredLabeling, input: String, predictor p: any FluxPredictor) throws -> Outcome {
        let clock = Date()
        var notes: [String] = [], warnings: [String] = []
        let route: ImputationRoute
        do { route = try ImputationRoute(measured: table, predictor: p, imputer: imputer, bundle: bundle, options: options, imputers: imputers) }
        catch let e as IncompleteLabelingError { throw PredictionJobError("\(input): \(e)") }
        if let name = route.imputer, let done = route.imputed {
            notes.append("\(input): imputed \(done.imputedCount) of \(done.layout.count) MID entries with the '\(name)' imputer")
        } else if let name = route.imputer {
            notes.append("\(input): \(table.layout.count - table.mask.filter { $0 }.count) MID entries missing; the hybrid starts from the ANN on the '\(name)' imputer's completion and fits the measured entries only")
        }
        let measured = route.input
        if let ls = p as? any LeastSquaresBacked {
            do { try ls.mfa.check(measured) } catch { throw PredictionJobError("\(input): \(error)") }
            if p is MFAPredictor {
                do { try ls.mfa.checkDetermined(measured) } catch { throw PredictionJobError("\(input): \(error)") }
            }
        }
        var prediction: FluxPrediction
        var scale: FitReport.Scale?
        var starts: [LeastSquaresMFA.StartResult]? = nil
        var censored: LeastSquaresMFA.Fit?
        var dilution: [LeastSquaresMFA.DilutionEstimate] = []
        var intervals: LeastSquaresMFA.ProfileResult?
        var profileSeconds = 0.0
        if let ls = p as? any LeastSquaresBacked {
            let f = try ls.leastSquaresFit(measured: measured)
            prediction = f.prediction
            scale = f.scale.map { FitReport.Scale(value: $0.value, se: $0.se) }
            starts = f.starts
            if f.censoredEntries > 0 {
                censored = f
                notes.append("\(input): \(f.censoredEntries) MID entries at 0 fitted as left-censored (−2·log Φ(−μ/σ), a profiled scale per renormalised MID); the χ² test is of the deviance (--gaussian-zeros: Gaussian)")
            }
            dilution = f.dilution
            if let profile {
                let start = Date()
                intervals = ls.mfa.profile(f, fluxes: profile, threads: options.threads)
                profileSeconds = Date().timeIntervalSince(start)
            }
        } else {
            if let ann = p as? ANNPredictor, ann.isNoiseAware, !measured.stddev.contains(where: { $0.isFinite }) {
                notes.append("\(input) has no stddev column; the noise-aware ANN assumes σ = \(ann.defaultStddev) per MID entry (--stddev)")
            }
            (prediction, scale) = Self.inMeasuredUnit(try p.predict(measured: measured), options: options, bundle: bundle)
        }
        // The fit is judged on what was measured, never on imputed entries.
        var fit = try FitReport(prediction: prediction, measured: table, simulator: simulator ?? bundle.simulator(),
                                basis: bundle.basis, defaultStddev: options.measurementStddev ?? 0.01,
                                fluxes: options.fluxRows, scaled: options.fluxScale, dilution: dilution)
        fit.starts = starts
        fit.scale = scale
        if let censored { fit.chiSquared = ChiSquaredTest(fit: censored, defaultStddev: options.measurementStddev ?? 0.01) }
        if let chi = fit.chiSquared, !chi.passes {
            let verdict = chi.vssr > chi.upper ? "above" : "below"
            warnings.append("\(input): the fit fails the χ² test: VSSR \(String(format: "%.4g", chi.vssr)) is \(verdict) the 95 % range [\(String(format: "%.4g", chi.lower)), \(String(format: "%.4g", chi.upper))] for \(chi.degreesOfFreedom) degrees of freedom\(verdict == "above" ? " (a local minimum, a model error, or σ too small)" : " (σ too large?)")")
        }
        return Outcome(predictor: p.name, prediction: prediction, fit: fit, intervals: intervals, profileSeconds: profileSeconds,
                       notes: notes, warnings: warnings, seconds: Date().timeIntervalSince(clock))
    }

    /// A prediction of a strategy that ignores measured fluxes (the ANN), in their unit:
    /// scaled when the network's fluxes are relative; the scale for the report.
    public static func inMeasuredUnit(_ p: FluxPrediction, options: StrategyRegistry.Options,
                                      bundle: ModelBundle) -> (FluxPrediction, FitReport.Scale?) {
        guard options.fluxScale, !options.fluxRows.isEmpty else { return (p, nil) }
        let s = MeasuredFluxScale.apply(p, rows: options.fluxRows, basis: bundle.basis, network: bundle.network)
        return (s.prediction, FitReport.Scale(value: s.scale, se: s.se))
    }
}

/// A measurement a predictor cannot take (missing MIDs without an imputer, an unidentifiable
/// measurement for least squares): one line naming the input.
public struct PredictionJobError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
