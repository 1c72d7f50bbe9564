import Dispatch
import Foundation

/// Row-by-row work over several threads, results in row order. Worker `w` takes rows
/// `w, w + threads, …`; `progress(done, total)` is called by worker 0 after each of its rows
/// (throttle it yourself). Each row's error is kept in its own `Result`.
public enum ParallelRows {
    public static func map<T: Sendable>(count: Int, threads: Int,
                                        progress: (@Sendable (Int, Int) -> Void)? = nil,
                                        _ body: @escaping @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let slots = Slots<T>(count)
        let workers = max(1, min(threads, count))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < count {
                slots.set(i, Result { try body(i) })
                if w == 0, let progress { progress(slots.done, count) }
                i += workers
            }
        }
        return slots.all
    }
}

/// One slot per row, written once by the worker that owns the row.
private final class Slots<T: Sendable>: @unchecked Sendable {
    private var slots: [Result<T, any Error>?]
    private var finished = 0
    private let lock = NSLock()

    init(_ n: Int) { slots = Array(repeating: nil, count: n) }

    func set(_ i: Int, _ r: Result<T, any Error>) {
        lock.lock(); slots[i] = r; finished += 1; lock.unlock()
    }

    var done: Int { lock.lock(); defer { lock.unlock() }; return finished }
    var all: [Result<T, any Error>] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}
