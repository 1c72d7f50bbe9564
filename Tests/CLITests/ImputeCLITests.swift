import Foundation
import Testing
import TestSupport

/// `mlflux impute`, `predict --imputer` and `train imputer` on the toy bundle: MIDs simulated
/// from the bundle's example flux state, with only some experiments' rows kept.
struct ImputeCLITests {
    /// The simulated long-form table of the example state, and the same keeping only `experiments`.
    func tables(keeping experiments: Set<String>) throws -> (full: [String], partial: URL) {
        let sim = try mlflux(["simulate", "--model", "toy", "--fluxes", "Plugins/toy/fluxes.json", "--format", "csv"])
        guard sim.status == 0 else { throw CLITestError(sim.stderr) }
        let lines = sim.stdout.split(separator: "\n").map(String.init)
        let kept = [lines[0]] + lines.dropFirst().filter { experiments.contains(String($0.split(separator: ",")[0])) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("toy-partial-\(UUID().uuidString).csv")
        try (kept.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return (lines, url)
    }

    struct Document: Decodable {
        struct Entry: Decodable { var experiment: String; var metabolite: String; var isotopologue: Int; var fraction: Double; var imputed: Bool }
        var imputer: String
        var imputedEntries: Int
        var mids: [Entry]
    }

    @Test(arguments: ["knn", "mlp"])
    func imputeKeepsMeasuredEntriesAndCompletesTheRest(_ imputer: String) throws {
        let (full, partial) = try tables(keeping: ["A_100", "A_011"])
        defer { try? FileManager.default.removeItem(at: partial) }
        let run = try mlflux(["impute", "--model", "toy", "--imputer", imputer, "--format", "json", partial.path])
        #expect(run.status == 0, "\(run.stderr)")
        let doc = try JSONDecoder().decode(Document.self, from: Data(run.stdout.utf8))
        #expect(doc.imputer == imputer && doc.mids.count == 102 && doc.imputedEntries == 68)
        var truth: [String: Double] = [:]
        for line in full.dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            truth["\(f[0]) \(f[1]) \(f[2].replacingOccurrences(of: "M+", with: ""))"] = Double(f[3])!
        }
        var sums: [String: Double] = [:], error = 0.0
        for e in doc.mids {
            let key = "\(e.experiment) \(e.metabolite) \(e.isotopologue)"
            #expect(e.imputed == !["A_100", "A_011"].contains(e.experiment))
            if e.imputed {
                sums["\(e.experiment) \(e.metabolite)", default: 0] += e.fraction
                error += abs(e.fraction - truth[key]!)
                #expect(e.fraction >= 0)
            } else {
                #expect(abs(e.fraction - truth[key]!) < 1e-6, "\(key) changed")
            }
        }
        #expect(sums.count == 20 && sums.values.allSatisfy { abs($0 - 1) < 1e-5 })
        #expect(error / 68 < 0.02, "\(imputer): mean imputation error \(error / 68)")
        let table = try mlflux(["impute", "--model", "toy", "--imputer", imputer, partial.path])
        #expect(table.status == 0 && table.stdout.contains("68 of 102 MID entries imputed") && table.stdout.contains("imputed (\(imputer))"))
    }

    @Test func predictWithAnImputerAndByDefault() throws {
        let (_, partial) = try tables(keeping: ["A_100", "A_010", "A_001"])
        defer { try? FileManager.default.removeItem(at: partial) }
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/Plugins/toy/fluxes.json"))) as! [String: [String: Double]]
        for args in [["--predictor", "ann", "--imputer", "knn"], ["--predictor", "ann", "--imputer", "mlp"], ["--predictor", "ann"], []] {
            let run = try mlflux(["predict", "--model", "toy", "--format", "json"] + args + [partial.path])
            #expect(run.status == 0, "\(args): \(run.stderr)")
            // By default incomplete input goes to the hybrid, started from the default imputer.
            let note = args.isEmpty ? "the hybrid starts from the ANN on the 'knn' imputer's completion" : "imputed 51 of 102 MID entries"
            #expect(run.stderr.contains(note), "\(run.stderr)")
            let fluxes = (try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any])["fluxes"] as! [String: [String: Any]]
            for id in ["v3", "v4"] {
                let net = fluxes[id]!["net"] as! Double
                #expect(abs(net - truth[id]!["net"]!) < 0.05, "\(args) \(id) net \(net) vs \(truth[id]!["net"]!)")
            }
        }
    }

    @Test func unknownImputerListsTheKnownOnes() throws {
        let (_, partial) = try tables(keeping: ["A_100"])
        defer { try? FileManager.default.removeItem(at: partial) }
        for command in ["predict", "impute"] {
            let run = try mlflux([command, "--model", "toy", "--imputer", "pcn", partial.path])
            #expect(run.status != 0)
            #expect(run.stderr.contains("unknown imputer 'pcn'; known: knn, mlp, pcnn"), "\(command): \(run.stderr)")
        }
    }

    /// A bundle without imputers: incomplete input to the ANN is one line naming what is missing
    /// and the ways out; `train imputer` then adds one and the same call succeeds.
    @Test func missingImputerIsOneLineThenTrainingAddsOne() throws {
        let bundle = try ScratchBundle("impute")
        defer { try? FileManager.default.removeItem(atPath: bundle.root) }
        let (_, partial) = try tables(keeping: ["A_100"])
        defer { try? FileManager.default.removeItem(at: partial) }
        let fail = try bundle.run(["predict", "--model", bundle.name, partial.path])
        #expect(fail.status != 0)
        let lines = fail.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(fail.stderr)")
        #expect(fail.stderr.contains("85 of 102 MID entries are missing") && fail.stderr.contains("A_010 molB")
                && fail.stderr.contains("--imputer") && fail.stderr.contains("--predictor mfa"), "\(fail.stderr)")
        let data = try bundle.dataset(600)
        let train = try bundle.run(["train", "imputer", "--kind", "knn", "--model", bundle.name, "--data", data, "--k", "3", "--in-place"])
        #expect(train.status == 0, "\(train.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle.manifestPath))) as! [String: Any]
        #expect((manifest["files"] as! [String: String])["imputer.knn"] == "imputers/knn.safetensors")
        let ok = try bundle.run(["predict", "--model", bundle.name, partial.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        let eval = try bundle.run(["evaluate", "--model", bundle.name, "--data", data, "--limit", "40", "--imputer", "knn",
                                   "--keep-experiments", "1-3", "--keep-metabolites", "0.5", "--noise", "0.005", "--label", "t",
                                   "--in-place"])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("imputer knn: 40 patterns") && eval.stdout.contains("imputation MAE"), "\(eval.stdout)")
        #expect(FileManager.default.fileExists(atPath: bundle.folder + "/reports/imputation-t.json"))
        // Accuracy by masked share: a table and a line plot with one point per band.
        #expect(eval.stdout.contains("ALL NET WITHIN 5%"), "\(eval.stdout)")
        let plot = try String(contentsOfFile: bundle.folder + "/reports/masked-share-t.svg", encoding: .utf8)
        #expect(plot.contains("<svg") && plot.contains("MID entries hidden (%)") && plot.contains("<circle"))
        let noImputer = try bundle.run(["evaluate", "--model", bundle.name, "--data", data, "--keep-experiments", "1"])
        #expect(noImputer.status != 0 && noImputer.stderr.contains("--imputer"), "\(noImputer.stderr)")
        let mlp = try bundle.run(["train", "imputer", "--kind", "mlp", "--model", bundle.name, "--data", data,
                                  "--width", "8", "--hidden", "8", "--blocks", "1", "--epochs", "1", "--out", bundle.root + "/mlp.safetensors"])
        #expect(mlp.status == 0, "\(mlp.stderr)")
        #expect(FileManager.default.fileExists(atPath: bundle.root + "/mlp.safetensors"))
        let pcnn = try bundle.run(["train", "imputer", "--kind", "pcnn", "--model", bundle.name, "--data", data, "--in-place",
                                   "--widths", "4,8", "--epochs", "1", "--batch-size", "32"])
        // Neither --out nor --in-place: refused, the bundle untouched.
        let neither = try bundle.run(["train", "imputer", "--kind", "knn", "--model", bundle.name, "--data", data])
        #expect(neither.status != 0 && neither.stderr.contains("--in-place"), "\(neither.stderr)")
        #expect(pcnn.status == 0, "\(pcnn.stderr)")
        let files = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle.manifestPath))) as! [String: Any])["files"] as! [String: String]
        #expect(files["imputer.pcnn"] == "imputers/pcnn.safetensors" && files["imputer.pcnn.training"] == "reports/imputer_pcnn_training.json")
        let filled = try bundle.run(["impute", "--model", bundle.name, "--imputer", "pcnn", "--format", "csv", partial.path])
        #expect(filled.status == 0, "\(filled.stderr)")
        let badKernel = try bundle.run(["train", "imputer", "--kind", "pcnn", "--model", bundle.name, "--data", data, "--in-place", "--kernel-size", "4"])
        #expect(badKernel.status != 0 && badKernel.stderr.contains("--kernel-size"), "\(badKernel.stderr)")
    }
}
