import Foundation
import Testing
import TestSupport

/// `mlflux predict --map/--escher` and `mlflux map`: files written next to the usual output,
/// their values those of the prediction, existing files and inputs never overwritten.
@Suite struct FluxMapCLITests {
    private func folder() throws -> String {
        let path = NSTemporaryDirectory() + "mlflux-map-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func predictWritesMapAndEscherData() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mids = repositoryRoot() + "/Plugins/toy/example_mids.csv"
        let run = try mlflux(["predict", "--model", "toy", mids, "--format", "json", "--map", dir + "/m.svg", "--escher", dir + "/e.json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let fluxes = json["fluxes"] as! [String: [String: Any]]
        let escher = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/e.json"))) as! [String: Double]
        #expect(Set(escher.keys) == Set(fluxes.keys))
        for (id, f) in fluxes {
            let net = f["net"] as! Double
            #expect(abs(escher[id]! - net) <= 1e-6 * max(1, abs(net)), "\(id)")
        }
        let svg = try String(contentsOfFile: dir + "/m.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("data-reaction=\"v2\"") && svg.contains("toy: ann fluxes of"))
        // Again: refused without --force, the file untouched; the input is never an output.
        let again = try mlflux(["predict", "--model", "toy", mids, "--map", dir + "/m.svg"])
        #expect(again.status != 0 && again.stderr.contains("--force"))
        #expect(try String(contentsOfFile: dir + "/m.svg", encoding: .utf8) == svg)
        let overInput = try mlflux(["predict", "--model", "toy", mids, "--escher", mids, "--force"])
        #expect(overInput.status != 0 && overInput.stderr.contains("input"))
    }

    @Test func severalSamplesGetOneFileEach() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rows = try String(contentsOfFile: repositoryRoot() + "/Plugins/toy/example_mids.csv", encoding: .utf8)
            .split(separator: "\n")
        var table = "sample," + rows[0] + "\n"
        for s in ["wt 1", "ko/2"] { for r in rows.dropFirst() { table += "\(s),\(r)\n" } }
        try table.write(toFile: dir + "/two.csv", atomically: true, encoding: .utf8)
        let run = try mlflux(["predict", "--model", "toy", dir + "/two.csv", "--map", dir + "/m.svg"])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files == ["m-ko_2.svg", "m-wt_1.svg", "two.csv"])
    }

    @Test func mapCommandDrawsTheExampleFluxes() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try mlflux(["map", "--model", "toy", "--out", dir + "/toy.svg", "--escher", dir + "/toy.json"])
        #expect(run.status == 0, "\(run.stderr)")
        let escher = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/toy.json"))) as! [String: Double]
        // Plugins/toy/fluxes.json: v2 0.6, v3 0.2.
        #expect(escher["v2"] == 0.6 && escher["v3"] == 0.2)
        let svg = try String(contentsOfFile: dir + "/toy.svg", encoding: .utf8)
        #expect(svg.contains("toy: example fluxes"))
    }
}
