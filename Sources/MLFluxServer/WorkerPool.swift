import Foundation

/// A fixed set of worker threads with a bounded waiting queue, for blocking work (fits,
/// network inference) kept off the server's event loops and off Swift's cooperative pool.
/// At most `workers` jobs run at once; at most `queue` more wait; beyond that `run` fails
/// at once with `WorkerPool.Busy` (the server answers 503).
public final class WorkerPool: @unchecked Sendable {
    /// The queue is full.
    public struct Busy: Error, Sendable, CustomStringConvertible {
        public var workers: Int
        public var queue: Int
        public var description: String {
            "the server is busy: \(workers) predictions running and \(queue) waiting; try again shortly"
        }
    }

    public let workers: Int
    public let capacity: Int
    private let condition = NSCondition()
    private var waiting: [@Sendable () -> Void] = []
    private var head = 0
    private var stopped = false

    /// - Parameters:
    ///   - workers: threads (≥ 1).
    ///   - queue: jobs that may wait for a thread (≥ 0).
    public init(workers: Int, queue: Int) {
        self.workers = max(1, workers)
        self.capacity = max(0, queue)
        for i in 0..<self.workers {
            let thread = Thread { self.loop() }   // the thread holds the pool until `shutdown`
            thread.name = "mlflux-worker-\(i)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Jobs waiting for a thread now.
    public var queued: Int {
        condition.lock(); defer { condition.unlock() }
        return waiting.count - head
    }

    /// Runs `work` on a worker thread and returns its result; throws `Busy` without running
    /// it when `queue` jobs already wait.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            condition.lock()
            // Jobs in the pool (waiting or running) stay within threads + queue.
            guard !stopped, waiting.count - head + busyWorkers < workers + capacity else {
                condition.unlock()
                continuation.resume(throwing: Busy(workers: workers, queue: capacity))
                return
            }
            waiting.append { continuation.resume(with: Result { try work() }) }
            condition.signal()
            condition.unlock()
        }
    }

    /// Threads running a job (read under the lock).
    private var busyWorkers = 0

    /// Jobs running now.
    public var running: Int {
        condition.lock(); defer { condition.unlock() }
        return busyWorkers
    }

    private func loop() {
        while true {
            condition.lock()
            while waiting.count == head && !stopped { condition.wait() }
            if stopped && waiting.count == head { condition.unlock(); return }
            let job = waiting[head]
            head += 1
            if head > 1024 && head * 2 > waiting.count { waiting.removeFirst(head); head = 0 }
            busyWorkers += 1
            condition.unlock()
            job()
            condition.lock()
            busyWorkers -= 1
            condition.unlock()
        }
    }

    /// Lets the threads finish the jobs already queued, then end.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
