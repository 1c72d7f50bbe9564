import Dispatch
import Foundation
import MLFluxCore

/// Row-by-row predictions over several threads, for the strategies that fit each labeling
/// on its own (least squares, hybrid). Worker `w` takes rows `w, w + threads, …`; the
/// result keeps the row order. Progress goes to standard error every ~2 s.
enum ParallelPredict {
    static func run(_ predictor: any FluxPredictor, rows: Int, threads: Int,
                    row: @escaping @Sendable (Int) -> MeasuredLabeling) throws -> [FluxPrediction] {
        let results = ResultSlots(rows)
        let threads = max(1, min(threads, rows))
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: threads) { w in
            var i = w
            while i < rows {
                do { results.set(i, .success(try predictor.predict(measured: row(i)))) }
                catch { results.set(i, .failure(error)) }
                if w == 0 { results.reportProgress(since: start) }
                i += threads
            }
        }
        return try (0..<rows).map { r in
            do { return try results.get(r).get() } catch { throw CLIError("row \(r + 1): \(error)") }
        }
    }
}

/// One result slot per row, written once by the worker that owns the row.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [Result<FluxPrediction, any Error>?]
    private var done = 0
    private var lastReport = Date()
    private let lock = NSLock()

    init(_ n: Int) { slots = Array(repeating: nil, count: n) }

    func set(_ i: Int, _ r: Result<FluxPrediction, any Error>) {
        lock.lock(); slots[i] = r; done += 1; lock.unlock()
    }

    func get(_ i: Int) -> Result<FluxPrediction, any Error> {
        lock.lock(); defer { lock.unlock() }
        return slots[i]!
    }

    func reportProgress(since start: Date) {
        lock.lock(); defer { lock.unlock() }
        guard Date().timeIntervalSince(lastReport) > 2 else { return }
        lastReport = Date()
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = Double(slots.count - done) / max(rate, 1e-9)
        FileHandle.standardError.write(Data(String(format: "  %d / %d states  %.1f/s  ETA %.0f s\n",
                                                   done, slots.count, rate, eta).utf8))
    }
}
