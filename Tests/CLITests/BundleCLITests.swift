import Foundation
import Testing
import TestSupport

/// Runs `mlflux args` in `directory` (not the repository root).
private func mlflux(in directory: String, _ args: [String], environment: [String: String] = [:]) throws -> Run {
    let process = try mlfluxProcess(args, environment: environment)
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    return try run(process)
}

private func temporaryFolder() throws -> String {
    let path = NSTemporaryDirectory() + "mlflux-bundle-cli-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite(.serialized) struct BundleCLITests {
    @Test func newBundleWorksFromAnotherFolderAndRefusesToOverwrite() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let toy = repositoryRoot() + "/Networks/toy.fml"
        let r = try mlflux(in: dir, ["bundle", "new", "fresh", "--network", toy, "--tracer", "molA=100", "--tracer", "molA=011",
                                     "--states", "4", "--out", "mine/fresh"])
        #expect(r.status == 0, "\(r.stderr)")
        for text in ["7 reactions (4 bidirectional)", "2 net + 1 exchange, 1 fixed", "2 experiments × 5 measured fragments",
                     "xch: v2<=100.0", "binds", "v3.net", "RESOLVED"] {
            #expect(r.stdout.contains(text), "missing '\(text)' in\n\(r.stdout)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/mine/fresh").sorted()
        #expect(files == ["fluxes.json", "manifest.json", "toy.fml", "tracers.csv"])
        // The folder is found through MLFLUX_PLUGINS from any directory, and describes itself.
        let d = try mlflux(in: NSTemporaryDirectory(), ["describe", "fresh"], environment: ["MLFLUX_PLUGINS": dir + "/mine"])
        #expect(d.status == 0 && d.stdout.contains("molA_100: molA: 100×1.0"), "\(d.stdout)\(d.stderr)")
        let again = try mlflux(in: dir, ["bundle", "new", "fresh", "--network", toy, "--out", "mine/fresh"])
        #expect(again.status != 0 && again.stderr.contains("mine/fresh: exists"), "\(again.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/mine/fresh").sorted() == files)
        let bad = try mlflux(in: dir, ["bundle", "new", "x", "--network", toy, "--tracer", "molB=100", "--out", "x"])
        #expect(bad.status != 0 && bad.stderr.contains("'molB' is not an input pool"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
    }

    @Test func checkListsEveryProblemAndFailsOnlyForABrokenBundle() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = try mlflux(["bundle", "check", "toy"])
        #expect(good.status == 0 && good.stdout.contains("no problems"), "\(good.stdout)\(good.stderr)")
        try FileManager.default.createDirectory(atPath: dir + "/plugins/bad", withIntermediateDirectories: true)
        try #"{"name": "bad", "network": "toy", "experiments": ["A_100", "nope"], "measured": ["molQ"], "exampleFluxes": "none.json"}"#
            .write(toFile: dir + "/plugins/bad/manifest.json", atomically: true, encoding: .utf8)
        let r = try mlflux(["bundle", "check", "bad"], environment: ["MLFLUX_PLUGINS": dir + "/plugins"])
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n")
        for text in ["field 'description' is missing", "field 'freeFluxes' is missing", "field 'experiments[1]': unknown experiment 'nope'",
                     "field 'measured[0]': unknown metabolite 'molQ'", "field 'exampleFluxes': file 'none.json' does not exist"] {
            #expect(lines.contains { $0.contains(text) }, "missing '\(text)' in\n\(r.stdout)")
        }
        // describe names the bundle's own problem, not "unknown model".
        let d = try mlflux(["describe", "bad"], environment: ["MLFLUX_PLUGINS": dir + "/plugins"])
        #expect(d.status != 0 && d.stderr.contains("plugins/bad/manifest.json") && !d.stderr.contains("unknown model"), "\(d.stderr)")
    }

    @Test func shippedBundlesAreFoundFromAnyDirectory() throws {
        // No ./Plugins there and no plugin path: the repository's Plugins next to the executable.
        let r = try mlflux(in: NSTemporaryDirectory(), ["describe", "toy"])
        #expect(r.status == 0 && r.stdout.hasPrefix("model toy:"), "\(r.stderr)")
    }

    @Test func modelsListsPredictorsAndImputers() throws {
        let r = try mlflux(["models"])
        #expect(r.status == 0, "\(r.stderr)")
        let header = r.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.contains("PREDICTORS") && header.contains("IMPUTERS") && header.contains("UNTRAINED"))
        let toy = r.stdout.split(separator: "\n").first { $0.hasPrefix("toy ") }.map(String.init) ?? ""
        #expect(toy.contains("ann,mfa,hybrid") && toy.contains("knn,mlp,pcnn"), "\(toy)")
        let ccm = r.stdout.split(separator: "\n").first { $0.hasPrefix("ccm ") }.map(String.init) ?? ""
        #expect(ccm.contains(" mfa ") && ccm.contains("ann,hybrid,knn,mlp,pcnn"), "\(ccm)")
        let j = try mlflux(["models", "--format", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        let bundles = object?["bundles"] as? [[String: Any]] ?? []
        let toyEntries = bundles.first { $0["name"] as? String == "toy" }?["strategies"] as? [[String: Any]] ?? []
        #expect(toyEntries.contains { $0["name"] as? String == "ann" && $0["trained"] as? Bool == true })
    }
}

@Suite(.serialized) struct BundleTrainCLITests {
    @Test func trainRunsEveryStepOnceAndRerunsOnlyWhatChanged() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let toy = repositoryRoot() + "/Networks/toy.fml"
        #expect(try mlflux(in: dir, ["bundle", "new", "t", "--network", toy, "--states", "0", "--out", "t"]).status == 0)
        let args = ["bundle", "train", dir + "/t", "--samples", "300", "--epochs", "2", "--work", dir + "/w", "--threads", "1"]
        func steps(_ r: Run) -> [String] { r.stderr.split(separator: "\n").filter { $0.hasPrefix("[") && !$0.contains(": done") }.map(String.init) }
        let first = try mlflux(in: dir, args)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(steps(first).allSatisfy { $0.contains("running") } && steps(first).count == 5, "\(steps(first))")
        #expect(FileManager.default.fileExists(atPath: dir + "/t/reports/evaluation-test.json"))
        let trained = try mlflux(["models"], environment: ["MLFLUX_PLUGINS": dir])
        #expect(trained.stdout.split(separator: "\n").contains { $0.hasPrefix("t ") && $0.contains("ann,mfa,hybrid") && $0.contains("knn") }, "\(trained.stdout)")
        let second = try mlflux(in: dir, args)
        #expect(steps(second) == ["[1/5] dataset: current, skipped", "[2/5] split: current, skipped",
                                  "[3/5] ann: current, skipped", "[4/5] imputer: current, skipped",
                                  "[5/5] evaluate: current, skipped"], "\(second.stderr)")
        let third = try mlflux(in: dir, args.dropLast(6) + ["--epochs", "3", "--work", dir + "/w", "--threads", "1"])
        #expect(steps(third).map { $0.contains("skipped") } == [true, true, false, false, false], "\(third.stderr)")
    }
}
