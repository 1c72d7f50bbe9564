import ArgumentParser
import Bundles
import Foundation
import MLFluxServer

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the model bundles over HTTP: pages for a browser and a JSON API.",
        discussion: """
            Pages at / (choose a model, paste or upload a MID table, results with MID plots and \
            downloads); JSON at /api/v1 (described by /api/v1/openapi.json). Bundles are those \
            of `mlflux models`. Listens on loopback unless --host names another interface; prints \
            `mlflux serve: listening on http://HOST:PORT` on standard error once it listens (the \
            bound port, also for --port 0). Ctrl-C stops it.
            """)

    @Option(help: "Interface to listen on.") var host = "127.0.0.1"
    @Option(help: "TCP port (0: any free port).") var port = 8080
    @Option(help: ArgumentHelp("Largest request body (e.g. 4MB, 512kB, 1MiB).", valueName: "SIZE")) var maxBody = "4MB"
    @Option(help: "Predictions running at once, one thread each (default: the number of cores).") var workers = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Predictions waiting for a worker before the server answers 503.") var queue = 64

    func validate() throws {
        try OptionCheck.count(port, "--port", in: 0...65535)
        guard let size = ServerConfiguration.byteCount(maxBody), size >= 1024 else {
            throw ValidationError("--max-body '\(maxBody)' is not a size of at least 1 kB (e.g. 4MB, 512kB, 1MiB)")
        }
        try OptionCheck.threads(workers, "--workers")
        try OptionCheck.count(queue, "--queue", in: 0...100_000)
    }

    func run() throws {
        let config = ServerConfiguration(host: host, port: port, maxBody: ServerConfiguration.byteCount(maxBody) ?? 4_000_000,
                                         workers: workers, queue: queue)
        let server = MLFluxHTTPServer(configuration: config)
        let done = DispatchSemaphore(value: 0)
        let failure = LockedError()
        Task {
            do {
                try await server.run { host, port in
                    FileHandle.standardError.write(Data("mlflux serve: listening on http://\(host):\(port)\n".utf8))
                }
            } catch {
                failure.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = failure.get() { throw CLIError("serve: \(error)") }
    }
}

/// An error handed from the server task to the waiting command.
private final class LockedError: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ e: any Error) { lock.lock(); error = e; lock.unlock() }
    func get() -> (any Error)? { lock.lock(); defer { lock.unlock() }; return error }
}
