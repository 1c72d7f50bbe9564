import Foundation
import Testing
import TestSupport

/// `mlflux fit` on a FluxML file with its own measurement section: the toy network with the
/// example MIDs of two experiments (molB, molD, molF) and a measured v4 net flux.
@Suite struct FitCLITests {
    /// Toy FluxML with `<measurement>` sections in A_100 and A_011 carrying the example MIDs.
    func toyWithData() throws -> String {
        let rows = try String(contentsOfFile: "\(repositoryRoot())/Plugins/toy/example_mids.csv", encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        var text = try String(contentsOfFile: networkPath("toy"), encoding: .utf8)
        for experiment in ["A_100", "A_011"] {
            var model = "", data = ""
            for pool in ["molB", "molD", "molF"] {
                let mid = rows.filter { $0[0] == experiment && $0[1] == pool }.map { Double($0[3])! }
                model += "<group id=\"ms_\(pool)\"><textual>\(pool)#M\((0..<mid.count).map(String.init).joined(separator: ","))</textual></group>"
                for (k, x) in mid.enumerated() {
                    data += "<datum id=\"ms_\(pool)\" stddev=\"0.01\" weight=\"\(k)\">\(x)</datum>"
                }
            }
            let section = """
                <measurement><model><labelingmeasurement>\(model)</labelingmeasurement>
                <fluxmeasurement><netflux id="fm_v4"><textual>v4</textual></netflux></fluxmeasurement></model>
                <data>\(data)<datum id="fm_v4" stddev="0.01">0.2</datum></data></measurement>
                """
            let head = "<configuration name=\"\(experiment)\" stationary=\"true\">"
            text = text.replacingOccurrences(of: head, with: head + section)
        }
        let path = cliScratch("fit") + "/toy-data.fml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func fitsAFluxMLFileWithItsMeasurements() throws {
        let r = try mlflux(["fit", try toyWithData(), "--starts", "4", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let fluxes = try #require(json["fluxes"] as? [String: [String: Any]])
        // The example MIDs were simulated at v3 = 0.2, v2.xch = 0.5 (Plugins/toy/fluxes.json).
        #expect(abs((fluxes["v3"]?["net"] as? Double ?? 0) - 0.2) < 1e-6)
        #expect(abs((fluxes["v2"]?["xch"] as? Double ?? 0) - 0.5) < 1e-4)
        let fit = try #require(json["fit"] as? [String: Any])
        let starts = try #require(fit["starts"] as? [[String: Any]])
        #expect(starts.count == 4)
        #expect(starts.allSatisfy { ($0["vssr"] as? Double ?? 1) < 1e-6 })
        let chi = try #require(fit["chiSquared"] as? [String: Any])
        // 2 experiments × (3 + 3 + 3) independent MID values + 1 measured flux; 2 free fluxes fitted.
        #expect(chi["measurements"] as? Int == 19 && chi["identifiable"] as? Int == 2)
    }

    /// A measured flux far outside what the constraints allow (v4 = v3 ∈ [0, 1] in the toy
    /// network) is named with its line, not fitted.
    @Test func aMeasuredFluxOutsideItsBoundsIsNamed() throws {
        let path = try toyWithData()
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "<datum id=\"fm_v4\" stddev=\"0.01\">0.2</datum>", with: "<datum id=\"fm_v4\" stddev=\"0.01\">7.5</datum>")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let r = try mlflux(["fit", path, "--starts", "2"])
        #expect(r.status != 0 && r.stdout.isEmpty)
        #expect(r.stderr.contains("\(path):") && r.stderr.contains("'fm_v4' = 7.5") && r.stderr.contains("outside its bounds"), "\(r.stderr)")
    }

    /// Contradicting flux bounds are named (an irreducible set of them), before any fit.
    @Test func infeasibleBoundsAreNamed() throws {
        let path = try toyWithData()
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "v1=1;", with: "v1=1; v5>=2;")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let r = try mlflux(["fit", path, "--starts", "2"])
        #expect(r.status != 0 && r.stdout.isEmpty)
        #expect(r.stderr.contains("v5>=2") || r.stderr.contains("v5 >= 2") || r.stderr.contains("v5≥2"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    /// Measured rates from a table on a bundle: fluxes in the rates' unit, the scale reported;
    /// a rate the network cannot have is named with file and line.
    @Test func measuredRatesOnABundle() throws {
        let dir = cliScratch("rates")
        let good = dir + "/rates.csv", bad = dir + "/bad.csv"
        try Data("reaction,value,stddev\nv1,2.5,0.05\nEX_molF,2.0,0.1\n".utf8).write(to: URL(fileURLWithPath: good))
        try Data("reaction,value,stddev\nv1,2.5,0.05\nv5,-3,0.1\n".utf8).write(to: URL(fileURLWithPath: bad))
        let r = try mlflux(["predict", "--model", "toy", "--predictor", "mfa", "--starts", "2", "--measured-fluxes", good,
                            "Plugins/toy/example_mids.csv", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let fluxes = try #require(json["fluxes"] as? [String: [String: Any]])
        // Example state: v1 = 1, EX_molF = 0.8 (relative); rates 2.5 ± 0.05 and 2.0 ± 0.1 give s = 2.5 exactly.
        #expect(abs((fluxes["v1"]?["net"] as? Double ?? 0) - 2.5) < 1e-4)
        #expect(abs((fluxes["v5"]?["net"] as? Double ?? 0) - 2.0) < 1e-4)
        let fit = try #require(json["fit"] as? [String: Any])
        #expect(((fit["scale"] as? [String: Any])?["value"] as? Double).map { abs($0 - 2.5) < 1e-4 } == true, "\(fit["scale"] ?? "")")
        let b = try mlflux(["predict", "--model", "toy", "--measured-fluxes", bad, "Plugins/toy/example_mids.csv"])
        #expect(b.status != 0 && b.stderr.contains("\(bad):3:") && b.stderr.contains("'v5'"), "\(b.stderr)")
    }

    @Test func aFileWithoutDataIsNamed() throws {
        let r = try mlflux(["fit", networkPath("toy")])
        #expect(r.status != 0 && r.stderr.contains("toy.fml") && r.stderr.contains("no labeling measurement"), "\(r.stderr)")
    }
}
