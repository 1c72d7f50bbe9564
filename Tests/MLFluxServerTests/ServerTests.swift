import Bundles
import Foundation
import Hummingbird
import HummingbirdTesting
import MLFluxCore
@testable import MLFluxServer
import Testing
import TestSupport

/// The repository's bundles, found as `mlflux models` finds them from the repository.
private func registry() -> BundleRegistry {
    BundleRegistry(searchPaths: SearchPaths(plugins: [repositoryRoot() + "/Plugins"], networks: [repositoryRoot() + "/Networks"]))
}

private func makeServer(maxBody: Int, workers: Int = 2, queue: Int = 64) -> MLFluxHTTPServer {
    MLFluxHTTPServer(configuration: .init(host: "127.0.0.1", port: 0, maxBody: maxBody, workers: workers, queue: queue),
                     registry: registry())
}

/// One server (one model cache: each bundle loaded and prepared once) for all tests; a live
/// application on a fresh loopback port per test.
private let sharedServer = makeServer(maxBody: 4 << 20)

private func server(maxBody: Int? = nil) -> MLFluxHTTPServer {
    maxBody.map { makeServer(maxBody: $0) } ?? sharedServer
}

private func json(_ r: TestResponse) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any], "\(String(buffer: r.body))")
}

private func text(_ r: TestResponse) -> String { String(buffer: r.body) }

private let exampleMIDs = try! String(contentsOfFile: repositoryRoot() + "/Plugins/toy/example_mids.csv", encoding: .utf8)

/// The toy bundle's true state (independent of any predictor): reaction → (net, xch).
private func trueFluxes() throws -> [String: [String: Double]] {
    let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/Plugins/toy/fluxes.json"))
    return try JSONDecoder().decode([String: [String: Double]].self, from: data)
}

private func body(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

/// Polls `condition` every 5 ms for at most 10 s (an error then, never a hang).
func waitUntil(_ condition: () -> Bool) async throws {
    for _ in 0..<2000 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("condition not reached within 10 s")
    throw CancellationError()
}

private func postJSON(_ client: any TestClientProtocol, _ object: [String: Any]) async throws -> TestResponse {
    let data = try JSONSerialization.data(withJSONObject: object)
    return try await client.execute(uri: "/api/v1/predict", method: .post, headers: [.contentType: "application/json"],
                                    body: ByteBuffer(bytes: data))
}

/// Net fluxes of one prediction of a predict response: reaction → (net, netSE).
private func nets(_ prediction: [String: Any]) throws -> [String: (Double, Double)] {
    let result = try #require(prediction["result"] as? [String: Any])
    let fluxes = try #require(result["fluxes"] as? [String: [String: Any]])
    return fluxes.compactMapValues { f in
        guard let n = f["net"] as? Double, let se = f["netSE"] as? Double else { return nil }
        return (n, se)
    }
}

/// Predictions on the exact MIDs of the true state recover it: least squares to 1e-3,
/// the ANN within two of its own standard errors (as `mlflux predict` is tested).
private func expectTrueState(_ prediction: [String: Any]) throws {
    let truth = try trueFluxes()
    let predictor = prediction["predictor"] as? String ?? ""
    let got = try nets(prediction)
    #expect(got.count == truth.count)
    for (id, t) in truth {
        let (net, se) = try #require(got[id], "\(id) missing")
        let tolerance = predictor == "mfa" ? 1e-3 : max(2 * se, 1e-6)
        #expect(abs(net - t["net"]!) <= tolerance, "\(predictor) \(id) net \(net) ± \(se) vs \(t["net"]!)")
    }
    // The ANN's calibrated error shape: a 95 % interval of the free net flux v3 that holds the truth.
    if predictor == "ann" {
        let result = try #require(prediction["result"] as? [String: Any])
        let intervals = try #require(result["freeIntervals"] as? [String: [String: Double]], "no freeIntervals")
        let v3 = try #require(intervals["v3.net"])
        #expect(v3["lower95"]! <= truth["v3"]!["net"]! && truth["v3"]!["net"]! <= v3["upper95"]!, "\(v3)")
        #expect(v3["lower95"]! <= v3["lower68"]! && v3["upper68"]! <= v3["upper95"]!)
    }
}

/// Serialized: requests share one worker pool, and the test client waits at most 20 s.
@Suite(.serialized) struct ServerAPITests {
    @Test func modelsListWhatTheRegistryDiscovers() async throws {
        let loaded = registry().loadAll().compactMap { s -> ModelBundle? in if case .loaded(let b) = s { return b } else { return nil } }
        try await server().application().test(.live) { client in
            let r = try await client.execute(uri: "/api/v1/models", method: .get)
            #expect(r.status == .ok)
            let models = try #require(try json(r)["models"] as? [[String: Any]])
            #expect(models.compactMap { $0["name"] as? String } == loaded.map(\.name))
            let toy = try #require(models.first { $0["name"] as? String == "toy" })
            let bundle = try #require(loaded.first { $0.name == "toy" })
            #expect(toy["experiments"] as? [String] == bundle.manifest.experiments)
            #expect(toy["metabolites"] as? [String] == bundle.manifest.measured)
            #expect(toy["reactions"] as? Int == 7)   // Networks/toy.fml: v1…v5, EX_molE, EX_molF
            #expect((toy["predictors"] as? [String]).map(Set.init) == ["ann", "mfa", "hybrid"])
            #expect(toy.keys.contains("defaultImputer"))
        }
    }

    @Test func templateIsTheCommandLinesAndUnknownModelsAre404() async throws {
        let toy = try registry().load("toy")
        try await server().application().test(.live) { client in
            let r = try await client.execute(uri: "/api/v1/models/toy/template", method: .get)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(text(r) == LabelingTable.template(toy.layout))
            for uri in ["/api/v1/models/nope/template", "/api/v1/models/..%2F..%2Fetc/template", "/api/v1/models/Plugins%2Ftoy/template"] {
                let missing = try await client.execute(uri: uri, method: .get)
                #expect(missing.status == .notFound, "\(uri)")
                #expect((try json(missing)["error"] as? String)?.contains("unknown model") == true, "\(text(missing))")
            }
            let p = try await postJSON(client, ["model": "nope", "mids": exampleMIDs])
            #expect(p.status == .notFound)
            for (uri, method) in [("/api/v2/models", HTTPRequest.Method.get), ("/api/v1/models", .delete)] {
                let none = try await client.execute(uri: uri, method: method)
                let message = try json(none)["error"] as? String
                #expect(none.status == .notFound && message?.hasPrefix("no route") == true, "\(text(none))")
            }
        }
    }

    @Test func predictsTheTrueToyStateFromJSONAndFromACSVBody() async throws {
        try await server().application().test(.live) { client in
            let r = try await postJSON(client, ["model": "toy", "mids": exampleMIDs, "predictors": ["ann", "mfa"], "imputer": NSNull(), "stddev": NSNull()])
            #expect(r.status == .ok, "\(text(r))")
            let o = try json(r)
            #expect(o["model"] as? String == "toy")
            let samples = try #require(o["samples"] as? [[String: Any]])
            #expect(samples.count == 1 && samples[0]["sample"] as? String == "")
            let predictions = try #require(samples[0]["predictions"] as? [[String: Any]])
            #expect(predictions.compactMap { $0["predictor"] as? String } == ["ann", "mfa"])
            for p in predictions {
                try expectTrueState(p)
                #expect((p["seconds"] as? Double).map { $0 > 0 } == true)
                let result = try #require(p["result"] as? [String: Any])
                #expect(result["predictor"] as? String == p["predictor"] as? String && result["model"] as? String == "toy")
                // Exact data: the χ² test of the least-squares fit is below its range, never above.
                let fit = try #require(result["fit"] as? [String: Any])
                #expect(fit["chiSquared"] != nil)
            }
            // The same table as text/csv with the names in the query.
            let csv = try await client.execute(uri: "/api/v1/predict?model=toy&predictor=mfa&predictor=ann", method: .post,
                                               headers: [.contentType: "text/csv; charset=utf-8"], body: body(exampleMIDs))
            #expect(csv.status == .ok, "\(text(csv))")
            let cs = try #require(try json(csv)["samples"] as? [[String: Any]])
            let cp = try #require(cs.first?["predictions"] as? [[String: Any]])
            #expect(cp.compactMap { $0["predictor"] as? String } == ["mfa", "ann"])
            for p in cp { try expectTrueState(p) }
        }
    }

    @Test func aSampleColumnGivesOneEntryPerSample() async throws {
        let lines = exampleMIDs.split(separator: "\n")
        let table = "sample," + lines[0] + "\n" + lines.dropFirst().map { "s1,\($0)" }.joined(separator: "\n") + "\n"
            + lines.dropFirst().map { "s2,\($0)" }.joined(separator: "\n") + "\n"
        try await server().application().test(.live) { client in
            let r = try await postJSON(client, ["model": "toy", "mids": table])
            #expect(r.status == .ok, "\(text(r))")
            let samples = try #require(try json(r)["samples"] as? [[String: Any]])
            #expect(samples.compactMap { $0["sample"] as? String } == ["s1", "s2"])
            for s in samples { for p in try #require(s["predictions"] as? [[String: Any]]) { try expectTrueState(p) } }
        }
    }

    @Test func missingMIDsAreImputedAndSaidSo() async throws {
        // Leave out molF of experiment A_100: the ANN gets the PCNN imputer's completion (the
        // fastest of the toy's imputers: the test client gives up after 20 s on a loaded machine).
        let partial = exampleMIDs.split(separator: "\n").filter { !$0.hasPrefix("A_100,molF,") }.joined(separator: "\n")
        try await server().application().test(.live) { client in
            for _ in 0..<2 {   // the second request reuses the kept imputer
                let r = try await postJSON(client, ["model": "toy", "mids": partial, "imputer": "pcnn"])
                #expect(r.status == .ok, "\(text(r))")
                let samples = try #require(try json(r)["samples"] as? [[String: Any]])
                let p = try #require((samples.first?["predictions"] as? [[String: Any]])?.first)
                let notes = try #require(p["notes"] as? [String])
                #expect(notes.contains { $0.hasPrefix("mids: imputed 4 of") && $0.contains("'pcnn' imputer") }, "\(notes)")
            }
        }
    }

    @Test func badInputIsA400WithOneLine() async throws {
        let lines = exampleMIDs.split(separator: "\n").map(String.init)
        var nan = lines; nan[1] = "A_100,molB,0,nan"
        var sum = lines; sum[1] = "A_100,molB,0,0.5"
        let cases: [(String, [String: Any], String)] = [
            ("garbage", ["model": "toy", "mids": "\u{1}garbage ; not a table\n<<>>\n"], "mids"),
            ("NaN", ["model": "toy", "mids": nan.joined(separator: "\n")], "mids:2"),
            ("sum", ["model": "toy", "mids": sum.joined(separator: "\n")], "sum"),
            ("predictor", ["model": "toy", "mids": exampleMIDs, "predictors": ["oracle"]], "unknown predictor 'oracle'"),
            ("imputer", ["model": "toy", "mids": exampleMIDs, "imputer": "guess"], "unknown imputer 'guess'"),
            ("stddev", ["model": "toy", "mids": exampleMIDs, "stddev": -1], "stddev"),
            ("field", ["model": "toy"], "'mids' is missing"),
        ]
        let bodies = try cases.map { ($0.0, try JSONSerialization.data(withJSONObject: $0.1), $0.2) }
        try await server().application().test(.live) { client in
            for (what, data, expected) in bodies {
                let r = try await client.execute(uri: "/api/v1/predict", method: .post, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(bytes: data))
                #expect(r.status == .badRequest, "\(what): \(text(r))")
                let message = try #require(try json(r)["error"] as? String, "\(what)")
                #expect(!message.contains("\n") && message.contains(expected), "\(what): \(message)")
                #expect(!message.contains(NSTemporaryDirectory()) && !message.contains("mlflux-serve-"), "\(what): \(message)")
            }
            let notJSON = try await client.execute(uri: "/api/v1/predict", method: .post, headers: [.contentType: "application/json"], body: body("{model"))
            #expect(notJSON.status == .badRequest)
            let noModel = try await client.execute(uri: "/api/v1/predict", method: .post, headers: [.contentType: "text/csv"], body: body(exampleMIDs))
            #expect(noModel.status == .badRequest && text(noModel).contains("'model' is missing"))
        }
    }

    @Test func oversizeBodiesAre413AndOtherMediaTypes415() async throws {
        try await server(maxBody: 2048).application().test(.live) { client in
            let big = try await postJSON(client, ["model": "toy", "mids": exampleMIDs])   // ~3 kB
            #expect(big.status == .contentTooLarge)
            #expect((try json(big)["error"] as? String)?.contains("2048 bytes") == true, "\(text(big))")
            let page = try await client.execute(uri: "/predict", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                body: body("model=toy&mids=" + String(repeating: "x", count: 4000)))
            #expect(page.status == .contentTooLarge)
            let xml = try await client.execute(uri: "/api/v1/predict", method: .post, headers: [.contentType: "application/xml"], body: body("<a/>"))
            #expect(xml.status == .unsupportedMediaType)
            #expect((try json(xml)["error"] as? String)?.contains("application/xml") == true)
            let none = try await client.execute(uri: "/api/v1/predict", method: .post, body: body("x"))
            #expect(none.status == .unsupportedMediaType)
        }
    }

    @Test func aBusyPoolLeavesTheServerResponsiveAndRefusesMoreWith503() async throws {
        let busy = makeServer(maxBody: 4 << 20, workers: 1, queue: 0)
        let gate = DispatchSemaphore(value: 0)
        let long = Task { try await busy.service.pool.run { gate.wait(); return 1 } }   // a fit that takes long
        defer { gate.signal() }
        try await waitUntil { busy.service.pool.running == 1 }
        try await busy.application().test(.live) { client in
            let models = try await client.execute(uri: "/api/v1/models", method: .get)
            #expect(models.status == .ok)
            let r = try await postJSON(client, ["model": "toy", "mids": exampleMIDs])
            #expect(r.status == .serviceUnavailable)
            #expect((try json(r)["error"] as? String)?.contains("busy") == true, "\(text(r))")
        }
        gate.signal()
        #expect(try await long.value == 1)
    }

    @Test func openAPIDocumentListsEveryRoute() async throws {
        try await server().application().test(.live) { client in
            let r = try await client.execute(uri: "/api/v1/openapi.json", method: .get)
            #expect(r.status == .ok)
            let doc = try json(r)
            #expect((doc["openapi"] as? String)?.hasPrefix("3.0") == true)
            let paths = try #require(doc["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, ops in ops.keys.map { "\($0.uppercased()) \(path)" } })
            #expect(documented == Set(MLFluxHTTPServer.routes.map { "\($0.method) \($0.path)" }))
            // Every registered route answers (none is a 404 of the router).
            for route in MLFluxHTTPServer.routes {
                let uri = route.path.replacingOccurrences(of: "{name}", with: "toy")
                let answer = try await client.execute(uri: uri, method: route.method == "GET" ? .get : .post,
                                                      headers: [.contentType: "application/xml"], body: body("x"))
                #expect(answer.status != .notFound, "\(route)")
            }
        }
    }
}

@Suite(.serialized) struct ServerPageTests {
    /// A multipart form as a browser sends it.
    private func multipart(_ fields: [(String, String, filename: String?)], boundary: String = "----mlfluxBoundary7MA4YWxk") -> (HTTPFields, ByteBuffer) {
        var s = ""
        for (name, value, filename) in fields {
            s += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\(filename.map { "; filename=\"\($0)\"" } ?? "")\r\n"
            if filename != nil { s += "Content-Type: text/csv\r\n" }
            s += "\r\n\(value)\r\n"
        }
        s += "--\(boundary)--\r\n"
        return ([.contentType: "multipart/form-data; boundary=\(boundary)"], ByteBuffer(string: s))
    }

    @Test func indexListsModelsAndTheForm() async throws {
        try await server().application().test(.live) { client in
            let r = try await client.execute(uri: "/", method: .get)
            #expect(r.status == .ok)
            let page = text(r)
            for part in ["<option value=\"toy\">toy</option>", "/api/v1/models/toy/template", "enctype=\"multipart/form-data\"",
                         "name=\"predictor\" value=\"mfa\"", "type=\"file\" name=\"file\"", "<textarea name=\"mids\""] {
                #expect(page.contains(part), "missing \(part)")
            }
        }
    }

    @Test func uploadedFileGivesResultsSideBySideWithEscapedSampleNames() async throws {
        let lines = exampleMIDs.split(separator: "\n")
        let evil = "<script>alert(1)</script>"
        let table = "sample," + lines[0] + "\n" + lines.dropFirst().map { "\"\(evil)\",\($0)" }.joined(separator: "\n") + "\n"
        let (headers, form) = multipart([("model", "toy", nil), ("mids", "", nil), ("file", table, filename: "mids.csv"),
                                         ("predictor", "ann", nil), ("predictor", "mfa", nil), ("imputer", "", nil), ("stddev", "", nil)])
        try await server().application().test(.live) { client in
            let r = try await client.execute(uri: "/predict", method: .post, headers: headers, body: form)
            #expect(r.status == .ok, "\(text(r))")
            let page = text(r)
            #expect(!page.contains("<script>"))
            #expect(page.contains("Sample &lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(page.components(separatedBy: "<div class=\"col\">").count == 3)   // ann and mfa side by side
            #expect(page.contains("χ² test"))
            #expect(page.components(separatedBy: "<svg").count == 5)                   // a flux map and a MID plot per predictor
            // Each map draws every reaction of the toy network once (FluxMap: one group per reaction).
            for reaction in ["v1", "v2", "v3", "v4", "v5"] {
                #expect(page.components(separatedBy: "<g class=\"reaction\" data-reaction=\"\(reaction)\"").count == 3, "\(reaction)")
            }
            #expect(page.contains("_map.svg\" href=\"data:image/svg+xml"))
            #expect(page.contains("href=\"data:text/csv") && page.contains("href=\"data:application/json") && page.contains("href=\"data:image/svg+xml"))
            // The JSON download of mfa is the command line's JSON object of that prediction.
            let marker = "_mfa.json\" href=\"data:application/json;charset=utf-8,"
            let start = try #require(page.range(of: marker)).upperBound
            let encoded = page[start...].prefix { $0 != "\"" }
            let download = try #require(String(encoded).removingPercentEncoding)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(download.utf8)) as? [String: Any])
            #expect(object["predictor"] as? String == "mfa" && object["model"] as? String == "toy")
            try expectTrueState(["predictor": "mfa", "result": object])
        }
    }

    @Test func pageErrorsAreReadableWithTheirStatus() async throws {
        try await server().application().test(.live) { client in
            let (h1, f1) = multipart([("model", "<b>nope</b>", nil), ("mids", exampleMIDs, nil)])
            let unknown = try await client.execute(uri: "/predict", method: .post, headers: h1, body: f1)
            #expect(unknown.status == .notFound)
            #expect(text(unknown).contains("&lt;b&gt;nope&lt;/b&gt;") && !text(unknown).contains("<b>nope"))
            let (h2, f2) = multipart([("model", "toy", nil), ("mids", "not,a\ntable<i>", nil)])
            let bad = try await client.execute(uri: "/predict", method: .post, headers: h2, body: f2)
            #expect(bad.status == .badRequest && text(bad).contains("class=\"error\"") && !text(bad).contains("<i>"))
            let (h3, f3) = multipart([("model", "toy", nil)])
            let empty = try await client.execute(uri: "/predict", method: .post, headers: h3, body: f3)
            #expect(empty.status == .badRequest && text(empty).contains("no MID table"))
        }
    }
}

@Suite struct ServerPartsTests {
    @Test func aFullQueueRefusesAtOnce() async throws {
        let pool = WorkerPool(workers: 1, queue: 1)
        defer { pool.shutdown() }
        let gate = DispatchSemaphore(value: 0)
        defer { gate.signal(); gate.signal() }
        let first = Task { try await pool.run { gate.wait(); return 1 } }
        try await waitUntil { pool.running == 1 }
        let second = Task { try await pool.run { 2 } }          // waits in the queue
        try await waitUntil { pool.queued == 1 }
        await #expect(throws: WorkerPool.Busy.self) { try await pool.run { 3 } }
        gate.signal()
        #expect(try await first.value == 1)
        #expect(try await second.value == 2)
        #expect(try await pool.run { 4 } == 4)
    }

    @Test func sizesParse() {
        #expect(ServerConfiguration.byteCount("4MB") == 4_000_000)
        #expect(ServerConfiguration.byteCount("1MiB") == 1_048_576)
        #expect(ServerConfiguration.byteCount("512kB") == 512_000)
        #expect(ServerConfiguration.byteCount("100") == 100)
        #expect(ServerConfiguration.byteCount("lots") == nil && ServerConfiguration.byteCount("-1MB") == nil)
    }

    @Test func htmlEscapingCoversEveryMarkupCharacter() {
        #expect(HTML.escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
    }
}

/// A client's σ is part of the predictor cache's key: the cache stays bounded whatever σ
/// values clients send, and the default predictors survive the pruning.
@Suite struct ModelCacheBoundTests {
    @Test func predictorsForClientSigmasAreBounded() async throws {
        let cache = ModelCache(registry: registry())
        let entry = try await cache.entry("toy")
        _ = try await cache.predictor("mfa", of: entry, options: StrategyRegistry.Options())
        for k in 0..<(ModelCache.predictorLimit + 4) {
            var options = StrategyRegistry.Options()
            options.measurementStddev = 0.001 + Double(k) * 1e-5
            _ = try await cache.predictor("mfa", of: entry, options: options)
            #expect(await cache.cachedPredictorCount <= ModelCache.predictorLimit)
        }
        // The default predictor survived the pruning: asking again builds nothing new.
        let before = await cache.cachedPredictorCount
        _ = try await cache.predictor("mfa", of: entry, options: StrategyRegistry.Options())
        #expect(await cache.cachedPredictorCount == before)
    }
}
