import Foundation
import Testing
import TestSupport

/// `mlflux compare` on the toy bundle's example MIDs (exact, simulated from
/// Plugins/toy/fluxes.json): every predictor side by side, the χ² verdicts, errors against
/// the truth, CSV and JSON, and the hybrid's VSSR never above the ANN's.
@Suite(.serialized) struct CompareCLITests {
    static let mids = "Plugins/toy/example_mids.csv"
    static let truth = "Plugins/toy/fluxes.json"

    @Test func tablePrintsEveryPredictorVerdictAndErrors() throws {
        let r = try mlflux(["compare", "--model", "toy", "--predictors", "ann,mfa,hybrid", "--truth", Self.truth,
                            "--threads", "1", Self.mids])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        let header = try #require(lines.first { $0.hasPrefix("FLUX") })
        for p in ["ann", "mfa", "hybrid", "TRUTH"] { #expect(header.contains(p), "\(header)") }
        for p in ["ann", "mfa", "hybrid"] {
            let summary = lines.first { $0.hasPrefix(p + " ") && ($0.contains("pass") || $0.contains("FAIL")) }
            #expect(summary != nil, "no χ² verdict for \(p) in:\n\(r.stdout)")
        }
        for text in ["VSSR", "χ² 95 % RANGE", "SECONDS", "MAX |ERR| NET", "errors (predicted − true)"] {
            #expect(r.stdout.contains(text), "missing '\(text)' in:\n\(r.stdout)")
        }
        // Net fluxes of all 7 reactions, then the exchange fluxes of the bidirectional ones.
        let fields: [[Substring]] = lines.map { $0.split(separator: " ") }
        let fluxRows = fields.filter { $0.count > 3 && ($0[1] == "net" || $0[1] == "xch") && $0.contains("±") }
        let order: [String] = fluxRows.map { "\($0[0]).\($0[1])" }
        let net: [String] = ["v1", "v2", "v3", "v4", "v5", "EX_molE", "EX_molF"].map { $0 + ".net" }
        let xch: [String] = ["v2", "v3", "v4", "v5"].map { $0 + ".xch" }
        #expect(order == net + xch, "\(r.stdout)")
    }

    @Test func jsonHasErrorsAndTheHybridGuarantee() throws {
        let r = try mlflux(["compare", "--model", "toy", "--truth", Self.truth, "--format", "json", "--threads", "1", Self.mids])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["order"] as? [String] == ["ann", "mfa", "hybrid"])
        let predictors = try #require(json["predictors"] as? [String: [String: Any]])
        let mfaErrors = try #require(predictors["mfa"]?["errors"] as? [String: Any])
        let v3 = try #require((mfaErrors["net"] as? [String: Double])?["v3"])
        #expect(abs(v3) < 1e-6, "mfa error on v3.net: \(v3)")
        let ann = try #require(predictors["ann"]?["vssr"] as? Double)
        let hybrid = try #require(predictors["hybrid"]?["vssr"] as? Double)
        #expect(hybrid <= ann, "hybrid VSSR \(hybrid) above the ANN's \(ann)")
        for p in ["ann", "mfa", "hybrid"] {
            let chi = predictors[p]?["chiSquared"] as? [String: Any]
            #expect(chi?["passes"] is Bool && chi?["degreesOfFreedom"] is Int, "\(p): \(String(describing: chi))")
            #expect((predictors[p]?["seconds"] as? Double).map { $0 >= 0 } == true)
            #expect(predictors[p]?["keptANNPrediction"] is Bool)
        }
        #expect((json["truth"] as? [String: Any])?["v2"] != nil)
    }

    /// Partial input (three of the six tracer experiments): the ANN gets the default imputer's
    /// completion, the hybrid starts from it, least squares fits what was measured; the
    /// fits recover the true net fluxes.
    @Test func partialInputRoutesThroughTheImputer() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compare-partial-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let lines = try String(contentsOfFile: Self.mids, encoding: .utf8).split(separator: "\n")
        let kept = lines.filter { line in line.hasPrefix("experiment") || ["A_100,", "A_010,", "A_001,"].contains { line.hasPrefix($0) } }
        #expect(kept.count > 1 && kept.count < lines.count)
        let partial = folder.appendingPathComponent("partial.csv").path
        try (kept.joined(separator: "\n") + "\n").write(toFile: partial, atomically: true, encoding: .utf8)
        let r = try mlflux(["compare", "--model", "toy", "--truth", Self.truth, "--format", "json", "--threads", "1", partial])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let predictors = try #require(json["predictors"] as? [String: [String: Any]])
        #expect(predictors["ann"]?["imputer"] as? String == "knn")
        #expect(predictors["hybrid"]?["imputer"] as? String == "knn")
        #expect(predictors["mfa"]?["imputer"] == nil)
        for p in ["mfa", "hybrid"] {
            let maxNet = try #require((predictors[p]?["errors"] as? [String: Any])?["maxAbsNet"] as? Double)
            #expect(maxNet < 1e-3, "\(p): max |net error| \(maxNet)")
        }
        let table = try mlflux(["compare", "--model", "toy", "--predictors", "ann", partial])
        #expect(table.status == 0 && table.stdout.contains("ann (knn)"), "\(table.stdout)\(table.stderr)")
    }

    @Test func csvIsLongFormWithTheRightColumns() throws {
        let r = try mlflux(["compare", "--model", "toy", "--predictors", "ann,mfa", "--truth", Self.truth, "--format", "csv",
                            "--threads", "1", Self.mids])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.first == ["flux", "kind", "predictor", "value", "stderr", "truth", "error"])
        #expect(rows.dropFirst().allSatisfy { $0.count == 7 })
        // 7 net fluxes + 4 exchange fluxes (v2…v5), 2 predictors each.
        #expect(rows.count == 1 + 2 * (7 + 4), "\(r.stdout)")
        let v3 = try #require(rows.first { $0[0] == "v3" && $0[1] == "net" && $0[2] == "mfa" })
        #expect(Double(v3[5]) == 0.2)
        #expect(Double(v3[6]).map { abs($0) < 1e-6 } == true, "\(v3)")
        #expect(rows.dropFirst().allSatisfy { Double($0[3]) != nil && ["ann", "mfa"].contains(String($0[2])) })

        let plain = try mlflux(["compare", "--model", "toy", "--predictors", "ann", "--format", "csv", Self.mids])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix(",,") })
    }

    @Test func unknownPredictorIsOneLineListingTheKnown() throws {
        let r = try mlflux(["compare", "--model", "toy", "--predictors", "ann,knn", Self.mids])
        #expect(r.status != 0 && r.status < 128)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(errors.count == 1, "\(r.stderr)")
        #expect(errors.first.map { $0.contains("'knn'") && $0.contains("ann, mfa, hybrid") } == true, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func outRefusesExistingFileAndTheInputs() throws {
        let dir = cliScratch("compare-out")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/out.csv"
        try "keep me".write(toFile: out, atomically: true, encoding: .utf8)
        let refused = try mlflux(["compare", "--model", "toy", "--predictors", "ann", Self.mids, "--out", out])
        #expect(refused.status != 0 && refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(fileBytes(out) == Data("keep me".utf8))
        let forced = try mlflux(["compare", "--model", "toy", "--predictors", "ann", "--format", "csv", Self.mids,
                                 "--out", out, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(String(decoding: fileBytes(out), as: UTF8.self).hasPrefix("flux,kind,predictor"))
        let truthCopy = dir + "/truth.json"
        try FileManager.default.copyItem(atPath: repositoryRoot() + "/" + Self.truth, toPath: truthCopy)
        let overTruth = try mlflux(["compare", "--model", "toy", "--predictors", "ann", "--truth", truthCopy, Self.mids,
                                    "--out", truthCopy, "--force"])
        #expect(overTruth.status != 0 && overTruth.stderr.contains("input"), "\(overTruth.stderr)")
    }
}
