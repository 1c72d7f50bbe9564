import ArgumentParser
import Bundles
import Foundation
import Imputation
import MLFluxCore
import NeuralNetworks
import SafeIO

struct TrainImputer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imputer",
        abstract: "Build a bundle's imputer (knn reference set, or masked MLP) from simulated data.",
        discussion: """
            --data is a dataset folder (mlflux dataset generate) or a split folder with train/ and \
            validation/; repeat to use several. knn keeps the first --references training patterns \
            (float16) as its reference set; mlp trains a masked residual MLP (validation: a \
            validation/ part, else the last 10 % of the rows). Writes imputers/<kind>.safetensors and \
            reports/imputer_<kind>_training.json into the bundle and registers them in the manifest \
            (files.imputer.<kind>), or only the weights to --out.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case knn, mlp }

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Imputer kind: knn or mlp.") var kind: Kind
    @Option(help: "Dataset folder (or split folder with train/ and validation/); repeat to use several.") var data: [String]
    @Option(help: "Write the imputer file here instead of into the bundle (the manifest is not changed).") var out: String?
    @Flag(help: "Replace an existing --out file.") var force = false
    @Option(help: "knn: neighbours averaged.") var k: Int = 5
    @Option(help: "knn: reference patterns kept (default: as many as fit in 4 MiB of float16).") var references: Int?
    @Flag(help: "knn: store the reference set as float32 instead of float16.") var float32 = false
    @Option(help: "mlp: width of the residual stream.") var width: Int = 256
    @Option(help: "mlp: hidden width of each residual block.") var hidden: Int = 512
    @Option(help: "mlp: residual blocks.") var blocks: Int = 3
    @Option(help: "mlp: dropout rate inside the blocks.") var dropout: Float = 0.1
    @Option(help: "mlp: epochs.") var epochs: Int = 30
    @Option(help: "mlp: mini-batch size.") var batchSize: Int = 256
    @Option(help: "mlp: initial learning rate (Adam, cosine decay).") var learningRate: Float = 1e-3
    @Option(help: "mlp: largest σ of the noise put on measured entries in training.") var noise: Double = 0.01
    @Option(help: "mlp: use at most this many training rows.") var maxSamples: Int?
    @Option(help: "mlp: seed of initialisation, masks, noise and shuffling.") var seed: UInt64 = 1
    @Option(help: "BLAS threads for the matrix products.") var threads: Int = 1

    func validate() throws {
        try OptionCheck.count(k, "--k", in: 1...1000, "neighbours averaged")
        if let references { try OptionCheck.count(references, "--references", in: 1...10_000_000, "patterns kept") }
        try OptionCheck.count(width, "--width", in: 1...OptionCheck.maxWidth)
        try OptionCheck.count(hidden, "--hidden", in: 1...OptionCheck.maxWidth)
        try OptionCheck.count(blocks, "--blocks", in: 0...OptionCheck.maxLayers)
        try OptionCheck.number(Double(dropout), "--dropout", in: 0...0.9)
        try OptionCheck.count(epochs, "--epochs", in: 1...1_000_000)
        try OptionCheck.count(batchSize, "--batch-size", in: 1...65_536, "rows per gradient step")
        try OptionCheck.number(Double(learningRate), "--learning-rate", in: 0...1, lowerOpen: true)
        try OptionCheck.number(noise, "--noise", in: 0...0.2, "σ of a MID fraction")
        if let maxSamples { try OptionCheck.count(maxSamples, "--max-samples", in: 1...Int(Int32.max), "training rows") }
        try OptionCheck.threads(threads)
        try OptionCheck.batch(batchSize, "--batch-size", widths: [width, hidden], "--width/--hidden")
    }

    func run() throws {
        BLASThreads.set(threads)
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        let lock = try bundle.lockForWriting()
        defer { lock.release() }
        let relative = kind == .knn ? ImputerStrategies.knnPath : ImputerStrategies.mlpPath
        let reportFile = "reports/imputer_\(kind.rawValue)_training.json"
        if let out { try OutputFile.check(out, force: force, inputs: data) }
        else { for o in [relative, reportFile] { _ = try bundle.outputPath(o, create: false) } }
        let (train, validation) = try loadParts(bundle)
        let start = Date()
        let layout = bundle.layout
        var report: [String: String] = ["kind": kind.rawValue, "trained_on": data.joined(separator: ",")]
        let file: SafeTensors
        switch kind {
        case .knn:
            let budget = (4 << 20) / ((float32 ? 4 : 2) * layout.count)
            let n = min(references ?? budget, train.rows)
            let imputer = KNNImputer(reference: train.rows(0..<n), k: k, layout: layout)
            file = imputer.safeTensors(float16: !float32, metadata: ["trained_on": data.joined(separator: ","), "references": String(n)])
            report["references"] = String(n)
            report["k"] = String(k)
            FileHandle.standardError.write(Data("knn for \(bundle.name): \(n) reference patterns of \(layout.count) entries, k = \(k)\n".utf8))
        case .mlp:
            var rows = train
            if let maxSamples, maxSamples < rows.rows { rows = rows.rows(0..<maxSamples) }
            var c = MLPImputerConfiguration()
            c.width = width; c.hidden = hidden; c.blocks = blocks; c.dropout = dropout; c.epochs = epochs
            c.batchSize = batchSize; c.learningRate = learningRate; c.seed = seed; c.noise = noise
            FileHandle.standardError.write(Data("mlp imputer for \(bundle.name): \(rows.rows) training / \(validation.rows) validation patterns, width \(width), \(blocks) blocks of \(hidden)\n".utf8))
            let (imputer, epochsRun, best) = MLPImputerTraining.train(patterns: rows, validation: validation, layout: layout, configuration: c) { e in
                FileHandle.standardError.write(Data(String(format: "epoch %3d  loss %.5f  validation MAE %.5f  %.1fs\n",
                                                           e.epoch + 1, e.trainingLoss, e.validationMAE, e.seconds).utf8))
            }
            guard epochsRun[best].validationMAE.isFinite else {
                throw TrainingDataError(message: "the validation MAE is not finite; nothing written (try a smaller --learning-rate)")
            }
            file = imputer.safeTensors(metadata: ["trained_on": data.joined(separator: ","), "training_rows": String(rows.rows)])
            report["training_rows"] = String(rows.rows)
            report["validation_rows"] = String(validation.rows)
            report["best_epoch"] = String(best + 1)
            report["validation_mae"] = String(epochsRun[best].validationMAE)
            report["configuration"] = String(decoding: try JSONOutput.data(c), as: UTF8.self)
        }
        report["seconds"] = String(format: "%.1f", Date().timeIntervalSince(start))
        if let out {
            try OutputFile.write(Data(file.serialized()), to: out)
            print("wrote \(out) (\(report["seconds"]!) s)")
            return
        }
        let weightsPath = try bundle.outputPath(relative), reportPath = try bundle.outputPath(reportFile)
        let staged = try OutputFile.stage(Data(file.serialized()), for: weightsPath)
        let stagedReport = try OutputFile.stage(try JSONOutput.data(report), for: reportPath)
        try staged.commit()
        try stagedReport.commit()
        let key = kind == .knn ? ImputerStrategies.knnKey : ImputerStrategies.mlpKey
        try bundle.register(files: [key: relative, key + ".training": reportFile])
        print("wrote \(weightsPath) (\(report["seconds"]!) s)")
    }

    /// Training and validation patterns: each --data folder's train/ and validation/ parts, or
    /// its rows with the last 10 % validating.
    func loadParts(_ bundle: ModelBundle) throws -> (Matrix, Matrix) {
        var train: [LoadedDataset] = [], validation: [LoadedDataset] = []
        for dir in data {
            let trainDir = (dir as NSString).appendingPathComponent("train")
            if FileManager.default.fileExists(atPath: trainDir) {
                train.append(try LoadedDataset.load(trainDir, for: bundle))
                validation.append(try LoadedDataset.load((dir as NSString).appendingPathComponent("validation"), for: bundle))
            } else {
                let all = try LoadedDataset.load(dir, for: bundle)
                let cut = all.count - max(1, all.count / 10)
                train.append(all.slice(0..<cut))
                validation.append(all.slice(cut..<all.count))
            }
        }
        let t = LoadedDataset.concatenate(train), v = LoadedDataset.concatenate(validation)
        guard t.count >= 1, v.count >= 1 else {
            throw TrainingDataError(data: data, training: t.count, validation: v.count, maxSamples: maxSamples, bundle: bundle.directory)
        }
        return (t.mids, v.mids)
    }
}
