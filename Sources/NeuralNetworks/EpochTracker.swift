/// The end-of-epoch bookkeeping every trainer shares: the report list, the best model by
/// validation loss (restored at the end), patience-based early stopping and the progress
/// callback.
struct EpochTracker<Model> {
    private(set) var best: Model
    private var reports: [EpochReport] = []
    private var bestLoss = Float.infinity, bestEpoch = -1, sinceBest = 0, stopped = false

    init(_ model: Model) { best = model }

    /// Records `report` for `model`; `false` when training should stop (the callback said so,
    /// or `patience` epochs passed without a lower validation loss).
    mutating func record(_ report: EpochReport, model: Model, patience: Int?,
                         progress: ((EpochReport) -> Bool)?) -> Bool {
        reports.append(report)
        if report.validationLoss < bestLoss || bestEpoch < 0 {
            bestLoss = report.validationLoss; bestEpoch = report.epoch; best = model; sinceBest = 0
        } else {
            sinceBest += 1
        }
        if let progress, !progress(report) { stopped = true; return false }
        if let p = patience, sinceBest >= p { stopped = true; return false }
        return true
    }

    /// Puts the best model into `model` (when an epoch ran) and returns the history.
    func finish(_ model: inout Model) -> TrainingHistory {
        if bestEpoch >= 0 { model = best }
        return TrainingHistory(epochs: reports, bestEpoch: bestEpoch, bestValidationLoss: bestLoss, stoppedEarly: stopped)
    }
}
