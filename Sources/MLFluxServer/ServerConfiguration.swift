import Foundation

/// How `mlflux serve` listens and how much work it takes at once.
public struct ServerConfiguration: Sendable {
    /// Interface to bind: loopback unless the user names another.
    public var host: String = "127.0.0.1"
    /// TCP port; 0 lets the system choose (the bound port is reported when listening).
    public var port: Int = 8080
    /// Largest request body accepted, bytes (larger: 413).
    public var maxBody: Int = 4 * 1024 * 1024
    /// Predictions running at once (each on its own worker thread).
    public var workers: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Predictions waiting for a worker; one more is refused with 503.
    public var queue: Int = 64

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBody: Int = 4 * 1024 * 1024,
                workers: Int = ProcessInfo.processInfo.activeProcessorCount, queue: Int = 64) {
        self.host = host
        self.port = port
        self.maxBody = maxBody
        self.workers = workers
        self.queue = queue
    }

    /// A size such as `4MB`, `512kB`, `1MiB`, `100000` (bytes): decimal k/M/G = 10³/10⁶/10⁹,
    /// binary Ki/Mi/Gi = 2¹⁰/2²⁰/2³⁰; case-insensitive, a trailing `B` optional. nil when not a size.
    public static func byteCount(_ text: String) -> Int? {
        var s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if s.hasSuffix("b") { s.removeLast() }
        let units: [(String, Double)] = [("ki", 1024), ("mi", 1024 * 1024), ("gi", 1024 * 1024 * 1024),
                                         ("k", 1e3), ("m", 1e6), ("g", 1e9)]
        var factor = 1.0
        for (suffix, f) in units where s.hasSuffix(suffix) {
            s.removeLast(suffix.count)
            factor = f
            break
        }
        guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite, v >= 0, v * factor < 1e12 else { return nil }
        return Int((v * factor).rounded())
    }

    /// `bytes` for a message: `4 MB (4000000 bytes)`.
    public static func describe(bytes: Int) -> String {
        let units: [(Int, String)] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1_000_000_000, "GB"), (1_000_000, "MB"), (1 << 10, "KiB"), (1000, "kB")]
        for (size, name) in units where bytes >= size && bytes % size == 0 {
            return "\(bytes / size) \(name) (\(bytes) bytes)"
        }
        return "\(bytes) bytes"
    }
}
