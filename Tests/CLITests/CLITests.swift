import Foundation
import Testing
import TestSupport

/// Result of running the built `mlflux` binary.
struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The `mlflux` executable next to the test bundle (`.build/<config>/mlflux`), or `$MLFLUX_BIN`.
func mlfluxBinary() -> String? {
    if let env = ProcessInfo.processInfo.environment["MLFLUX_BIN"] { return env }
    var candidates: [URL] = []
    let main = Bundle.main.bundleURL
    candidates.append(main.appendingPathComponent("mlflux"))
    candidates.append(main.deletingLastPathComponent().appendingPathComponent("mlflux"))
    for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") {
        candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("mlflux"))
    }
    return candidates.map(\.path).first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Runs `mlflux args` in the repository root with an environment that sees only `./Plugins`
/// (and the plugin folders of `environment["MLFLUX_PLUGIN_PATH"]`, when given).
func mlflux(_ args: [String], environment: [String: String] = [:]) throws -> Run {
    try run(try mlfluxProcess(args, environment: environment))
}

/// Runs an unstarted process to its end, collecting its output.
func run(_ process: Process) throws -> Run {
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting so a large output cannot fill the pipe and block the child.
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
               stderr: String(decoding: e, as: UTF8.self))
}

/// An unstarted `mlflux args` process, set up as `mlflux(_:environment:)` runs it.
func mlfluxProcess(_ args: [String], environment: [String: String] = [:]) throws -> Process {
    guard let binary = mlfluxBinary() else {
        throw CLITestError("mlflux binary not found next to the test bundle; build it first (swift build) or set MLFLUX_BIN")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = args
    process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot())
    var env = ProcessInfo.processInfo.environment
    env["MLFLUX_PLUGIN_PATH"] = ""
    env["XDG_DATA_HOME"] = NSTemporaryDirectory() + "mlflux-cli-tests-none"
    env["HOME"] = NSTemporaryDirectory() + "mlflux-cli-tests-none"
    env.merge(environment) { $1 }
    process.environment = env
    return process
}

struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

@Suite(.serialized) struct CLITests {
    @Test func models() throws {
        let r = try mlflux(["models"])
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["toy", "glycolysis", "glyppp", "ccm"] {
            #expect(r.stdout.split(separator: "\n").contains { $0.hasPrefix(name + " ") }, "\(r.stdout)")
        }
        #expect(!r.stdout.contains("broken"), "\(r.stdout)")
    }

    @Test func describeToy() throws {
        let r = try mlflux(["describe", "toy"])
        #expect(r.status == 0, "\(r.stderr)")
        for text in ["molA", "v4", "molB (abc) + molC (AB) -> molD (bcA) + molE (a) + molE (B)",
                     "v1.net = 1", "A_100", "xch: v2<=100"] {
            #expect(r.stdout.contains(text), "missing '\(text)' in:\n\(r.stdout)")
        }
        let json = try mlflux(["describe", "toy", "--format", "json"])
        #expect(json.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["reactions"] as? [Any])?.count == 7)
    }

    @Test func simulateToyJSON() throws {
        let r = try mlflux(["simulate", "--model", "toy", "--fluxes", "Plugins/toy/fluxes.json",
                            "--input", "molA=100:0.5", "--input", "molA=011:0.25", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: [Double]]
        let mids = try #require(object)
        #expect(Set(mids.keys) == ["molB", "molC", "molD", "molE", "molF"])
        for (name, mid) in mids {
            #expect(abs(mid.reduce(0, +) - 1) < 1e-9, "\(name): \(mid)")
            #expect(mid.allSatisfy { $0 >= 0 }, "\(name): \(mid)")
        }
        #expect(mids["molF"]?.count == 4)
    }

    @Test func simulateAllExperimentsAndNetwork() throws {
        let all = try mlflux(["simulate", "--model", "toy", "--fluxes", "Plugins/toy/fluxes.json", "--format", "json"])
        #expect(all.status == 0, "\(all.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: [String: [Double]]]
        #expect(object?.keys.sorted() == ["A_001", "A_010", "A_011", "A_100", "A_101", "A_110"])

        let csv = try mlflux(["simulate", "--network", "Networks/toy.fml", "--fluxes", "Plugins/toy/fluxes.json",
                              "--format", "csv"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "experiment,metabolite,isotopologue,fraction")
        #expect(lines.count == 1 + 4 + 3 + 4 + 2 + 4)
    }

    @Test func badFluxFileNamesTheFile() throws {
        let dir = NSTemporaryDirectory() + "mlflux-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = dir + "/bad.json"
        try #"{"v1": {"net": 1}, "vX": {"net": 2}}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try mlflux(["simulate", "--model", "toy", "--fluxes", bad])
        #expect(r.status != 0)
        #expect(r.stderr.contains(bad) && r.stderr.contains("vX"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")

        let missing = try mlflux(["simulate", "--model", "toy", "--fluxes", dir + "/none.json"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains(dir + "/none.json"))

        let unknown = try mlflux(["describe", "nosuchmodel"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown model 'nosuchmodel'"))
    }
}
