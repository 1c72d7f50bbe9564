import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// Text a child process writes, collected as it arrives.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

@Suite(.serialized) struct ServeCLITests {
    @Test func serveOnPortZeroReportsTheBoundPortAnswersAndStopsOnSIGINT() async throws {
        let process = try mlfluxProcess(["serve", "--port", "0", "--workers", "1"])
        let err = Pipe()
        let stderr = Collected()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        err.fileHandleForReading.readabilityHandler = { stderr.append($0.availableData) }
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let prefix = "mlflux serve: listening on http://127.0.0.1:"
        var port: Int?
        for _ in 0..<400 where port == nil {
            if let line = stderr.text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                port = Int(line.dropFirst(prefix.count))
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let bound = try #require(port, "no listening line in: \(stderr.text)")
        #expect(bound > 0)
        let (models, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(bound)/api/v1/models")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let names = try #require(try JSONSerialization.jsonObject(with: models) as? [String: Any])["models"] as? [[String: Any]]
        #expect(names?.contains { $0["name"] as? String == "toy" } == true)
        // A prediction of the toy example over HTTP recovers its true v3 net flux (0.2, Plugins/toy/fluxes.json).
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(bound)/api/v1/predict?model=toy&predictor=mfa")!)
        request.httpMethod = "POST"
        request.setValue("text/csv", forHTTPHeaderField: "Content-Type")
        request.httpBody = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/Plugins/toy/example_mids.csv"))
        let (body, answer) = try await URLSession.shared.data(for: request)
        #expect((answer as? HTTPURLResponse)?.statusCode == 200, "\(String(decoding: body, as: UTF8.self))")
        let o = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let p = try #require(((o["samples"] as? [[String: Any]])?.first?["predictions"] as? [[String: Any]])?.first)
        let v3 = ((p["result"] as? [String: Any])?["fluxes"] as? [String: [String: Any]])?["v3"]?["net"] as? Double
        #expect(v3.map { abs($0 - 0.2) < 1e-3 } == true, "\(String(describing: v3))")
        process.interrupt()
        for _ in 0..<200 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning && process.terminationStatus == 0, "\(stderr.text)")
        err.fileHandleForReading.readabilityHandler = nil
    }

    @Test func badServeOptionsAreOneLine() throws {
        let r = try mlflux(["serve", "--max-body", "lots"])
        #expect(r.status != 0 && r.stderr.contains("--max-body 'lots' is not a size"), "\(r.stderr)")
        let p = try mlflux(["serve", "--port", "70000"])
        #expect(p.status != 0 && p.stderr.contains("--port"), "\(p.stderr)")
    }
}
