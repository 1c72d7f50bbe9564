import ArgumentParser
import Bundles
import FluxSampling
import Foundation
import MLFluxOutput
import SafeIO

/// `mlflux bundle train`: dataset, split, ANN, calibration, KNN imputer and evaluation in one resumable run.
struct BundleTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Generate data, split it, train and calibrate the ANN, build the KNN imputer and evaluate on held-out data, in one resumable command.",
        discussion: """
            Runs `dataset generate` (WORK/dataset), `dataset split` (WORK/split: train, \
            validation, test), `train ann --in-place` followed by `train calibrate --in-place` (on \
            the validation part), `train imputer --kind knn --in-place` (on the training part), and \
            `evaluate --in-place` (on the test part; the report lands in \
            the bundle's reports/). Each step is skipped when its output is current: WORK/steps.json \
            records, per step, a hash of its settings, the bundle's network and the previous step's \
            output, and a hash of its own output; a changed input or a touched output reruns that \
            step and those after it. The bundle's ann weights are replaced: run it on a bundle of \
            your own (`mlflux bundle new`). Budgets: small (4,096 states, 2 × 128 hidden units, at \
            most 40 epochs: about a minute for a small network on 2 cores) and full (50,000 \
            states, 3 × 256, at most 150 epochs).
            """)

    enum Budget: String, ExpressibleByArgument, CaseIterable { case small, full }

    @Argument(help: "Model name or bundle folder.") var model: String
    @Option(help: "small or full.") var budget: Budget = .small
    @Option(help: "Working folder for the datasets and step records (default: NAME-training).") var work: String?
    @Option(help: "States to generate (default: by budget).") var samples: Int?
    @Option(help: "Maximum training epochs (default: by budget).") var epochs: Int?
    @Option(help: "Worker threads for data generation.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if let samples { try OptionCheck.count(samples, "--samples", in: 100...50_000_000, "states (at least 100 to split)") }
        if let epochs { try OptionCheck.count(epochs, "--epochs", in: 1...100_000, "epochs") }
        try OptionCheck.count(threads, "--threads", in: 1...1024, "threads")
    }

    /// The record of finished steps: per step, the hash of its inputs and of its output.
    struct Record: Codable { var steps: [String: [String]] = [:] }

    func run() throws {
        let registry = BundleRegistry(searchPaths: .standard())
        let bundle = try registry.load(model)
        let directory = URL(fileURLWithPath: bundle.directory).standardizedFileURL.path
        let workDir = URL(fileURLWithPath: work ?? "\(bundle.name)-training").standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let recordPath = (workDir as NSString).appendingPathComponent("steps.json")
        var record = (try? JSONDecoder().decode(Record.self, from: Data(contentsOf: URL(fileURLWithPath: recordPath)))) ?? Record()
        let n = samples ?? (budget == .small ? 4096 : 50_000)
        let hidden = budget == .small ? "128,128" : "256,256,256"
        let maxEpochs = epochs ?? (budget == .small ? 40 : 150)
        let patience = budget == .small ? "8" : "25"
        let data = (workDir as NSString).appendingPathComponent("dataset")
        let split = (workDir as NSString).appendingPathComponent("split")
        func path(_ parts: String...) -> String { parts.reduce(split) { ($0 as NSString).appendingPathComponent($1) } }
        func digest(_ files: [String]) -> String? {
            var h = SHA256()
            for f in files {
                guard let d = FileManager.default.contents(atPath: f) else { return nil }
                h.update(Array(f.utf8) + [0]); h.update(d)
            }
            return h.hexDigest()
        }
        func annFile() -> String {
            (try? BundleRegistry(searchPaths: registry.searchPaths).load(directory).file("ann")) ?? (directory as NSString).appendingPathComponent("ann.safetensors")
        }
        let report = (directory as NSString).appendingPathComponent("reports/evaluation-test.json")
        let steps: [(name: String, settings: String, outputs: () -> [String], run: () throws -> Void)] = [
            ("dataset", "samples=\(n) seed=1", { [(data as NSString).appendingPathComponent(DatasetDescription.fileName)] }, {
                var c = try DatasetGenerate.parse(["--model", directory, "--samples", "\(n)", "--out", data,
                                                   "--threads", "\(threads)", "--force"])
                try c.run()
            }),
            ("split", "0.8,0.1,0.1 seed=0", { ["train", "validation", "test"].map { path($0, DatasetDescription.fileName) } }, {
                var c = try DatasetSplit.parse([data, "--out", split, "--force"])
                try c.run()
            }),
            ("ann", "hidden=\(hidden) epochs=\(maxEpochs) patience=\(patience), calibrated on validation", { [annFile()] }, {
                let train = try TrainANN.parse(["--model", directory, "--data", split, "--hidden", hidden, "--epochs", "\(maxEpochs)",
                                                "--patience", patience, "--in-place"])
                try train.run()
                let calibrate = try TrainCalibrate.parse(["--model", directory, "--data", path("validation"), "--in-place"])
                try calibrate.run()
            }),
            // The KNN imputer (reference set from the training split): partial measurements work
            // as soon as the bundle is trained.
            ("imputer", "knn from train", { [(directory as NSString).appendingPathComponent(ImputerStrategies.knnPath)] }, {
                let c = try TrainImputer.parse(["--kind", "knn", "--model", directory, "--data", path("train"), "--in-place"])
                try c.run()
            }),
            ("evaluate", "test", { [report] }, {
                let c = try Evaluate.parse(["--model", directory, "--data", path("test"), "--in-place", "--force"])
                try c.run()
            }),
        ]
        let networkHash = try bundle.networkHash()
        var previous = networkHash
        let started = Date()
        for (i, step) in steps.enumerated() {
            var h = SHA256()
            h.update(Array("\(step.name)\u{0}\(step.settings)\u{0}\(networkHash)\u{0}\(previous)".utf8))
            let key = h.hexDigest()
            let label = "[\(i + 1)/\(steps.count)] \(step.name)"
            if let done = record.steps[step.name], done.first == key, let out = digest(step.outputs()), done.last == out {
                FileHandle.standardError.write(Data("\(label): current, skipped\n".utf8))
                previous = out
                continue
            }
            let t0 = Date()
            FileHandle.standardError.write(Data("\(label): running (\(step.settings))…\n".utf8))
            try step.run()
            guard let out = digest(step.outputs()) else {
                throw CLIError("\(step.name) finished without its output \(step.outputs().joined(separator: ", "))")
            }
            record.steps[step.name] = [key, out]
            for later in steps[(i + 1)...] { record.steps.removeValue(forKey: later.name) }
            try OutputFile.write(try JSONOutput.data(record), to: recordPath)
            FileHandle.standardError.write(Data(String(format: "%@: done in %.1f s (%.1f s so far)\n", label,
                                                       Date().timeIntervalSince(t0), Date().timeIntervalSince(started)).utf8))
            previous = out
        }
        print("bundle \(bundle.name) (\(directory)): trained and evaluated; report \(report); work folder \(workDir)")
    }
}
