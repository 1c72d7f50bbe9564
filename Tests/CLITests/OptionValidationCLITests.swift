import Foundation
import Testing
import TestSupport

/// Numeric options are checked before any work: each bad value is one `Error:` line naming
/// the option, a non-zero exit, and nothing on stdout. The values are the ones that used to
/// trap (integer overflow, huge allocations), hang, or pass silently (NaN compares false).
@Suite struct OptionValidationCLITests {
    static let mids = "Plugins/toy/example_mids.csv"
    static let data = NSTemporaryDirectory() + "mlflux-no-such-dataset"
    static let huge = "9223372036854775807"

    /// (arguments, the option the message must name)
    static let badValues: [([String], String)] = [
        (["dataset", "generate", "--model", "toy", "--out", data, "--samples", huge], "--samples"),
        (["dataset", "generate", "--model", "toy", "--out", data, "--samples", "0"], "--samples"),
        (["dataset", "generate", "--model", "toy", "--out", data, "--samples", "10", "--flatten", "v2", "--flatten-bins", huge], "--flatten-bins"),
        (["dataset", "generate", "--model", "toy", "--out", data, "--samples", "10", "--threads", "100000"], "--threads"),
        (["dataset", "generate", "--model", "toy", "--out", data, "--samples", "1000000000", "--shard", "9223372036854775806/\(huge)"], "--shard"),
        (["dataset", "generate", "--model", "toy", "--out", data, "--samples", "10", "--stop-after-blocks=-1"], "--stop-after-blocks"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--hidden", huge], "--hidden"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--hidden", "16384,16384"], "--hidden"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--hidden", "64,0"], "--hidden"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--members", "1000000"], "--members"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--epochs", huge], "--epochs"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--batch-size", huge], "--batch-size"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--batch-size", "65536", "--hidden", "16384"], "--batch-size"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--max-samples=-5"], "--max-samples"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--patience=-1"], "--patience"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--threads", "99999"], "--threads"),
        (["train", "ann", "--in-place", "--model", "toy", "--data", data, "--learning-rate", "nan"], "--learning-rate"),
        (["train", "calibrate", "--in-place", "--model", "toy", "--data", data, "--bins", huge], "--bins"),
        (["train", "calibrate", "--in-place", "--model", "toy", "--data", data, "--contexts", "0"], "--contexts"),
        (["evaluate", "--in-place", "--model", "toy", "--data", data, "--limit=-1"], "--limit"),
        (["evaluate", "--in-place", "--model", "toy", "--data", data, "--dg-tolerance", "nan"], "--dg-tolerance"),
        (["evaluate", "--in-place", "--model", "toy", "--data", data, "--restarts=-1"], "--restarts"),
        (["evaluate", "--in-place", "--model", "toy", "--data", data, "--threads", "0"], "--threads"),
        (["evaluate", "--in-place", "--model", "toy", "--data", data, "--predictor", "mfa", "--stddev", "1e-160"], "--stddev"),
        (["resolvability", "--model", "toy", "--data", data, "--limit=-3"], "--limit"),
        (["resolvability", "--model", "toy", "--data", data, "--delta-g", "inf"], "--delta-g"),
        (["resolvability", "--model", "toy", "--data", data, "--absolute", "nan"], "--absolute"),
        (["bench", "simulate", "--model", "toy", "--states", huge], "--states"),
        (["bench", "simulate", "--model", "toy", "--threads", "1000000"], "--threads"),
        (["bench", "nn", "--widths", "\(huge),3"], "--widths"),
        (["bench", "nn", "--widths", "10,x,3"], "--widths"),
        (["bench", "nn", "--batch-size=-1"], "--batch-size"),
        (["bench", "coverage", "--model", "toy", "--posterior", "--posterior-samples", "0"], "--posterior-samples"),
        (["bench", "coverage", "--model", "toy", "--posterior", "--posterior-burn-in=-1"], "--posterior-burn-in"),
        (["bench", "coverage", "--model", "toy", "--until-converged"], "--until-converged"),
        (["bench", "coverage", "--model", "toy", "--posterior", "--until-converged", "--posterior-samples", "500", "--max-posterior-samples", "100"], "--max-posterior-samples"),
        (["bench", "coverage", "--model", "toy", "--posterior", "--smc", "--importance"], "--smc"),
        (["bench", "coverage", "--model", "toy", "--posterior", "--smc", "--particles", "5"], "--particles"),
        (["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--method", "smc", "--particles", "0"], "--particles"),
        (["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--method", "smc", "--max-sweeps=-1"], "--max-sweeps"),
        (["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--method", "smc", "--max-seconds", "0"], "--max-seconds"),
        (["bench", "coverage", "--model", "toy", "--posterior", "--posterior-threads", "0"], "--posterior-threads"),
        (["train", "calibrate", "--model", "toy", "--data", "data/none", "--hybrid-rows=-1", "--out", "/tmp/none"], "--hybrid-rows"),
        (["bench", "coverage", "--model", "toy", "--posterior", "--max-seconds", "nan"], "--max-seconds"),
        (["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--history-jumps", "1.5"], "--history-jumps"),
        (["bench", "nn", "--pcnn", "1x32"], "--pcnn"),
        (["bench", "nn", "--pcnn", "0x8x8"], "--pcnn"),
        (["bench", "nn", "--pcnn", "1x16x16", "--widths", "8,8,8,8,8,8,8,8,8"], "--widths"),
        (["bench", "nn", "--pcnn", "1x256x256", "--batch-size", "4096"], "--batch-size"),
        (["bench", "predict", "--model", "toy", "--batch", huge], "--batch"),
        (["bench", "routes", "--model", "toy", "--data", data, "--imputer", "knn", "--focus", "v2", "--target", "0.05,0.04"], "--target"),
        (["bench", "routes", "--model", "toy", "--data", data, "--imputer", "knn", "--crlb-noise", "0"], "--crlb-noise"),
        (["predict", "--model", "toy", mids, "--tolerance", "nan"], "--tolerance"),
        (["predict", "--model", "toy", mids, "--tolerance=-0.1"], "--tolerance"),
        (["predict", "--model", "toy", mids, "--temperature", "0"], "--temperature"),
        (["predict", "--model", "toy", mids, "--temperature=-1"], "--temperature"),
        (["predict", "--model", "toy", mids, "--temperature", "nan"], "--temperature"),
        (["predict", "--model", "toy", mids, "--predictor", "mfa", "--stddev", "1e-160"], "--stddev"),
        (["predict", "--model", "toy", mids, "--predictor", "mfa", "--stddev", "0"], "--stddev"),
        (["predict", "--model", "toy", mids, "--predictor", "mfa", "--stddev", "inf"], "--stddev"),
        (["compare", "--model", "toy", mids, "--stddev", "0"], "--stddev"),
        (["compare", "--model", "toy", mids, "--starts", "0"], "--starts"),
        (["compare", "--model", "toy", mids, "--tolerance", "nan"], "--tolerance"),
        (["compare", "--model", "toy", mids, "--threads", "0"], "--threads"),
        (["compare", "--model", "toy", mids, "--predictors", "ann,ann"], "--predictors"),
        (["compare", "--model", "toy", mids, "--predictors", ""], "--predictors"),
        (["evaluate", "--model", "toy", "--data", data, "--noise", "nan"], "--noise"),
        (["evaluate", "--model", "toy", "--data", data, "--noise=-0.01"], "--noise"),
        (["evaluate", "--model", "toy", "--data", data, "--covariance", "sparse"], "--covariance"),
        (["evaluate", "--model", "toy", "--data", data, "--label", "../x"], "--label"),
        (["train", "ann", "--model", "toy", "--data", data, "--out", data + "-out", "--noise-range", "0,0.03"], "--noise-range"),
        (["train", "ann", "--model", "toy", "--data", data, "--out", data + "-out", "--noise-range", "0.03,0.001"], "--noise-range"),
        (["train", "ann", "--model", "toy", "--data", data, "--out", data + "-out", "--head", "full"], "--head"),
        (["train", "ann", "--model", "toy", "--data", data, "--out", data + "-out", "--features", "logs-sigma"], "--noise-range"),
    ]

    @Test(arguments: badValues)
    func badValueIsOneLineNamingTheOption(_ args: [String], _ option: String) throws {
        let r = try mlflux(args)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        #expect(r.status != 0 && r.status < 128, "exit \(r.status) (a crash is ≥ 128): \(r.stderr)")
        #expect(errors.count == 1 && errors[0].contains(option), "\(r.stderr)")
        #expect(r.stdout.isEmpty, "\(r.stdout)")
    }
}

/// Measured data that a predictor cannot use, and precise data at the σ floor: stdout holds
/// the requested output or nothing, never library chatter.
@Suite struct MeasuredDataCLITests {
    func csv(_ name: String, _ text: String) throws -> String {
        let path = cliScratch("measured") + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func exampleRows() throws -> [Substring] {
        let text = try String(contentsOfFile: repositoryRoot() + "/Plugins/toy/example_mids.csv", encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { $0 }
    }

    /// A header-only table and a blank template are errors naming the file, for every
    /// predictor (mfa used to "predict" from no measurement and exit 0).
    @Test(arguments: ["ann", "mfa", "hybrid"])
    func nothingMeasuredIsAnError(_ predictor: String) throws {
        let header = try csv("header.csv", "experiment,metabolite,isotopologue,fraction,stddev\n")
        let template = try mlflux(["template", "toy"])
        #expect(template.status == 0)
        let blank = try csv("blank.csv", template.stdout)
        for file in [header, blank] {
            let r = try mlflux(["predict", "--model", "toy", "--predictor", predictor, file, "--format", "json"])
            #expect(oneLineError(r, naming: file) && r.stderr.contains("no MID was measured"), "\(r.stderr)")
            #expect(r.stdout.isEmpty, "\(r.stdout)")
        }
    }

    /// σ = 1e-160 in the stddev column: refused, naming the file; LAPACK is never reached
    /// (it used to print 42,540 "On entry to DLASCL" lines on stdout and exit 0).
    @Test func tinyStddevColumnIsRefused() throws {
        let rows = try exampleRows().map { $0 + ",1e-160" }
        let file = try csv("tiny-sigma.csv", "experiment,metabolite,isotopologue,fraction,stddev\n" + rows.joined(separator: "\n") + "\n")
        for predictor in ["mfa", "hybrid"] {
            let r = try mlflux(["predict", "--model", "toy", "--predictor", predictor, file, "--format", "json"])
            #expect(oneLineError(r, naming: file) && r.stderr.contains("1e-160"), "\(r.stderr)")
            #expect(r.stdout.isEmpty, "\(r.stdout.prefix(300))")
            #expect(!r.stderr.contains("On entry to") && !r.stderr.contains("internal error"), "\(r.stderr.prefix(300))")
        }
    }

    /// σ at the floor (1e-12) on exact MIDs: a correct fit; stdout is exactly one JSON document.
    @Test func stddevAtTheFloorGivesParsableJSON() throws {
        let r = try mlflux(["predict", "--model", "toy", "--predictor", "mfa", "--stddev", "1e-12",
                            "Plugins/toy/example_mids.csv", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        // Exact MIDs at σ = 1e-12 fit to round-off, below the χ² range: the only stderr lines are that
        // warning and the note that the MIDs' zeros were fitted as censored.
        #expect(r.stderr.split(separator: "\n").allSatisfy {
            ($0.hasPrefix("warning:") && $0.contains("χ² test")) || ($0.hasPrefix("note:") && $0.contains("left-censored"))
        }, "\(r.stderr.prefix(300))")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let fluxes = try #require(json?["fluxes"] as? [String: [String: Any]])
        let truth = try JSONSerialization.jsonObject(with: fileBytes(repositoryRoot() + "/Plugins/toy/fluxes.json")) as! [String: [String: Any]]
        let v3 = try #require(fluxes["v3"]?["net"] as? Double), true3 = try #require(truth["v3"]?["net"] as? Double)
        #expect(abs(v3 - true3) < 1e-6, "v3 \(v3) vs \(true3)")
    }

    /// One MID of two entries (1 independent value) for 2 free fluxes: least squares refuses
    /// with one line naming the file and the counts; the hybrid (ANN prior) still runs.
    @Test func underdeterminedFitIsAnError() throws {
        let rows = try exampleRows().filter { $0.hasPrefix("A_100,molE,") }
        let file = try csv("one-mid.csv", "experiment,metabolite,isotopologue,fraction\n" + rows.joined(separator: "\n") + "\n")
        let r = try mlflux(["predict", "--model", "toy", "--predictor", "mfa", file, "--format", "json"])
        #expect(r.status != 0 && r.stdout.isEmpty, "\(r.stdout)")
        #expect(r.stderr.contains("\(file): the measurements carry 1 independent value") && r.stderr.contains("2 free parameters"), "\(r.stderr)")
        let full = try mlflux(["predict", "--model", "toy", "--predictor", "mfa", "Plugins/toy/example_mids.csv", "--format", "json"])
        #expect(full.status == 0 && !full.stderr.contains("independent value"), "\(full.stderr)")
    }
}
