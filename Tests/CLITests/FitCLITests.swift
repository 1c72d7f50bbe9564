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

    @Test func aFileWithoutDataIsNamed() throws {
        let r = try mlflux(["fit", networkPath("toy")])
        #expect(r.status != 0 && r.stderr.contains("toy.fml") && r.stderr.contains("no labeling measurement"), "\(r.stderr)")
    }
}
