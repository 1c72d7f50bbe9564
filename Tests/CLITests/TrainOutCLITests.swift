import Foundation
import Testing
import TestSupport

/// Training and evaluation leave bundles alone unless told `--in-place` (issue 14, item 6);
/// `--version`; `predict --format json` records the version and the bundle's SHA-256.
@Suite(.serialized) struct TrainOutCLITests {
    @Test func trainNeedsOutOrInPlaceAndOutMakesAStandaloneBundle() throws {
        let b = try ScratchBundle("train-out")
        let data = try b.dataset(40)
        let before = listing(b.folder), weights = fileBytes(b.weightsPath), manifest = fileBytes(b.manifestPath)

        let neither = try b.run(["train", "ann", "--model", b.name, "--data", data, "--epochs", "1", "--hidden", "4"])
        #expect(neither.status != 0 && neither.stderr.contains("--out") && neither.stderr.contains("--in-place"), "\(neither.stderr)")
        let both = try b.run(["train", "ann", "--model", b.name, "--data", data, "--epochs", "1", "--hidden", "4", "--in-place", "--out", b.root + "/x"])
        #expect(both.status != 0 && both.stderr.contains("exclude"), "\(both.stderr)")

        let out = b.root + "/new-bundle"
        let t = try b.run(["train", "ann", "--model", b.name, "--data", data, "--epochs", "1", "--hidden", "4",
                           "--noise-range", "0.001,0.03", "--out", out])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(listing(b.folder) == before && fileBytes(b.weightsPath) == weights && fileBytes(b.manifestPath) == manifest,
                "the model's own bundle is untouched")
        #expect(listing(out) == ["ann.safetensors", "fluxes.json", "manifest.json", "reports", "toy.fml"])
        // The new bundle stands alone: found by path from any folder, without the repository's Networks/.
        let p = try mlflux(["predict", "--model", out, "--format", "json", "--stddev", "0.005", repositoryRoot() + "/Plugins/toy/example_mids.csv"])
        #expect(p.status == 0, "\(p.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [String: Any]
        let version = try mlflux(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(json?["version"] as? String == version)
        let hash = json?["bundleSHA256"] as? String ?? ""
        #expect(hash.count == 64 && hash.allSatisfy { "0123456789abcdef".contains($0) }, "\(hash)")
        #expect((json?["freeCovariance"] as? [[Double]])?.count == 3, "the ANN states a covariance of the 3 free fluxes")

        // The fingerprint follows the weights: recalibrating into another bundle changes it.
        let cal = b.root + "/calibrated"
        let c = try b.run(["train", "calibrate", "--model", out, "--data", data, "--out", cal])
        #expect(c.status == 0, "\(c.stderr)")
        let p2 = try mlflux(["predict", "--model", cal, "--format", "json", repositoryRoot() + "/Plugins/toy/example_mids.csv"])
        let hash2 = (try JSONSerialization.jsonObject(with: Data(p2.stdout.utf8)) as? [String: Any])?["bundleSHA256"] as? String
        #expect(hash2 != nil && hash2 != hash)
        // The weights record what they were calibrated on without this machine's paths.
        let header = try safetensorsMetadata(cal + "/ann.safetensors")
        let provenance = header["calibrated_on"] ?? ""
        #expect(provenance.contains("40 states of toy") && provenance.contains("seed") && !provenance.contains(b.root), "\(provenance)")

        let again = try b.run(["train", "ann", "--model", b.name, "--data", data, "--epochs", "1", "--hidden", "4", "--out", out])
        #expect(oneLineError(again, naming: out) && again.stderr.contains("exists"), "\(again.stderr)")
    }

    @Test func evaluateWritesOnlyWhereTold() throws {
        let b = try ScratchBundle("evaluate-out")
        let data = try b.dataset(30)
        let before = listing(b.folder)
        let plain = try b.run(["evaluate", "--model", b.name, "--data", data, "--noise", "0.01", "--mask-seed", "3"])
        #expect(plain.status == 0 && plain.stdout.contains("noise σ 0.01 (seed 3)"), "\(plain.stderr)")
        #expect(listing(b.folder) == before, "no flag: nothing written")
        let reports = b.root + "/reports-out"
        let e = try b.run(["evaluate", "--model", b.name, "--data", data, "--label", "n01", "--out", reports, "--noise", "0.01"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(listing(reports) == ["evaluation-n01.json", "parity-n01-dg.svg", "parity-n01-net.svg", "parity-n01-xch.svg"])
        #expect(listing(b.folder) == before)
        let twice = try b.run(["evaluate", "--model", b.name, "--data", data, "--label", "n01", "--out", reports])
        #expect(twice.status != 0 && twice.stderr.contains("--force"), "\(twice.stderr)")
        // The same noise seed gives the same report (figures reproducible by command).
        let first = fileBytes(reports + "/evaluation-n01.json")
        let again = try b.run(["evaluate", "--model", b.name, "--data", data, "--label", "n01", "--out", reports, "--noise", "0.01", "--force"])
        #expect(again.status == 0 && fileBytes(reports + "/evaluation-n01.json") == first)
    }

    /// `train calibrate --conditional-shape quantiles` stores the head (metadata `error_shape`)
    /// and every prediction then states its own asymmetric intervals; options out of range
    /// give one line.
    @Test func calibrateWithAConditionalShape() throws {
        let b = try ScratchBundle("cond-shape")
        let data = try b.dataset(300)
        let cal = b.root + "/shaped"
        let c = try b.run(["train", "calibrate", "--model", b.name, "--data", data, "--conditional-shape", "quantiles",
                           "--shape-epochs", "2", "--out", cal])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.contains("conditional error shape (quantiles, pinball loss): 2 epochs"), "\(c.stdout)")
        #expect(c.stderr.contains("conditional error shape: epoch 2/2"), "progress per epoch on stderr: \(c.stderr)")
        let header = try safetensorsMetadata(cal + "/ann.safetensors")
        #expect(header["error_shape"]?.contains("\"kind\":\"quantiles\"") == true, "\(header["error_shape"] ?? "none")")
        let p = try mlflux(["predict", "--model", cal, "--format", "json", "--stddev", "0.01", repositoryRoot() + "/Plugins/toy/example_mids.csv"])
        #expect(p.status == 0, "\(p.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [String: Any]
        let intervals = json?["freeIntervals"] as? [String: [String: Double]] ?? [:]
        #expect(intervals.count == 2, "both free fluxes get the head's intervals: \(intervals)")
        for (flux, i) in intervals {
            let (l95, l68, u68, u95) = (i["lower95"] ?? .nan, i["lower68"] ?? .nan, i["upper68"] ?? .nan, i["upper95"] ?? .nan)
            #expect(l95 < l68 && l68 < u68 && u68 < u95, "\(flux): \(i)")
        }
        for bad in [["--shape-components", "0"], ["--shape-epochs", "0"]] {
            let r = try b.run(["train", "calibrate", "--model", b.name, "--data", data, "--out", b.root + "/x"] + bad)
            #expect(r.status != 0 && r.stderr.contains(bad[0]) && r.stderr.split(separator: "\n").count <= 3, "\(bad): \(r.stderr)")
        }
        let unknown = try b.run(["train", "calibrate", "--model", b.name, "--data", data, "--out", b.root + "/x", "--conditional-shape", "flow"])
        #expect(unknown.status != 0 && unknown.stderr.contains("'flow'") && unknown.stderr.contains("--conditional-shape"), "\(unknown.stderr)")
    }

    /// `--hybrid-rows`: the hybrid's own map is fitted, written and read by `predict`;
    /// recalibrating without the option drops it (it was fitted on the old σ).
    @Test func calibrateWithTheHybridsMap() throws {
        let b = try ScratchBundle("hybrid-map")
        let data = try b.dataset(300)
        let cal = b.root + "/hybrid"
        let c = try b.run(["train", "calibrate", "--model", b.name, "--data", data, "--hybrid-rows", "60", "--threads", "2", "--out", cal])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.contains("hybrid SE factors on 60 rows"), "\(c.stdout)")
        #expect(try safetensorsMetadata(cal + "/ann.safetensors")["hybrid_calibration"]?.contains("\"exchange\"") == true)
        let p = try mlflux(["predict", "--model", cal, "--predictor", "hybrid", "--stddev", "0.01", repositoryRoot() + "/Plugins/toy/example_mids.csv"])
        #expect(p.status == 0 && p.stdout.contains("v2"), "\(p.stderr)")
        let again = b.root + "/again"
        let r = try b.run(["train", "calibrate", "--model", cal, "--data", data, "--out", again])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try safetensorsMetadata(again + "/ann.safetensors")["hybrid_calibration"] == nil)
    }

    @Test func versionFlag() throws {
        let r = try mlflux(["--version"])
        let v = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(r.status == 0 && v.split(separator: ".").count == 3 && v.split(separator: ".").allSatisfy { Int($0) != nil }, "\(v)")
    }
}

/// The `__metadata__` map of a safetensors file (8-byte little-endian header length, JSON header).
private func safetensorsMetadata(_ path: String) throws -> [String: String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let n = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
    let json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any]
    return json?["__metadata__"] as? [String: String] ?? [:]
}
