import Foundation
import MLFluxCore
import Prediction

/// Row-by-row predictions over several threads, for the strategies that fit each labeling
/// on its own (least squares, hybrid), in row order; progress on standard error every ~2 s.
enum ParallelPredict {
    static func run(_ predictor: any FluxPredictor, rows: Int, threads: Int,
                    row: @escaping @Sendable (Int) -> MeasuredLabeling) throws -> [FluxPrediction] {
        let progress = ProgressLine(label: "states")
        let results = ParallelRows.map(count: rows, threads: threads, progress: progress.report) { i in
            try predictor.predict(measured: row(i))
        }
        return try results.enumerated().map { r, result in
            do { return try result.get() } catch { throw CLIError("row \(r + 1): \(error)") }
        }
    }
}

/// "done / total  rate/s  ETA" on standard error, at most every 2 s.
final class ProgressLine: @unchecked Sendable {
    private let label: String
    private let start = Date()
    private var last = Date()
    private let lock = NSLock()

    init(label: String) { self.label = label }

    func report(_ done: Int, _ total: Int) {
        lock.lock(); defer { lock.unlock() }
        guard Date().timeIntervalSince(last) > 2 else { return }
        last = Date()
        let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-9)
        let eta = Double(total - done) / max(rate, 1e-9)
        FileHandle.standardError.write(Data(String(format: "  %d / %d %@  %.1f/s  ETA %.0f s\n",
                                                   done, total, label, rate, eta).utf8))
    }
}
