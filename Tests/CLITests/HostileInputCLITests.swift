import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 12's hostile inputs that used to trap, hang, blow up or pass silently: each now
/// gets one clear line naming the file (and field or line) and a non-zero status.
@Suite struct HostileInputCLITests {
    /// A fresh copy of a 20-row toy dataset of `b` (generated once per bundle).
    func dataset(_ b: ScratchBundle) throws -> String {
        let source = b.root + "/data-20"
        if !FileManager.default.fileExists(atPath: source) { _ = try b.dataset(20) }
        let copy = b.root + "/copy-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        return copy
    }

    /// A `.npy` header whose 2-D shape is `dims`, with 16 bytes of data.
    func npy(shape dims: String) -> Data {
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + dict.utf8.count + 1) % 64 != 0 { dict += " " }
        dict += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.utf8.count & 0xff), UInt8(dict.utf8.count >> 8)]
        bytes += Array(dict.utf8) + [UInt8](repeating: 0, count: 16)
        return Data(bytes)
    }

    @Test func npyShapesThatOverflowAreRefused() throws {
        let b = try ScratchBundle("npy")
        for dims in ["9223372036854775807, 102", "4294967296, 4294967296"] {
            let data = try dataset(b)
            try npy(shape: dims).write(to: URL(fileURLWithPath: data + "/mids.npy"))
            for args in [["dataset", "info", data], ["evaluate", "--in-place", "--model", b.name, "--data", data],
                         ["train", "ann", "--in-place", "--model", b.name, "--data", data, "--epochs", "1"]] {
                let r = try b.run(args)
                #expect(oneLineError(r, naming: "mids.npy"), "\(args): \(r.stderr)")
                #expect(r.stderr.contains("needs more than"), "\(r.stderr)")
            }
        }
    }

    @Test func sidecarWithImpossibleBlockNumbersIsRefused() throws {
        let b = try ScratchBundle("sidecar")
        let data = try dataset(b)
        let path = data + "/dataset.json"
        var json = try JSONSerialization.jsonObject(with: fileBytes(path)) as! [String: Any]
        json["firstBlock"] = Int.max
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        for args in [["dataset", "info", data], ["dataset", "merge", data, "--out", b.root + "/merged"],
                     ["evaluate", "--in-place", "--model", b.name, "--data", data]] {
            let r = try b.run(args)
            #expect(oneLineError(r, naming: "dataset.json"), "\(args): \(r.stderr)")
            #expect(r.stderr.contains("field 'firstBlock'"), "\(r.stderr)")
        }
        json["firstBlock"] = "zero"
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        let r = try b.run(["dataset", "info", data])
        #expect(oneLineError(r, naming: "dataset.json") && r.stderr.contains("field 'firstBlock' must be an integer"), "\(r.stderr)")
        #expect(!r.stderr.contains("typeMismatch") && !r.stderr.contains("CodingKeys"), "\(r.stderr)")
    }

    /// Datasets with no rows, NaN or negative MIDs or NaN fluxes are refused before
    /// evaluating or training (and training leaves the weights as they were).
    @Test func datasetsWithNothingOrGarbageAreRefused() throws {
        let b = try ScratchBundle("garbage")
        let weights = fileBytes(b.weightsPath)
        func corrupt(_ file: String, float32 value: Float? = nil, float64 d: Double? = nil) throws -> String {
            let data = try dataset(b)
            let h = try #require(FileHandle(forUpdatingAtPath: data + "/" + file))
            try h.seek(toOffset: 128 + 4 * 7)
            if let value { try h.write(contentsOf: withUnsafeBytes(of: value) { Data($0) }) }
            if let d { try h.seek(toOffset: 128 + 8 * 3); try h.write(contentsOf: withUnsafeBytes(of: d) { Data($0) }) }
            try h.close()
            return data
        }
        let cases: [(String, String, String)] = [
            (try corrupt("mids.npy", float32: .nan), "mids.npy", "is not a fraction"),
            (try corrupt("mids.npy", float32: -0.25), "mids.npy", "is not a fraction"),
            (try corrupt("mids.npy", float32: 0.75), "mids.npy", "sums to"),
            (try corrupt("net_fluxes.npy", float64: .nan), "net_fluxes.npy", "not a finite number"),
        ]
        for (data, file, message) in cases {
            for args in [["evaluate", "--in-place", "--model", b.name, "--data", data], ["train", "ann", "--in-place", "--model", b.name, "--data", data, "--epochs", "1"]] {
                let r = try b.run(args)
                #expect(oneLineError(r, naming: file) && r.stderr.contains(message), "\(args): \(r.stderr)")
            }
        }
        // An empty dataset: a consistent sidecar with 0 rows and empty arrays.
        let empty = try dataset(b)
        var json = try JSONSerialization.jsonObject(with: fileBytes(empty + "/dataset.json")) as! [String: Any]
        json["produced"] = 0; json["blockRows"] = [0]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: empty + "/dataset.json"))
        for (f, cols) in [("free_fluxes.npy", "<f8"), ("net_fluxes.npy", "<f8"), ("exchange_fluxes.npy", "<f8"), ("mids.npy", "<f4")] {
            let old = fileBytes(empty + "/" + f)
            let header = String(decoding: old.prefix(128), as: UTF8.self)
            let columns = header.split(separator: "(")[1].split(separator: ")")[0].split(separator: ",")[1]
            var dict = "{'descr': '\(cols)', 'fortran_order': False, 'shape': (0,\(columns)), }"
            while (10 + dict.utf8.count + 1) % 64 != 0 { dict += " " }
            dict += "\n"
            let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.utf8.count), 0] + Array(dict.utf8)
            try Data(bytes).write(to: URL(fileURLWithPath: empty + "/" + f))
        }
        #expect(try b.run(["dataset", "info", empty]).status == 0)
        for args in [["evaluate", "--in-place", "--model", b.name, "--data", empty], ["train", "ann", "--in-place", "--model", b.name, "--data", empty, "--epochs", "1"]] {
            let r = try b.run(args)
            #expect(r.status != 0 && r.stderr.contains("0 rows"), "\(args): \(r.stderr)")
        }
        #expect(fileBytes(b.weightsPath) == weights)
    }

    @Test func brokenManifestIsReportedWhereTheModelIsNamed() throws {
        let b = try ScratchBundle("manifest")
        var json = try JSONSerialization.jsonObject(with: fileBytes(b.manifestPath)) as! [String: Any]
        json["measured"] = ["molB[1-99999999999999]"]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: b.manifestPath))
        for args in [["describe", b.name], ["predict", "--model", b.name, "Plugins/toy/example_mids.csv"]] {
            let r = try b.run(args)
            #expect(oneLineError(r, naming: "manifest.json") && r.stderr.contains("field 'measured[0]'"), "\(args): \(r.stderr)")
        }
        json.removeValue(forKey: "freeFluxes")
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: b.manifestPath))
        for args in [["describe", b.name], ["predict", "--model", b.name, "Plugins/toy/example_mids.csv"]] {
            let r = try b.run(args)
            #expect(r.status != 0 && r.stderr.contains("field 'freeFluxes' is missing") && !r.stderr.contains("unknown model"), "\(args): \(r.stderr)")
        }
    }

    /// `/dev/zero`, a FIFO and a folder are refused at once, as networks and as MID tables.
    @Test func nonRegularInputsAreRefusedAtOnce() throws {
        let dir = cliScratch("fifo")
        let fifo = dir + "/pipe"
        #expect(mkfifo(fifo, 0o600) == 0)
        for path in ["/dev/zero", fifo, dir] {
            let start = Date()
            let sim = try mlflux(["simulate", "--network", path, "--fluxes", "Plugins/toy/fluxes.json"])
            #expect(sim.status != 0 && sim.stderr.contains(path) && sim.stderr.contains("not a regular file"), "\(sim.stderr)")
            let pred = try mlflux(["predict", "--model", "toy", path])
            #expect(pred.status != 0 && pred.stderr.contains("not a regular file"), "\(pred.stderr)")
            #expect(Date().timeIntervalSince(start) < 5)
        }
    }

    /// A long table is rejected at its first bad line without being read whole; CR-only
    /// line ends are lines; a huge field is quoted short.
    @Test func midTablesAreStreamedAndQuotedShort() throws {
        let dir = cliScratch("csv")
        let long = dir + "/long.csv"
        var text = "experiment,metabolite,isotopologue,fraction\n"
        for _ in 0..<102 { text += "\n" }
        text += "A_100,molB,0,not-a-number\n"
        text += String(repeating: "A_100,molB,0,0.5\n", count: 200_000)
        try Data(text.utf8).write(to: URL(fileURLWithPath: long))
        let r = try mlflux(["predict", "--model", "toy", long])
        #expect(oneLineError(r, naming: "long.csv:104"), "\(r.stderr)")

        let crOnly = dir + "/cr.csv"
        let rows = try String(contentsOfFile: "\(repositoryRoot())/Plugins/toy/example_mids.csv", encoding: .utf8)
        try Data(rows.replacingOccurrences(of: "\n", with: "\r").utf8).write(to: URL(fileURLWithPath: crOnly))
        let cr = try mlflux(["predict", "--model", "toy", "--format", "json", crOnly])
        #expect(cr.status == 0, "\(cr.stderr)")

        let huge = dir + "/huge.csv"
        try Data(("experiment,metabolite,isotopologue,fraction\nA_100,molB,0," + String(repeating: "9", count: 30_000) + "x\n").utf8)
            .write(to: URL(fileURLWithPath: huge))
        let h = try mlflux(["predict", "--model", "toy", huge])
        #expect(oneLineError(h, naming: "huge.csv:2") && h.stderr.utf8.count < 300, "\(h.stderr.prefix(300))")
    }

    @Test func tinyStddevInATableIsRefused() throws {
        let dir = cliScratch("sigma")
        let path = dir + "/tiny.csv"
        let rows = try String(contentsOfFile: "\(repositoryRoot())/Plugins/toy/example_mids.csv", encoding: .utf8)
            .split(separator: "\n").enumerated().map { i, l in i == 0 ? "\(l),stddev" : "\(l),1e-160" }
        try Data(rows.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        let r = try mlflux(["predict", "--model", "toy", "--predictor", "mfa", "--format", "json", path])
        #expect(oneLineError(r, naming: "tiny.csv:2") && r.stderr.contains("below 1e-12"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
