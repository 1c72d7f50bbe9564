import Foundation
import Testing
import TestSupport

/// `mlflux posterior` on the toy example: credible intervals that contain the example state
/// the MIDs were simulated from, diagnostics per free flux, draws as .npy.
@Suite struct PosteriorCLITests {
    @Test func toyPosteriorWithDrawsFile() throws {
        let out = cliScratch("posterior") + "/draws.npy"
        let r = try mlflux(["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--stddev", "0.01",
                            "--samples", "600", "--burn-in", "600", "--threads", "2", "--out", out, "--force", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let fluxes = try #require(json["fluxes"] as? [[String: Any]])
        // The example state: v2 net 0.6, xch 0.5; v3 net 0.2 (Plugins/toy/fluxes.json).
        for (q, reaction, truth) in [("net", "v2", 0.6), ("xch", "v2", 0.5), ("net", "v3", 0.2)] {
            let row = try #require(fluxes.first { $0["quantity"] as? String == q && $0["reaction"] as? String == reaction })
            let lo = try #require(row["lower95"] as? Double), hi = try #require(row["upper95"] as? Double)
            #expect(lo <= truth && truth <= hi, "\(q) \(reaction): [\(lo), \(hi)]")
        }
        let free = try #require(json["free"] as? [[String: Any]])
        #expect(free.map { $0["name"] as? String } == ["v3.net", "v2.xch"])
        #expect(free.allSatisfy { ($0["rHat"] as? Double ?? 9) < 1.05 })
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(bytes.starts(with: [0x93] + Array("NUMPY".utf8)))
        let header = String(decoding: bytes.prefix(128), as: UTF8.self)
        #expect(header.contains("'shape': (2400, 3)"), "\(header)")
    }

    /// --until-converged doubles the run from a too-short start until R-hat ≤ 1.01 and
    /// ESS ≥ --min-ess hold for every free flux (or --max-samples is reached), saying so.
    @Test func untilConvergedDoublesUntilTheDiagnosticsPass() throws {
        let r = try mlflux(["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--stddev", "0.01", "--chains", "2",
                            "--samples", "25", "--burn-in", "25", "--until-converged", "--min-ess", "100", "--max-samples", "800",
                            "--threads", "2", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("round 1: largest R-hat"), "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let draws = try #require(json["draws"] as? Int)
        let perChain = draws / 2
        // 25 · 2^k draws per chain, capped at 800.
        #expect([50, 100, 200, 400, 800].contains(perChain), "\(perChain)")
        let free = try #require(json["free"] as? [[String: Any]])
        let converged = free.allSatisfy { ($0["rHat"] as? Double ?? 9) <= 1.01 && ($0["ess"] as? Double ?? 0) >= 100 }
        #expect(converged || perChain == 800, "\(free)")
    }

    /// --method importance: the ANN proposes, the posterior weighs — intervals that contain the
    /// example state, an effective sample size reported, no chains; --method auto keeps it
    /// when the ESS is enough, falls back to the chains when --min-ess is out of reach; a fitted
    /// flux scale (measured rates in their own unit) is refused with one line.
    @Test func importanceSamplingFromTheANN() throws {
        let r = try mlflux(["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--stddev", "0.01",
                            "--method", "importance", "--exchange-prior", "mixed", "--threads", "2", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["method"] as? String == "importance")
        let importance = try #require(json["importance"] as? [String: Any])
        #expect((importance["effectiveSampleSize"] as? Double ?? 0) > 400, "\(importance)")
        #expect(json["draws"] as? Int == 4000)
        let fluxes = try #require(json["fluxes"] as? [[String: Any]])
        for (q, reaction, truth) in [("net", "v2", 0.6), ("xch", "v2", 0.5), ("net", "v3", 0.2)] {
            let row = try #require(fluxes.first { $0["quantity"] as? String == q && $0["reaction"] as? String == reaction })
            let lo = try #require(row["lower95"] as? Double), hi = try #require(row["upper95"] as? Double)
            #expect(lo <= truth && truth <= hi, "\(q) \(reaction): [\(lo), \(hi)]")
        }
        let auto = try mlflux(["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--stddev", "0.01", "--method", "auto",
                               "--proposals", "200", "--particles", "60", "--min-ess", "100000", "--max-sweeps", "10",
                               "--samples", "200", "--burn-in", "200", "--threads", "2", "--format", "json"])
        #expect(auto.status == 0 && auto.stderr.contains("sampling by sequential Monte Carlo instead")
                && auto.stderr.contains("sampling by MCMC instead") && auto.stdout.contains("\"rHat\""), "\(auto.stderr)")
        let scaled = try mlflux(["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--method", "importance",
                                 "--measured-fluxes", "Plugins/toy/example_rates.csv"])
        #expect(scaled.status != 0 && scaled.stderr.contains("importance sampling needs"), "\(scaled.stderr)")
    }

    /// Sequential Monte Carlo from the toy ANN's proposal: the example state (exact MIDs, σ 0.01)
    /// inside its 95 % intervals, the populations agreeing, the tempering reported.
    @Test func sequentialMonteCarloFromTheANN() throws {
        let r = try mlflux(["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--stddev", "0.01",
                            "--method", "smc", "--particles", "250", "--exchange-prior", "mixed", "--threads", "2", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["method"] as? String == "smc")
        let tempering = try #require(json["tempering"] as? [String: Any])
        #expect((tempering["stages"] as? Int ?? 0) >= 1 && tempering["particles"] as? Int == 1000, "\(tempering)")
        #expect(json["draws"] as? Int == 1000)
        let free = try #require(json["free"] as? [[String: Any]])
        #expect(free.allSatisfy { ($0["rHat"] as? Double ?? 9) < 1.05 }, "\(free)")
        let fluxes = try #require(json["fluxes"] as? [[String: Any]])
        for (q, reaction, truth) in [("net", "v2", 0.6), ("xch", "v2", 0.5), ("net", "v3", 0.2)] {
            let row = try #require(fluxes.first { $0["quantity"] as? String == q && $0["reaction"] as? String == reaction })
            let lo = try #require(row["lower95"] as? Double), hi = try #require(row["upper95"] as? Double)
            #expect(lo <= truth && truth <= hi, "\(q) \(reaction): [\(lo), \(hi)]")
        }
        let few = try mlflux(["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--method", "smc", "--particles", "10"])
        #expect(few.status != 0 && few.stderr.contains("--particles"), "\(few.stderr)")
    }

    @Test func badOptionsAreOneLine() throws {
        let r = try mlflux(["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--chains", "1"])
        #expect(r.status != 0 && r.stderr.contains("--chains"), "\(r.stderr)")
        for ladder in ["0.5,1", "1,0.5,0.5", "1,x", "1,0"] {
            let l = try mlflux(["posterior", "--model", "toy", "Plugins/toy/example_mids.csv", "--ladder", ladder])
            #expect(l.status != 0 && l.stderr.contains("--ladder") && l.stderr.split(separator: "\n").count <= 3, "\(l.stderr)")
        }
    }
}
