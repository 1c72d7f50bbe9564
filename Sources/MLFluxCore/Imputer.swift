/// Fills the MID entries a measurement lacks, so that a predictor needing complete labeling
/// (`FluxPredictor.requiresCompleteLabeling`) can run on it.
///
/// Contract, checked by the tests every imputer must pass:
/// - known entries (`mask == true`) come back unchanged, bit for bit;
/// - every imputed entry is finite and ≥ 0, and every MID holding an imputed entry sums to 1
///   (a MID missing altogether is a distribution of its own; a partly given one is completed
///   to 1 with its given entries kept);
/// - values at masked entries of the input are never read (NaN, garbage or a true value give
///   the same output);
/// - a measurement with nothing measured is an `ImputationError.nothingMeasured`.
///
/// Implementations: KNN regression over simulated patterns, a masked residual MLP, a partial-convolution U-Net (module
/// `Imputation`); they are found by name through the bundle registry (`--imputer knn|mlp|pcnn`).
public protocol Imputer: Sendable {
    /// Strategy name as used on the command line (`knn`, `mlp`, …).
    var name: String { get }
    /// The layout the imputer was built for; inputs must have it.
    var layout: LabelingLayout { get }
    /// The completed labeling of one measurement.
    func impute(_ measured: MeasuredLabeling) throws -> ImputedLabeling
    /// The completed labelings of several measurements (the default calls `impute(_:)` on each;
    /// strategies with a batched kernel override it).
    func impute(batch: [MeasuredLabeling]) throws -> [ImputedLabeling]
}

extension Imputer {
    public func impute(batch: [MeasuredLabeling]) throws -> [ImputedLabeling] {
        try batch.map { try impute($0) }
    }

    /// Throws unless `measured` has this imputer's layout and at least one measured entry.
    public func checkInput(_ measured: MeasuredLabeling) throws {
        guard measured.layout == layout else { throw ImputationError.layoutMismatch(imputer: name) }
        guard measured.mask.contains(true) else { throw ImputationError.nothingMeasured(imputer: name) }
    }
}

/// A labeling with every entry filled in: the measured entries as given, the rest imputed.
public struct ImputedLabeling: Sendable, Equatable {
    public let layout: LabelingLayout
    /// Fractions in layout order, every entry finite.
    public var values: [Double]
    /// Standard deviations in layout order: the measurement's own at measured entries (NaN where
    /// none was given), the imputer's spread estimate at imputed entries (NaN where it has none).
    public var stddev: [Double]
    /// `true` where the entry was imputed (the complement of the input mask).
    public var imputed: [Bool]

    public init(layout: LabelingLayout, values: [Double], stddev: [Double], imputed: [Bool]) {
        precondition(values.count == layout.count && stddev.count == layout.count && imputed.count == layout.count,
                     "imputed labeling must have \(layout.count) entries")
        self.layout = layout
        self.values = values
        self.stddev = stddev
        self.imputed = imputed
    }

    /// Merges an imputer's raw estimate into `measured`: measured entries are kept; each MID's
    /// imputed entries are clamped at 0 and scaled so the MID sums to 1 (a MID whose estimate is
    /// all zero becomes uniform over its missing entries). `estimate` and `sigma` are in layout
    /// order; only their entries at unmeasured positions are read.
    ///
    /// - Complexity: O(layout.count).
    public init(completing measured: MeasuredLabeling, estimate: [Double], sigma: [Double]? = nil) {
        let layout = measured.layout
        precondition(estimate.count == layout.count && (sigma?.count ?? layout.count) == layout.count)
        var values = measured.values, sd = measured.stddev
        let imputed = measured.mask.map { !$0 }
        for e in layout.experimentIDs.indices {
            for f in layout.fragmentNames.indices {
                let range = layout.range(experiment: e, fragment: f)
                var known = 0.0, guess = 0.0, missing = 0
                for i in range {
                    if imputed[i] {
                        let x = estimate[i]
                        values[i] = x.isFinite ? max(x, 0) : 0
                        guess += values[i]
                        missing += 1
                        sd[i] = sigma?[i] ?? .nan
                    } else {
                        known += values[i]
                    }
                }
                guard missing > 0 else { continue }
                let target = max(1 - known, 0)
                for i in range where imputed[i] {
                    values[i] = guess > 0 ? values[i] * target / guess : target / Double(missing)
                }
            }
        }
        self.init(layout: layout, values: values, stddev: sd, imputed: imputed)
    }

    /// The completed labeling as a measurement with every entry present, for a predictor.
    /// Imputed entries carry no σ (NaN: the predictor's default σ applies), so an imputer's
    /// spread estimate — 0 where its neighbours agree — never turns into an infinite weight.
    public var complete: MeasuredLabeling {
        MeasuredLabeling(layout: layout, values: values,
                         stddev: zip(stddev, imputed).map { $1 ? .nan : $0 },
                         mask: [Bool](repeating: true, count: layout.count))
    }

    /// Number of imputed entries.
    public var imputedCount: Int { imputed.lazy.filter { $0 }.count }
}

/// Why an imputer could not complete a measurement.
public enum ImputationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The measurement has no measured entry: there is nothing to impute from.
    case nothingMeasured(imputer: String)
    /// The measurement's layout is not the one the imputer was built for.
    case layoutMismatch(imputer: String)

    public var description: String {
        switch self {
        case .nothingMeasured(let name):
            return "the '\(name)' imputer needs at least one measured MID; every entry is missing"
        case .layoutMismatch(let name):
            return "the measurement's labeling layout differs from the one the '\(name)' imputer was built for"
        }
    }
}
