import Foundation
import Testing
import TestSupport

/// A fresh empty folder for one CLI dataset test.
func cliScratch(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "mlflux-dataset-cli/\(name)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func fileBytes(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

let datasetFiles = ["free_fluxes.npy", "net_fluxes.npy", "exchange_fluxes.npy", "mids.npy", "dataset.json"]

/// Runs `python3 -c code`; `nil` when python3 or numpy is missing.
func python(_ code: String) -> (status: Int32, output: String)? {
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    probe.arguments = ["python3", "-c", "import numpy"]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    guard (try? probe.run()) != nil else { return nil }
    probe.waitUntilExit()
    guard probe.terminationStatus == 0 else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", code]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    guard (try? p.run()) != nil else { return nil }
    let d = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: d, as: UTF8.self))
}

@Suite(.serialized) struct DatasetCLITests {
    @Test func generateIsDeterministicAcrossThreads() throws {
        let root = cliScratch("threads")
        let a = try mlflux(["dataset", "generate", "--model", "toy", "--samples", "1500", "--seed", "5",
                            "--threads", "1", "--out", root + "/a"])
        #expect(a.status == 0, "\(a.stderr)")
        #expect(a.stdout.contains("1500 states"), "\(a.stdout)")
        #expect(a.stderr.contains("blocks"), "progress lines expected on stderr: \(a.stderr)")
        let b = try mlflux(["dataset", "generate", "--model", "toy", "--samples", "1500", "--seed", "5",
                            "--threads", "2", "--out", root + "/b"])
        #expect(b.status == 0, "\(b.stderr)")
        for f in datasetFiles { #expect(fileBytes(root + "/a/" + f) == fileBytes(root + "/b/" + f), "\(f)") }
        let c = try mlflux(["dataset", "generate", "--model", "toy", "--samples", "1500", "--seed", "6",
                            "--out", root + "/c"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(fileBytes(root + "/a/mids.npy") != fileBytes(root + "/c/mids.npy"))

        let info = try mlflux(["dataset", "info", root + "/a"])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("1500 states") && info.stdout.contains("model toy"), "\(info.stdout)")
    }

    /// `--thinning` reaches the hit-and-run sampler (glycolysis, 7 free net fluxes) and is
    /// recorded; out of range, one line.
    @Test func thinningIsUsedAndRecorded() throws {
        let root = cliScratch("thinning")
        var states: [Data] = []
        for t in ["3", "60"] {
            let r = try mlflux(["dataset", "generate", "--model", "glycolysis", "--samples", "300", "--exchange", "uniform",
                                "--thinning", t, "--seed", "2", "--out", root + "/t\(t)"])
            #expect(r.status == 0, "\(r.stderr)")
            let d = try JSONSerialization.jsonObject(with: fileBytes(root + "/t\(t)/dataset.json")) as? [String: Any]
            #expect((d?["sampler"] as? [String: Any])?["thinning"] as? Int == Int(t), "\(d ?? [:])")
            states.append(fileBytes(root + "/t\(t)/free_fluxes.npy"))
        }
        #expect(states[0] != states[1], "another thinning keeps other states")
        let bad = try mlflux(["dataset", "generate", "--model", "toy", "--samples", "10", "--thinning", "0", "--out", root + "/bad"])
        #expect(bad.status != 0 && bad.stderr.contains("--thinning"), "\(bad.stderr)")
    }

    @Test func numpyReadsTheFiles() throws {
        let root = cliScratch("numpy")
        let g = try mlflux(["dataset", "generate", "--model", "glycolysis", "--samples", "40", "--out", root])
        #expect(g.status == 0, "\(g.stderr)")
        let json = try JSONSerialization.jsonObject(with: fileBytes(root + "/dataset.json")) as? [String: Any]
        let layout = json?["layout"] as? [String: Any]
        let iso = (layout?["isotopologues"] as? [Int]) ?? []
        let width = iso.reduce(0, +) * ((layout?["experiments"] as? [Any])?.count ?? 0)
        let free = (json?["freeFluxes"] as? [Any])?.count ?? 0
        let reactions = (json?["reactions"] as? [Any])?.count ?? 0
        let code = """
            import numpy as np
            d = '\(root)'
            f = np.load(d + '/free_fluxes.npy'); n = np.load(d + '/net_fluxes.npy')
            x = np.load(d + '/exchange_fluxes.npy'); m = np.load(d + '/mids.npy')
            assert f.dtype == np.float64 and f.shape == (40, \(free)), (f.dtype, f.shape)
            assert n.dtype == np.float64 and n.shape == (40, \(reactions)), (n.dtype, n.shape)
            assert x.dtype == np.float64 and x.shape == (40, \(reactions)), (x.dtype, x.shape)
            assert m.dtype == np.float32 and m.shape == (40, \(width)), (m.dtype, m.shape)
            assert np.isfinite(m).all() and (m >= -1e-6).all()
            assert abs(m.sum() / 40 - \(iso.count * ((layout?["experiments"] as? [Any])?.count ?? 0))) < 1e-3
            print('ok')
            """
        guard let r = python(code) else { return }  // no python3/numpy: skip
        #expect(r.status == 0 && r.output.contains("ok"), "\(r.output)")
    }

    @Test func shardsMergeSplitAndResume() throws {
        let root = cliScratch("shards")
        let common = ["dataset", "generate", "--model", "toy", "--samples", "2100", "--seed", "11"]
        #expect(try mlflux(common + ["--out", root + "/all"]).status == 0)
        for i in 0..<3 {
            let r = try mlflux(common + ["--shard", "\(i)/3", "--out", root + "/s\(i)"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let m = try mlflux(["dataset", "merge", root + "/s0", root + "/s1", root + "/s2", "--out", root + "/merged"])
        #expect(m.status == 0, "\(m.stderr)")
        for f in datasetFiles { #expect(fileBytes(root + "/all/" + f) == fileBytes(root + "/merged/" + f), "\(f)") }

        let bad = try mlflux(["dataset", "merge", root + "/s0", root + "/s2", "--out", root + "/bad"])
        #expect(bad.status != 0 && bad.stderr.contains("missing shard"), "\(bad.stderr)")

        // Interrupted, then resumed: the same bytes.
        let cut = try mlflux(common + ["--stop-after-blocks", "1", "--out", root + "/cut"])
        #expect(cut.status == 0 && cut.stdout.contains("--resume"), "\(cut.stdout)\(cut.stderr)")
        let resumed = try mlflux(common + ["--resume", "--threads", "1", "--out", root + "/cut"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        for f in datasetFiles { #expect(fileBytes(root + "/all/" + f) == fileBytes(root + "/cut/" + f), "\(f)") }

        let s = try mlflux(["dataset", "split", root + "/all", "--seed", "2", "--out", root + "/split"])
        #expect(s.status == 0, "\(s.stderr)")
        #expect(s.stdout.contains("train: 1680") && s.stdout.contains("validation: 210") && s.stdout.contains("test: 210"), "\(s.stdout)")
        let info = try mlflux(["dataset", "info", root + "/split/test"])
        #expect(info.stdout.contains("split test of 2100 rows"), "\(info.stdout)")
    }

    @Test func errorsAreOneLine() throws {
        let root = cliScratch("errors")
        let r = try mlflux(["dataset", "generate", "--model", "toy", "--samples", "10", "--shard", "3/3", "--out", root])
        #expect(r.status != 0 && r.stderr.contains("--shard"), "\(r.stderr)")
        let s = try mlflux(["dataset", "generate", "--model", "toy", "--samples", "10", "--sampler", "gibbs", "--out", root])
        #expect(s.status != 0 && s.stderr.contains("hit-and-run"), "\(s.stderr)")
        let i = try mlflux(["dataset", "info", root + "/nothing"])
        #expect(i.status != 0 && i.stderr.contains("not a dataset"), "\(i.stderr)")
        try Data("junk".utf8).write(to: URL(fileURLWithPath: root + "/x.npy"))
        #expect(try mlflux(["dataset", "generate", "--model", "toy", "--samples", "10", "--out", root + "/ok"]).status == 0)
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: root + "/ok/mids.npy"))
        try h.truncate(atOffset: 200); try h.close()
        let t = try mlflux(["dataset", "info", root + "/ok"])
        #expect(t.status != 0 && t.stderr.contains("mids.npy") && t.stderr.contains("truncated"), "\(t.stderr)")
    }
}
