import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps BLAS single-threaded inside one simulation: parallelism comes from running
/// many flux states at once (`bench simulate`), and a BLAS thread pool inside each
/// small solve only adds contention.
enum BLASThreads {
    /// Sets `OPENBLAS_NUM_THREADS=1` / `VECLIB_MAXIMUM_THREADS=1` for child processes and,
    /// because OpenBLAS reads the variable when it is loaded (before `main`), also calls
    /// `openblas_set_num_threads(1)` when the library is present. A value the user set wins.
    static func limitToOne() {
        let userSet = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"]
        setenv("OPENBLAS_NUM_THREADS", "1", 0)
        setenv("VECLIB_MAXIMUM_THREADS", "1", 0)
        #if os(Linux)
        let threads = Int32(userSet ?? "1") ?? 1
        if let sym = dlsym(nil, "openblas_set_num_threads") {
            typealias SetThreads = @convention(c) (Int32) -> Void
            unsafeBitCast(sym, to: SetThreads.self)(threads)
        }
        #endif
    }

    /// Lets BLAS use `threads` threads (large matrix products in neural-network training).
    static func set(_ threads: Int) {
        #if os(Linux)
        if let sym = dlsym(nil, "openblas_set_num_threads") {
            typealias SetThreads = @convention(c) (Int32) -> Void
            unsafeBitCast(sym, to: SetThreads.self)(Int32(threads))
        }
        #endif
    }
}
