import Foundation
import Testing
import TestSupport

/// `mlflux predict` with the committed toy weights on MIDs simulated from the bundle's
/// example flux state (v3 = 0.2, v2 exchange 0.5): the true fluxes lie within two of the
/// stated standard errors, predictions are mass balanced, and bad input is reported by row.
struct PredictCLITests {
    struct Flux: Decodable { var net: Double; var netSE: Double; var xch: Double?; var xchSE: Double?; var deltaG: String?; }

    func truth() throws -> [String: [String: Double]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/Plugins/toy/fluxes.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: [String: Double]]
    }

    @Test func annRecoversTrueFluxesWithinStatedErrors() throws {
        let sim = try mlflux(["simulate", "--model", "toy", "--fluxes", "Plugins/toy/fluxes.json", "--format", "csv"])
        #expect(sim.status == 0)
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("toy-mids-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: csv) }
        try sim.stdout.write(to: csv, atomically: true, encoding: .utf8)
        for predictor in ["ann", "hybrid", "mfa"] {
            let run = try mlflux(["predict", "--model", "toy", "--predictor", predictor, "--format", "json", csv.path])
            #expect(run.status == 0, "\(predictor): \(run.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            let fluxes = json["fluxes"] as! [String: [String: Any]]
            var balanceB = 0.0
            for (id, t) in try truth() {
                let f = fluxes[id]!
                let net = f["net"] as! Double, se = f["netSE"] as! Double
                #expect(abs(net - t["net"]!) <= max(2 * se, 1e-9), "\(predictor) \(id) net \(net) ± \(se) vs \(t["net"]!)")
                if let x = t["xch"], x > 0, let px = f["xch"] as? Double, let pse = f["xchSE"] as? Double {
                    #expect(abs(px - x) <= 2 * pse, "\(predictor) \(id) xch \(px) ± \(pse) vs \(x)")
                }
            }
            // molB balance: v1 − v2 − v3 − v4 = 0
            func n(_ id: String) -> Double { fluxes[id]!["net"] as! Double }
            balanceB = n("v1") - n("v2") - n("v3") - n("v4")
            #expect(abs(balanceB) < 1e-9)
        }
    }

    /// Exact MIDs with a tiny stated σ: the hybrid (MAP fit from the ANN prior) reaches the
    /// true exchange flux and ΔG far beyond the ANN's own precision.
    @Test func hybridOnExactMIDsReachesTheTruth() throws {
        let sim = try mlflux(["simulate", "--model", "toy", "--fluxes", "Plugins/toy/fluxes.json", "--format", "csv"])
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("toy-exact-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: csv) }
        try sim.stdout.write(to: csv, atomically: true, encoding: .utf8)
        let run = try mlflux(["predict", "--model", "toy", "--predictor", "hybrid", "--stddev", "1e-9", "--format", "json", csv.path])
        #expect(run.status == 0, "\(run.stderr)")
        let fluxes = (try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any])["fluxes"] as! [String: [String: Any]]
        let t = try truth()["v2"]!
        let xch = fluxes["v2"]!["xch"] as! Double, dG = fluxes["v2"]!["deltaG"] as! Double
        #expect(abs(xch - t["xch"]!) < 1e-6 * t["xch"]!, "xch \(xch) vs \(t["xch"]!)")
        // ΔG = RT ln(v_rev / v_fwd), forward = xch + net, reverse = xch (net > 0).
        let rt = 8.314462618e-3 * 310.15
        let trueDG = rt * log(t["xch"]! / (t["xch"]! + t["net"]!))
        #expect(abs(dG - trueDG) < 1e-5, "ΔG \(dG) vs \(trueDG)")
    }

    @Test func badInputNamesTheRow() throws {
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: csv) }
        try "experiment,metabolite,isotopologue,fraction\nA_100,molB,0,0.5\nA_100,molB,1,0.6\nA_100,molB,2,0\nA_100,molB,3,0\n"
            .write(to: csv, atomically: true, encoding: .utf8)
        let run = try mlflux(["predict", "--model", "toy", "--predictor", "mfa", csv.path])
        #expect(run.status != 0)
        #expect(run.stderr.contains("\(csv.path):2") && run.stderr.contains("sums to 1.1"), "\(run.stderr)")
        // Incomplete input to the ANN goes through the bundle's default imputer (knn), noted on
        // stderr; without any imputer it is an error (ImputeCLITests.missingImputerIsOneLineThenTrainingAddsOne).
        let incomplete = try mlflux(["predict", "--model", "toy", "--predictor", "ann", "--normalize", csv.path])
        #expect(incomplete.status == 0, "\(incomplete.stderr)")
        #expect(incomplete.stderr.contains("imputed 98 of 102 MID entries with the 'knn' imputer"), "\(incomplete.stderr)")
        let template = try mlflux(["template", "toy"])
        #expect(template.stdout.split(separator: "\n").count == 103)
    }

    /// A table with a `sample` column naming two samples: one prediction each, in JSON, CSV
    /// (leading sample column) and table form; both recover the example state's v3.
    @Test func severalSamplesOnePredictionEach() throws {
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("samples-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: csv) }
        let rows = try String(contentsOfFile: "Plugins/toy/example_mids.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let text = "sample,experiment,metabolite,isotopologue,fraction\n"
            + ["\"ctrl, day 1\"", "treated"].flatMap { s in rows.map { "\(s),\($0)" } }.joined(separator: "\n") + "\n"
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let json = try mlflux(["predict", "--model", "toy", "--format", "json", csv.path])
        #expect(json.status == 0, "\(json.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let samples = try #require(doc["samples"] as? [[String: Any]])
        #expect(samples.map { $0["sample"] as? String } == ["ctrl, day 1", "treated"])
        for s in samples {
            let v3 = ((s["prediction"] as? [String: Any])?["fluxes"] as? [String: [String: Any]])?["v3"]?["net"] as? Double
            #expect(v3.map { abs($0 - 0.2) < 0.01 } == true, "\(String(describing: v3))")
        }
        let table = try mlflux(["predict", "--model", "toy", "--format", "csv", csv.path])
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("sample,") == true && lines.contains { $0.hasPrefix("\"ctrl, day 1\",net,v3,") }
                && lines.contains { $0.hasPrefix("treated,net,v3,") }, "\(table.stdout)")
    }
}
