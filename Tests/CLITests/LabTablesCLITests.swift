import Foundation
import Testing
import TestSupport

/// Tables as labs have them, through the commands: replicates predicted one by one and
/// combined (against the replicates predicted separately and combined by hand), several
/// samples in `compare` and `impute` (against one call per sample), and IsoCor's result
/// table with a sample map (against the same MIDs in MLFlux's long form).
@Suite(.serialized) struct LabTablesCLITests {
    /// A second toy flux state (v3 = v4 = 0.25, v2 = 0.5), mass balanced like Plugins/toy/fluxes.json.
    static let otherFluxes = """
        {"v1": {"net": 1.0}, "v2": {"net": 0.5, "xch": 0.5}, "v3": {"net": 0.25, "xch": 0.0}, "v4": {"net": 0.25, "xch": 0.0},
         "v5": {"net": 0.75, "xch": 0.0}, "EX_molE": {"net": 0.75}, "EX_molF": {"net": 0.75}}
        """

    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("labtables-\(UUID().uuidString)").path

    init() throws { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The toy MIDs of Plugins/toy/fluxes.json and of `otherFluxes` (long-form CSV bodies, no
    /// header), simulated once for the suite.
    static let simulations: Result<(first: String, second: String), any Error> = Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("labtables-sim-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try otherFluxes.write(toFile: dir, atomically: true, encoding: .utf8)
        let a = try mlflux(["simulate", "--model", "toy", "--fluxes", "Plugins/toy/fluxes.json", "--format", "csv"])
        let b = try mlflux(["simulate", "--model", "toy", "--fluxes", dir, "--format", "csv"])
        guard a.status == 0, b.status == 0 else { throw CocoaError(.fileReadUnknown) }
        func body(_ s: String) -> String { s.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n" }
        return (body(a.stdout), body(b.stdout))
    }

    func simulated() throws -> (first: String, second: String) { try Self.simulations.get() }

    func json(_ r: Run) throws -> [String: Any] {
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    func net(_ prediction: [String: Any], _ id: String) throws -> (value: Double, se: Double) {
        let f = try #require((prediction["fluxes"] as? [String: [String: Any]])?[id])
        return (try #require(f["net"] as? Double), try #require(f["netSE"] as? Double))
    }

    /// `--replicates predict`: per flux the mean of the two replicates' own predictions, SD
    /// |x₁ − x₂|/√2 and SE √((SD² + (se₁² + se₂²)/2)/2).
    @Test func replicatesPredictedSeparatelyCombineByHand() throws {
        let (a, b) = try simulated()
        let header = "experiment,metabolite,isotopologue,fraction\n"
        let one = try json(try mlflux(["predict", "--model", "toy", "--format", "json", try write("a.csv", header + a)]))
        let two = try json(try mlflux(["predict", "--model", "toy", "--format", "json", try write("b.csv", header + b)]))
        func tagged(_ body: String, _ rep: String) -> String {
            body.split(separator: "\n").map { "\($0),\(rep)" }.joined(separator: "\n") + "\n"
        }
        let table = try write("reps.csv", "experiment,metabolite,isotopologue,fraction,replicate\n" + tagged(a, "r1") + tagged(b, "r2"))
        let combined = try json(try mlflux(["predict", "--model", "toy", "--replicates", "predict", "--format", "json", table]))
        let sample = try #require((combined["samples"] as? [[String: Any]])?.first)
        #expect(sample["replicates"] as? [String] == ["r1", "r2"])
        let fluxes = try #require(sample["fluxes"] as? [String: [String: Any]])
        for id in ["v2", "v3", "EX_molE"] {
            let x1 = try net(one, id), x2 = try net(two, id)
            let got = try #require(fluxes[id]?["net"] as? [String: Double])
            let sd = abs(x1.value - x2.value) / 2.0.squareRoot()
            #expect(abs(got["mean"]! - (x1.value + x2.value) / 2) < 1e-9, "\(id) \(got)")
            #expect(abs(got["sd"]! - sd) < 1e-9, "\(id) \(got)")
            #expect(abs(got["se"]! - ((sd * sd + (x1.se * x1.se + x2.se * x2.se) / 2) / 2).squareRoot()) < 1e-9, "\(id) \(got)")
        }
        // The two states differ in v3 by 0.05: the replicates' spread shows it.
        #expect(try #require((fluxes["v3"]?["net"] as? [String: Double])?["sd"]) > 0.01)
        let csv = try mlflux(["predict", "--model", "toy", "--replicates", "predict", "--format", "csv", table])
        #expect(csv.status == 0 && csv.stdout.hasPrefix("sample,quantity,reaction,mean,sd,stderr,n\n,net,v1,1,0,0,2\n"), "\(csv.stdout)")
        let bad = try mlflux(["compare", "--model", "toy", "--replicates", "predict", table])
        #expect(bad.status != 0 && bad.stderr.contains("--replicates predict is `mlflux predict`'s"), "\(bad.stderr)")
    }

    /// `compare` and `impute` on a table of two samples give each sample what a call on that
    /// sample alone gives.
    @Test func compareAndImputeOneResultPerSample() throws {
        let (a, b) = try simulated()
        func tagged(_ body: String, _ s: String) -> String { body.split(separator: "\n").map { "\(s),\($0)" }.joined(separator: "\n") + "\n" }
        let header = "experiment,metabolite,isotopologue,fraction\n"
        let both = try write("both.csv", "sample,experiment,metabolite,isotopologue,fraction\n" + tagged(a, "s1") + tagged(b, "s2"))
        let many = try mlflux(["compare", "--model", "toy", "--predictors", "ann", "--format", "csv", both])
        #expect(many.status == 0, "\(many.stderr)")
        for (sample, body) in [("s1", a), ("s2", b)] {
            let single = try mlflux(["compare", "--model", "toy", "--predictors", "ann", "--format", "csv", try write("\(sample).csv", header + body)])
            let expected = single.stdout.split(separator: "\n").dropFirst().map { "\(sample),\($0)" }
            let got = many.stdout.split(separator: "\n").filter { $0.hasPrefix(sample + ",") }.map(String.init)
            #expect(got == expected, "\(sample):\n\(many.stdout)")
        }
        // Impute: the A_010 experiment left out of s1, all of A_001 of s2.
        func without(_ body: String, _ experiment: String) -> String {
            body.split(separator: "\n").filter { !$0.hasPrefix(experiment + ",") }.joined(separator: "\n") + "\n"
        }
        let partial = try write("partial.csv", "sample,experiment,metabolite,isotopologue,fraction\n"
                                + tagged(without(a, "A_010"), "s1") + tagged(without(b, "A_001"), "s2"))
        let imputed = try mlflux(["impute", "--model", "toy", "--imputer", "knn", "--format", "csv", partial])
        #expect(imputed.status == 0, "\(imputed.stderr)")
        for (sample, body, gone) in [("s1", a, "A_010"), ("s2", b, "A_001")] {
            let single = try mlflux(["impute", "--model", "toy", "--imputer", "knn", "--format", "csv", try write("p\(sample).csv", header + without(body, gone))])
            let expected = single.stdout.split(separator: "\n").dropFirst().map { "\(sample),\($0)" }
            let got = imputed.stdout.split(separator: "\n").filter { $0.hasPrefix(sample + ",") }.map(String.init)
            #expect(got == expected && got.contains { $0.hasPrefix("\(sample),\(gone),") && $0.hasSuffix(",true") }, "\(sample):\n\(imputed.stdout)")
        }
    }

    /// The toy MIDs written as IsoCor writes its result (one IsoCor sample per experiment,
    /// metabolites in upper case), placed by a sample map: the same prediction as the long form.
    @Test func isoCorResultTablePredictsLikeTheLongForm() throws {
        let (a, _) = try simulated()
        var isocor = "sample\tmetabolite\tderivative\tisotopologue\tisotopic_inchi\tarea\tcorrected_area\tisotopologue_fraction\tresiduum\tmean_enrichment\n"
        var map = "sample,experiment\n"
        var experiments: [String] = []
        for line in a.split(separator: "\n") {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if !experiments.contains(f[0]) { experiments.append(f[0]); map += "run_\(f[0]),\(f[0])\n" }
            isocor += "run_\(f[0])\t\(f[1].uppercased())\t\t\(f[2])\t\t1000\t\(f[3])\t\(f[3])\t0\t0.5\n"
        }
        isocor += "blank\tMOLB\t\t0\t\t0\t\t\t\t\n"
        let header = "experiment,metabolite,isotopologue,fraction\n"
        let long = try json(try mlflux(["predict", "--model", "toy", "--format", "json", try write("long.csv", header + a)]))
        let run = try mlflux(["predict", "--model", "toy", "--format", "json", "--sample-map", try write("map.csv", map), try write("isocor.tsv", isocor)])
        let viaIsoCor = try json(run)
        #expect(run.stderr.contains("left out 1 sample(s)") && run.stderr.contains("'blank'"), "\(run.stderr)")
        for id in ["v2", "v3", "EX_molE"] {
            let x = try net(long, id).value, y = try net(viaIsoCor, id).value
            #expect(abs(x - y) < 1e-12, "\(id): \(x) vs \(y)")
        }
        // Without the map the six experiments cannot be told apart: one line naming file, line and column.
        let bad = try mlflux(["predict", "--model", "toy", dir + "/isocor.tsv"])
        #expect(bad.status != 0 && bad.stderr.contains("isocor.tsv:2: column 'sample': the model has experiments"), "\(bad.stderr)")
    }

    /// The toy MIDs written as INCAWrapper's MS table (intensities in counts, ×1000, with standard
    /// errors of 5 counts; fragment ids in upper case): the same prediction as the long form
    /// with σ 0.005.
    @Test func incaMSTablePredictsLikeTheLongForm() throws {
        let (a, _) = try simulated()
        var inca = "experiment_id,met_id,ms_id,measurement_replicate,labelled_atom_ids,unlabelled_atoms,mass_isotope,intensity,intensity_std_error,time\n"
        var long = "experiment,metabolite,isotopologue,fraction,stddev\n"
        for line in a.split(separator: "\n") {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let atoms = a.split(separator: "\n").filter { $0.hasPrefix("\(f[0]),\(f[1]),") }.count - 1
            let ids = (1...atoms).map(String.init).joined(separator: ", ")
            inca += "\(f[0]),\(f[1]),\(f[1].uppercased()),1,\"[\(ids)]\",C6H15Si,\(f[2]),\(Double(f[3])! * 1000),5,0\n"
            long += "\(f[0]),\(f[1]),\(f[2]),\(f[3]),0.005\n"
        }
        let expected = try json(try mlflux(["predict", "--model", "toy", "--format", "json", try write("long-sd.csv", long)]))
        let run = try mlflux(["predict", "--model", "toy", "--format", "json", try write("inca.csv", inca)])
        let viaINCA = try json(run)
        #expect(run.stderr.contains("normalised to sum 1") && run.stderr.contains("'unlabelled_atoms' not used"), "\(run.stderr)")
        for id in ["v2", "v3", "EX_molE"] {
            let x = try net(expected, id).value, y = try net(viaINCA, id).value
            #expect(abs(x - y) < 1e-9, "\(id): \(x) vs \(y)")
        }
    }
}
