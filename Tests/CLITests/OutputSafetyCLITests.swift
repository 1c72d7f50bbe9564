import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A copy of the toy bundle under a unique model name in its own plugin folder (so no test
/// can write into the repository's `Plugins/toy`), registering only `files.ann`, with an
/// unknown top-level manifest field and no `reports/` folder.
struct ScratchBundle {
    let root: String, plugins: String, folder: String, name: String
    var environment: [String: String] { ["MLFLUX_PLUGIN_PATH": plugins] }
    var weightsPath: String { folder + "/ann.safetensors" }
    var manifestPath: String { folder + "/manifest.json" }

    init(_ tag: String) throws {
        root = cliScratch("bundle-\(tag)")
        name = "toy-\(tag)-\(UUID().uuidString.prefix(8).lowercased())"
        plugins = root + "/plugins"
        folder = plugins + "/" + name
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let toy = repositoryRoot() + "/Plugins/toy"
        for f in ["ann.safetensors", "fluxes.json", "example_mids.csv"] {
            try fm.copyItem(atPath: toy + "/" + f, toPath: folder + "/" + f)
        }
        var manifest = try JSONSerialization.jsonObject(with: fileBytes(toy + "/manifest.json")) as! [String: Any]
        manifest["name"] = name
        manifest["files"] = ["ann": "ann.safetensors"]
        manifest["zzUnknown"] = ["kept": [1, 2]]
        try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: manifestPath))
    }

    /// A toy dataset of `samples` rows in this scratch folder.
    func dataset(_ samples: Int) throws -> String {
        let out = root + "/data-\(samples)"
        let r = try mlflux(["dataset", "generate", "--model", "toy", "--samples", "\(samples)", "--out", out])
        guard r.status == 0 else { throw CLITestError("dataset generate failed: \(r.stderr)") }
        return out
    }

    func run(_ args: [String]) throws -> Run { try mlflux(args, environment: environment) }
}

/// `true` when `stderr` is one `Error: …` line naming `file`, without a Foundation dump.
func oneLineError(_ r: Run, naming file: String) -> Bool {
    r.status != 0 && r.stderr.contains(file) && !r.stderr.contains("Error Domain")
        && r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count == 1
}

/// Runs `mlflux args` with writes limited to a few hundred bytes (SIGXFSZ ignored, so a
/// write fails with EFBIG): a full disk, reproducibly.
func mlfluxOnFullDisk(_ args: [String], environment: [String: String] = [:]) throws -> Run {
    let p = try mlfluxProcess(args, environment: environment)
    let binary = p.executableURL!.path
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"", binary] + args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// Starts `dataset generate` of 8 toy blocks on one thread and returns once it has written
/// its first block (so it holds the folder lock for about a second more).
func startLongGenerate(into out: String) throws -> Process {
    let p = try mlfluxProcess(["dataset", "generate", "--model", "toy", "--samples", "8192", "--threads", "1", "--out", out])
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    var seen = ""
    while !seen.contains("blocks") {
        let d = err.fileHandleForReading.availableData
        if d.isEmpty { break }
        seen += String(decoding: d, as: UTF8.self)
    }
    return p
}

func listing(_ folder: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() }

@Suite(.serialized) struct OutputSafetyCLITests {
    // MARK: Bundles: outputs stay inside, weights change only after a finished training

    @Test func reportsFolderLinkedOutsideIsRefusedByEvaluateAndTrain() throws {
        let b = try ScratchBundle("reports-link")
        let data = try b.dataset(20)
        let outside = b.root + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "precious".write(toFile: outside + "/evaluation-test.json", atomically: true, encoding: .utf8)
        try "precious".write(toFile: outside + "/ann_training.json", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: b.folder + "/reports", withDestinationPath: outside)
        let weights = fileBytes(b.weightsPath), manifest = fileBytes(b.manifestPath)

        let e = try b.run(["evaluate", "--in-place", "--model", b.name, "--data", data])
        #expect(oneLineError(e, naming: b.folder + "/reports") && e.stderr.contains("leaving the bundle"), "\(e.stderr)")
        let t = try b.run(["train", "ann", "--in-place", "--model", b.name, "--data", data, "--epochs", "1", "--hidden", "4"])
        #expect(oneLineError(t, naming: b.folder + "/reports") && t.stderr.contains("leaving the bundle"), "\(t.stderr)")

        #expect(listing(outside) == ["ann_training.json", "evaluation-test.json"])
        #expect(fileBytes(outside + "/evaluation-test.json") == Data("precious".utf8))
        #expect(fileBytes(outside + "/ann_training.json") == Data("precious".utf8))
        #expect(fileBytes(b.weightsPath) == weights && fileBytes(b.manifestPath) == manifest)
    }

    @Test func reportFileLinkedOutsideIsRefused() throws {
        let b = try ScratchBundle("report-file-link")
        let data = try b.dataset(20)
        let secret = b.root + "/secret.txt"
        try "precious".write(toFile: secret, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: b.folder + "/reports", withIntermediateDirectories: true)
        for f in ["evaluation-test.json", "ann_training.json"] {
            try FileManager.default.createSymbolicLink(atPath: b.folder + "/reports/" + f, withDestinationPath: secret)
        }
        let weights = fileBytes(b.weightsPath)
        let e = try b.run(["evaluate", "--in-place", "--model", b.name, "--data", data])
        #expect(oneLineError(e, naming: b.folder + "/reports/evaluation-test.json"), "\(e.stderr)")
        let t = try b.run(["train", "ann", "--in-place", "--model", b.name, "--data", data, "--epochs", "1", "--hidden", "4"])
        #expect(oneLineError(t, naming: b.folder + "/reports/ann_training.json"), "\(t.stderr)")
        #expect(fileBytes(secret) == Data("precious".utf8))
        #expect(fileBytes(b.weightsPath) == weights)
    }

    @Test func trainingWithoutRowsKeepsTheWeights() throws {
        let b = try ScratchBundle("no-rows")
        let weights = fileBytes(b.weightsPath), manifest = fileBytes(b.manifestPath)
        let zero = try b.run(["train", "ann", "--in-place", "--model", b.name, "--data", try b.dataset(20), "--max-samples", "0", "--epochs", "1"])
        #expect(oneLineError(zero, naming: "--max-samples"), "\(zero.stderr)")
        // One row: the 10 % validation cut takes it, nothing is left to train on.
        let one = try b.run(["train", "ann", "--in-place", "--model", b.name, "--data", try b.dataset(1), "--epochs", "1"])
        #expect(oneLineError(one, naming: b.folder) && one.stderr.contains("0 training and 1 validation"), "\(one.stderr)")
        #expect(fileBytes(b.weightsPath) == weights && fileBytes(b.manifestPath) == manifest)
        #expect(listing(b.folder) == ["ann.safetensors", "example_mids.csv", "fluxes.json", "manifest.json"])
    }

    @Test func trainingOnAFullDiskKeepsTheWeights() throws {
        let b = try ScratchBundle("full-disk")
        let data = try b.dataset(20)
        let weights = fileBytes(b.weightsPath), manifest = fileBytes(b.manifestPath)
        let t = try mlfluxOnFullDisk(["train", "ann", "--in-place", "--model", b.name, "--data", data, "--epochs", "1", "--hidden", "4"],
                                     environment: b.environment)
        #expect(oneLineError(t, naming: b.weightsPath) && t.stderr.contains("unchanged"), "\(t.stderr)")
        #expect(fileBytes(b.weightsPath) == weights && fileBytes(b.manifestPath) == manifest)
        #expect(!listing(b.folder).contains { $0.contains(".tmp-") } && !listing(b.folder + "/reports").contains { $0.contains(".tmp-") })
        let c = try mlfluxOnFullDisk(["train", "calibrate", "--in-place", "--model", b.name, "--data", data], environment: b.environment)
        #expect(oneLineError(c, naming: b.weightsPath), "\(c.stderr)")
        #expect(fileBytes(b.weightsPath) == weights)
    }

    @Test func trainingRewritesTheManifestKeepingUnknownFields() throws {
        let b = try ScratchBundle("manifest")
        let weights = fileBytes(b.weightsPath)
        let t = try b.run(["train", "ann", "--in-place", "--model", b.name, "--data", try b.dataset(20), "--epochs", "1", "--hidden", "4"])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(fileBytes(b.weightsPath) != weights)
        let m = try JSONSerialization.jsonObject(with: fileBytes(b.manifestPath)) as? [String: Any]
        #expect((m?["zzUnknown"] as? [String: Any])?["kept"] as? [Int] == [1, 2])
        #expect(m?["files"] as? [String: String] == ["ann": "ann.safetensors", "ann.training": "reports/ann_training.json"])
    }

    // MARK: Single output files: --force, never the input

    @Test func predictOutNeedsForceAndNeverReplacesItsInput() throws {
        let dir = cliScratch("predict-out")
        let input = dir + "/in.csv", out = dir + "/out.txt"
        try fileBytes(repositoryRoot() + "/Plugins/toy/example_mids.csv").write(to: URL(fileURLWithPath: input))
        let original = fileBytes(input)
        try "keep me".write(toFile: out, atomically: true, encoding: .utf8)
        let refused = try mlflux(["predict", "--model", "toy", input, "--out", out])
        #expect(oneLineError(refused, naming: out) && refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(fileBytes(out) == Data("keep me".utf8))
        let forced = try mlflux(["predict", "--model", "toy", input, "--out", out, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(String(decoding: fileBytes(out), as: UTF8.self).contains("v1"))

        try FileManager.default.createSymbolicLink(atPath: dir + "/link.csv", withDestinationPath: input)
        for same in [input, dir + "/link.csv", dir + "/./in.csv"] {
            let r = try mlflux(["predict", "--model", "toy", input, "--out", same, "--force"])
            #expect(oneLineError(r, naming: same) && r.stderr.contains("is the input file"), "\(same): \(r.stderr)")
        }
        #expect(fileBytes(input) == original)
    }

    @Test func templateOutNeedsForce() throws {
        let out = cliScratch("template-out") + "/mids.csv"
        #expect(try mlflux(["template", "toy", "--out", out]).status == 0)
        try "mine".write(toFile: out, atomically: true, encoding: .utf8)
        let refused = try mlflux(["template", "toy", "--out", out])
        #expect(oneLineError(refused, naming: out) && refused.stderr.contains("already exists"), "\(refused.stderr)")
        #expect(fileBytes(out) == Data("mine".utf8))
        #expect(try mlflux(["template", "toy", "--out", out, "--force"]).status == 0)
        #expect(String(decoding: fileBytes(out), as: UTF8.self).hasPrefix("experiment,metabolite"))
    }

    @Test func templateOnAFullDiskKeepsTheOldFile() throws {
        let dir = cliScratch("template-full")
        let out = dir + "/mids.csv"
        try "mine".write(toFile: out, atomically: true, encoding: .utf8)
        let r = try mlfluxOnFullDisk(["template", "toy", "--out", out, "--force"])
        #expect(oneLineError(r, naming: out) && r.stderr.contains("cannot be written"), "\(r.stderr)")
        #expect(fileBytes(out) == Data("mine".utf8))
        #expect(listing(dir) == ["mids.csv"])
    }

    // MARK: Dataset folders: --force, locks

    @Test func generateSplitAndMergeNeedForceToReplace() throws {
        let root = cliScratch("force")
        let gen = ["dataset", "generate", "--model", "toy", "--samples", "30"]
        #expect(try mlflux(gen + ["--seed", "1", "--out", root + "/d"]).status == 0)
        let before = fileBytes(root + "/d/mids.npy")
        let again = try mlflux(gen + ["--seed", "2", "--out", root + "/d"])
        #expect(oneLineError(again, naming: root + "/d") && again.stderr.contains("--force"), "\(again.stderr)")
        #expect(fileBytes(root + "/d/mids.npy") == before)
        #expect(try mlflux(gen + ["--seed", "2", "--force", "--out", root + "/d"]).status == 0)
        #expect(fileBytes(root + "/d/mids.npy") != before)
        #expect(try mlflux(["dataset", "info", root + "/d"]).status == 0)

        let split = ["dataset", "split", root + "/d", "--out", root + "/s"]
        #expect(try mlflux(split).status == 0)
        let train = fileBytes(root + "/s/train/rows.npy")
        let s2 = try mlflux(split + ["--seed", "9"])
        #expect(oneLineError(s2, naming: root + "/s/train") && s2.stderr.contains("--force"), "\(s2.stderr)")
        #expect(fileBytes(root + "/s/train/rows.npy") == train)
        #expect(try mlflux(split + ["--seed", "9", "--force"]).status == 0)
        #expect(fileBytes(root + "/s/train/rows.npy") != train)
        #expect(try mlflux(["dataset", "info", root + "/s/train"]).status == 0)

        let merge = ["dataset", "merge", root + "/d", "--out", root + "/m"]
        #expect(try mlflux(merge).status == 0)
        let m2 = try mlflux(merge)
        #expect(oneLineError(m2, naming: root + "/m") && m2.stderr.contains("--force"), "\(m2.stderr)")
        #expect(try mlflux(merge + ["--force"]).status == 0)
        let intoInput = try mlflux(["dataset", "merge", root + "/d", "--out", root + "/./d", "--force"])
        #expect(oneLineError(intoInput, naming: root + "/./d") && intoInput.stderr.contains("input dataset"), "\(intoInput.stderr)")
        #expect(try mlflux(["dataset", "info", root + "/d"]).status == 0)
    }

    @Test func generateOnAFullDiskIsOneLineAndResumable() throws {
        let out = cliScratch("generate-full") + "/d"
        let gen = ["dataset", "generate", "--model", "toy", "--samples", "1100", "--out", out]
        let r = try mlfluxOnFullDisk(gen)
        #expect(oneLineError(r, naming: out + "/") && r.stderr.contains("cannot be written"), "\(r.stderr)")
        #expect(!listing(out).contains("dataset.json"))
        #expect(try mlflux(gen + ["--resume"]).status == 0)
        #expect(try mlflux(["dataset", "info", out]).status == 0)
    }

    @Test func aLockedFolderIsRefused() throws {
        let out = cliScratch("locked") + "/d"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let fd = open(out, O_RDONLY)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        let gen = ["dataset", "generate", "--model", "toy", "--samples", "10", "--out", out]
        let r = try mlflux(gen)
        #expect(oneLineError(r, naming: out) && r.stderr.contains("being written by another mlflux run"), "\(r.stderr)")
        #expect(listing(out) == [])
        close(fd)
        #expect(try mlflux(gen).status == 0)
    }

    @Test func concurrentGenerateIntoOneFolder() throws {
        let out = cliScratch("concurrent") + "/d"
        let first = try startLongGenerate(into: out)
        let second = try mlflux(["dataset", "generate", "--model", "toy", "--samples", "20", "--seed", "3", "--out", out])
        first.waitUntilExit()
        // Refused: by the lock while the first runs, or (a slow machine) by its finished dataset.
        #expect(oneLineError(second, naming: out), "\(second.stderr)")
        #expect(second.stderr.contains("being written by another mlflux run") || second.stderr.contains("already holds"), "\(second.stderr)")
        #expect(first.terminationStatus == 0)
        let info = try mlflux(["dataset", "info", out])
        #expect(info.status == 0 && info.stdout.contains("8192 states"), "\(info.stdout)\(info.stderr)")
    }

    @Test func resumeAfterKillNineIsNotBlockedByTheLock() throws {
        let out = cliScratch("kill") + "/d"
        let first = try startLongGenerate(into: out)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let resumed = try mlflux(["dataset", "generate", "--model", "toy", "--samples", "8192", "--threads", "1", "--resume", "--out", out])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let info = try mlflux(["dataset", "info", out])
        #expect(info.status == 0 && info.stdout.contains("8192 states"), "\(info.stdout)\(info.stderr)")
    }
}
