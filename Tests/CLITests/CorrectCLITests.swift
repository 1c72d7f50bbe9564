import Foundation
import Testing
import TestSupport

/// `mlflux correct` against IsoCor and against the simulator's natural-abundance map.
@Suite(.serialized) struct CorrectCLITests {
    let root = NSTemporaryDirectory() + "mlflux-correct-" + UUID().uuidString

    func write(_ name: String, _ text: String) throws -> String {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let path = root + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func mids(_ r: Run) throws -> [String: [String: Any]] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        var out: [String: [String: Any]] = [:]
        for m in json["mids"] as? [[String: Any]] ?? [] { out["\(m["experiment"]!) \(m["metabolite"]!)"] = m }
        return out
    }

    /// IsoCor 2.2.4 (low resolution, `-n`: natural abundance of the tracer's unlabeled positions)
    /// on its own example `isocor/data/Data_example.tsv` (raw areas of Sample_1 Fum C4H3O4 and
    /// aKG C5H5O5; Sample_3 Fum with the TMS derivative C3H9Si and `-p 0.01,0.99`), its
    /// `isotopologue_fraction` and `mean_enrichment` columns. IsoCor's L-BFGS-B stops ~1e-11 away.
    @Test func matchesIsoCorOnItsExample() throws {
        let table = try write("isocor.csv", """
            experiment,metabolite,isotopologue,fraction
            Sample_1,Fum,0,376000
            Sample_1,Fum,1,235000
            Sample_1,Fum,2,127000
            Sample_1,Fum,3,143000
            Sample_1,Fum,4,40000
            Sample_1,aKG,0,761000
            Sample_1,aKG,1,95100
            Sample_1,aKG,2,391000
            Sample_1,aKG,3,39300
            Sample_1,aKG,4,0
            Sample_1,aKG,5,0
            Sample_3,Fum_TMS,0,376000
            Sample_3,Fum_TMS,1,235000
            Sample_3,Fum_TMS,2,127000
            Sample_3,Fum_TMS,3,143000
            Sample_3,Fum_TMS,4,40000

            """)
        let r = try mlflux(["correct", table, "--normalize", "--format", "json",
                            "--fragment", "Fum=C4H3O4", "--fragment", "aKG=C5H5O5", "--fragment", "Fum_TMS=C7H12O4Si:4"])
        #expect(r.status == 0, "\(r.stderr)")
        let got = try mids(r)
        let isocor: [String: ([Double], Double)] = [
            "Sample_1 Fum": ([0.4297884611734775, 0.24655406174697497, 0.12992023443522466, 0.15300633236867098, 0.04073091027565191], 0.2820842922065112),
            "Sample_1 aKG": ([0.6298223841935454, 0.04262533246869955, 0.3076073011700619, 0.01994498216769303, 0, 0], 0.1435349762623805),
        ]
        for (key, (fractions, enrichment)) in isocor {
            let c = try #require(got[key]?["corrected"] as? [Double], "\(key) in \(r.stdout)")
            #expect(c.count == fractions.count)
            for (a, b) in zip(c, fractions) { #expect(abs(a - b) < 1e-9, "\(key): \(c) vs IsoCor \(fractions)") }
            #expect(abs((got[key]?["meanEnrichment"] as? Double ?? -1) - enrichment) < 1e-9)
        }
        // aKG: M+4, M+5 are 0 but natural abundance spills into them: IsoCor's residuum there.
        let residuum = try #require(got["Sample_1 aKG"]?["residuum"] as? [Double])
        #expect(abs(residuum[4] - -0.003679923793947941) < 1e-9, "\(residuum)")

        let purity = try mlflux(["correct", table, "--normalize", "--format", "json", "--purity", "0.99",
                                 "--fragment", "Fum_TMS=C7H12O4Si:4", "--fragment", "Fum=C4H3O4", "--fragment", "aKG=C5H5O5"])
        #expect(purity.status == 0, "\(purity.stderr)")
        let tms = try #require(try mids(purity)["Sample_3 Fum_TMS"]?["corrected"] as? [Double])
        let isocorTMS = [0.475408281177274, 0.2344671612547143, 0.10530263208864807, 0.1553482453752111, 0.029473680104152508]
        for (a, b) in zip(tms, isocorTMS) { #expect(abs(a - b) < 1e-9, "\(tms) vs IsoCor \(isocorTMS)") }
    }

    @Test func refusesWhatItCannotCorrect() throws {
        let table = try write("one.csv", "experiment,metabolite,isotopologue,fraction\nS,Fum,0,0.9\nS,Fum,1,0.1\nS,X,0,1\n")
        let badFormula = try mlflux(["correct", table, "--fragment", "Fum=C1Q"])
        #expect(badFormula.status != 0 && badFormula.stderr.contains("unknown element 'Q'"), "\(badFormula.stderr)")
        let unknown = try mlflux(["correct", table, "--fragment", "Fum=C1H3"])
        #expect(oneLineError(unknown, naming: table) && unknown.stderr.contains("unknown metabolite 'X'"), "\(unknown.stderr)")
        let fewCarbons = try mlflux(["correct", table, "--fragment", "Fum=C1H3:2", "--fragment", "X=C2"])
        #expect(fewCarbons.status != 0 && fewCarbons.stderr.contains("fewer than the 2 traced"), "\(fewCarbons.stderr)")
        let nothing = try mlflux(["correct", table])
        #expect(nothing.status != 0 && nothing.stderr.contains("--fragment"), "\(nothing.stderr)")
        let out = try write("exists.csv", "keep me")
        let clobber = try mlflux(["correct", table, "--fragment", "Fum=CH3", "--fragment", "X=O2", "--out", out])
        let kept = try String(contentsOfFile: out, encoding: .utf8)
        #expect(clobber.status != 0 && kept == "keep me", "\(clobber.stderr)")
    }

    /// A bundle whose fragments have formulas simulates uncorrected MIDs; `correct --model`
    /// turns them into the MIDs of the same bundle without formulas.
    @Test func correctUndoesTheSimulatedNaturalAbundance() throws {
        let network = try String(contentsOfFile: networkPath("toy"), encoding: .utf8)
        let fluxes = try write("fluxes.json", """
            {"v1": {"net": 1}, "v2": {"net": 0.6, "xch": 0.5}, "v3": {"net": 0.2}, "v4": {"net": 0.2},
             "v5": {"net": 0.8}, "EX_molE": {"net": 0.6}, "EX_molF": {"net": 0.8}}
            """)
        func bundle(_ name: String, formulas: Bool) throws -> String {
            let folder = root + "/" + name
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try network.write(toFile: folder + "/toy.fml", atomically: true, encoding: .utf8)
            try FileManager.default.copyItem(atPath: fluxes, toPath: folder + "/fluxes.json")
            let f12 = formulas ? #", "formula": "C8H20NOSi2""# : ""
            let d = formulas ? #"{"formula": "C5H12OSi"}"# : "{}"
            try """
                {"name": "\(name)", "description": "t", "network": "toy.fml", "experiments": ["A_100", "A_011"],
                 "measured": ["F12", "molD"], "freeFluxes": ["v1.net", "v3.net", "v2.xch"], "exampleFluxes": "fluxes.json",
                 "fragments": {"F12": {"atoms": "molF[1-2]"\(f12)}, "molD": \(d)}}
                """.write(toFile: folder + "/manifest.json", atomically: true, encoding: .utf8)
            return folder
        }
        let natural = try bundle("natural", formulas: true), pure = try bundle("pure", formulas: false)
        let described = try mlflux(["describe", natural])
        #expect(described.stdout.contains("F12 = molF[1,2], ion C8H20NOSi2 (natural abundance)"), "\(described.stdout)")
        let simulated = try mlflux(["simulate", "--model", natural, "--fluxes", fluxes, "--format", "csv"])
        #expect(simulated.status == 0, "\(simulated.stderr)")
        let table = try write("natural.csv", simulated.stdout)
        let corrected = try mlflux(["correct", table, "--model", natural, "--format", "csv"])
        #expect(corrected.status == 0, "\(corrected.stderr)")
        let truth = try mlflux(["simulate", "--model", pure, "--fluxes", fluxes, "--format", "csv"])
        func values(_ csv: String) -> [String: Double] {
            var out: [String: Double] = [:]
            for line in csv.split(separator: "\n").dropFirst() {
                let f = line.split(separator: ",").map(String.init)
                guard f.count >= 4, let v = Double(f[3]) else { continue }
                let k = f[2].hasPrefix("M+") ? String(f[2].dropFirst(2)) : f[2]
                out["\(f[0]) \(f[1]) \(k)"] = v
            }
            return out
        }
        let a = values(corrected.stdout), b = values(truth.stdout), n = values(simulated.stdout)
        #expect(a.count == 2 * (3 + 4) && Set(a.keys) == Set(b.keys), "\(a.keys.sorted()) vs \(b.keys.sorted())")
        for (k, v) in b { #expect(abs((a[k] ?? .nan) - v) < 1e-9, "\(k): corrected \(a[k] ?? .nan), pure \(v)") }
        // Natural abundance is visible before the correction (M+0 of molD drops by > 10 %).
        #expect((n["A_100 molD 0"] ?? 1) < 0.9 * (b["A_100 molD 0"] ?? 0), "\(n) vs \(b)")
    }
}
