import ArgumentParser
import Bundles
import Foundation
import Imputation
import MLFluxCore
import MLFluxOutput
import NeuralNetworks
import SafeIO

struct TrainImputer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imputer",
        abstract: "Build a bundle's imputer (knn reference set, masked MLP or PCNN) from simulated data.",
        discussion: """
            --data is a dataset folder (mlflux dataset generate) or a split folder with train/ and \
            validation/; repeat to use several. knn keeps the first --references training patterns \
            (float16) as its reference set; mlp trains a masked residual MLP, pcnn a \
            partial-convolution U-Net over the MID image (validation: a validation/ part, else \
            the last 10 % of the rows). Writes imputers/<kind>.safetensors and \
            reports/imputer_<kind>_training.json into the bundle and registers them in the manifest \
            (files.imputer.<kind>), or only the weights to --out.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case knn, mlp, pcnn }

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Imputer kind: knn, mlp or pcnn.") var kind: Kind
    @Option(help: "Dataset folder (or split folder with train/ and validation/); repeat to use several.") var data: [String]
    @Option(help: "Write the imputer file here instead of into the bundle (the manifest is not changed).") var out: String?
    @Flag(help: "Replace an existing --out file.") var force = false
    @Flag(help: "Write into the bundle and register the imputer in its manifest (replacing one of this kind).") var inPlace = false
    @Option(help: "knn: neighbours averaged.") var k: Int = 5
    @Option(help: "knn: reference patterns kept (default: as many as fit in 4 MiB of float16).") var references: Int?
    @Flag(help: "knn: store the reference set as float32 instead of float16.") var float32 = false
    @Option(help: "mlp: width of the residual stream.") var width: Int = 256
    @Option(help: "mlp: hidden width of each residual block.") var hidden: Int = 512
    @Option(help: "mlp: residual blocks.") var blocks: Int = 3
    @Option(help: "mlp: dropout rate inside the blocks.") var dropout: Float = 0.1
    @Option(help: "pcnn: U-Net encoder widths per level, comma-separated (the count is the depth).") var widths: String = "32,64"
    @Option(help: "pcnn: kernel size of the partial convolutions (odd).") var kernelSize: Int = 3
    @Option(help: "pcnn: image layout: channels (experiments as channels × fragments × isotopologues) or rows (one channel, experiment·fragment rows, as in the paper).")
    var arrangement: PCNNArrangement = .channels
    @Option(help: "pcnn: stop after the epoch that passes this many minutes of training.") var maxMinutes: Double?
    @Option(help: "pcnn: loss on the hidden entries: ce (cross-entropy per MID), l1 or l2.") var loss: PCNNImputerLoss = .crossEntropy
    @Option(help: "mlp, pcnn: epochs (default 30 for mlp, 10 for pcnn).") var epochs: Int?
    @Option(help: "mlp, pcnn: mini-batch size (default 256 for mlp, 64 for pcnn).") var batchSize: Int?
    @Option(help: "mlp, pcnn: initial learning rate (Adam, cosine decay; default 1e-3 for mlp, 2e-3 for pcnn).") var learningRate: Float?
    @Option(help: "mlp, pcnn: largest σ of the noise put on measured entries in training.") var noise: Double = 0.01
    @Option(help: "mlp, pcnn: use at most this many training rows.") var maxSamples: Int?
    @Option(help: "mlp, pcnn: seed of initialisation, masks, noise and shuffling.") var seed: UInt64 = 1
    @Option(help: "BLAS threads for the matrix products.") var threads: Int = 1

    func validate() throws {
        try OptionCheck.count(k, "--k", in: 1...1000, "neighbours averaged")
        if let references { try OptionCheck.count(references, "--references", in: 1...10_000_000, "patterns kept") }
        try OptionCheck.count(width, "--width", in: 1...OptionCheck.maxWidth)
        try OptionCheck.count(hidden, "--hidden", in: 1...OptionCheck.maxWidth)
        try OptionCheck.count(blocks, "--blocks", in: 0...OptionCheck.maxLayers)
        try OptionCheck.number(Double(dropout), "--dropout", in: 0...0.9)
        if let epochs { try OptionCheck.count(epochs, "--epochs", in: 1...1_000_000) }
        if let batchSize { try OptionCheck.count(batchSize, "--batch-size", in: 1...65_536, "rows per gradient step") }
        if let learningRate { try OptionCheck.number(Double(learningRate), "--learning-rate", in: 0...1, lowerOpen: true) }
        let w = try OptionCheck.widths(widths, "--widths")
        guard w.count <= 8, w.allSatisfy({ $0 <= 4096 }) else { throw ValidationError("--widths: 1 to 8 U-Net levels of at most 4096 channels, not \(widths)") }
        guard kernelSize >= 1, kernelSize <= 15, kernelSize % 2 == 1 else { throw ValidationError("--kernel-size must be odd, 1 to 15, not \(kernelSize)") }
        if let maxMinutes { try OptionCheck.number(maxMinutes, "--max-minutes", in: 0...1_000_000, lowerOpen: true) }
        try OptionCheck.number(noise, "--noise", in: 0...0.2, "σ of a MID fraction")
        if let maxSamples { try OptionCheck.count(maxSamples, "--max-samples", in: 1...Int(Int32.max), "training rows") }
        try OptionCheck.threads(threads)
        try OptionCheck.batch(batchSize ?? 256, "--batch-size", widths: [width, hidden], "--width/--hidden")
        // A shipped bundle is never changed by accident: --out FILE, or --in-place on purpose.
        guard (out == nil) == inPlace else {
            throw ValidationError(inPlace ? "--out and --in-place exclude each other" : "give --out FILE (a new imputer file) or --in-place (write into the bundle '\(model)' and register it)")
        }
    }

    func run() throws {
        BLASThreads.set(threads)
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        let lock = try bundle.lockForWriting()
        defer { lock.release() }
        let relative = [Kind.knn: ImputerStrategies.knnPath, .mlp: ImputerStrategies.mlpPath, .pcnn: ImputerStrategies.pcnnPath][kind]!
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
            c.width = width; c.hidden = hidden; c.blocks = blocks; c.dropout = dropout; c.epochs = epochs ?? 30
            c.batchSize = batchSize ?? 256; c.learningRate = learningRate ?? 1e-3; c.seed = seed; c.noise = noise
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
        case .pcnn:
            var rows = train
            if let maxSamples, maxSamples < rows.rows { rows = rows.rows(0..<maxSamples) }
            guard rows.rows >= 2 else { throw TrainingDataError(message: "pcnn training needs at least 2 training rows (batch statistics); found \(rows.rows)") }
            var c = PCNNImputerConfiguration()
            c.arrangement = arrangement; c.widths = try OptionCheck.widths(widths, "--widths"); c.kernelSize = kernelSize
            if let epochs { c.epochs = epochs }
            if let batchSize { c.batchSize = batchSize }
            if let learningRate { c.learningRate = learningRate }
            c.seed = seed; c.noise = noise; c.maxSeconds = maxMinutes.map { $0 * 60 }; c.loss = loss
            let image = PCNNImage(layout: layout, arrangement: arrangement)
            FileHandle.standardError.write(Data("pcnn imputer for \(bundle.name): \(rows.rows) training / \(validation.rows) validation patterns, image \(image.channels)×\(image.height)×\(image.width) (\(arrangement.rawValue)), widths \(c.widths)\n".utf8))
            let result = PCNNImputerTraining.train(patterns: rows, validation: validation, layout: layout, configuration: c) { e in
                FileHandle.standardError.write(Data(String(format: "epoch %3d  loss %.5f  validation MAE %.5f  lr %.2e  %.1fs\n",
                                                           e.epoch + 1, e.trainingLoss, e.validationMAE, e.learningRate, e.seconds).utf8))
            }
            guard result.validationMAE.isFinite else {
                throw TrainingDataError(message: "the validation MAE is not finite; nothing written (try a smaller --learning-rate)")
            }
            FileHandle.standardError.write(Data(String(format: "best epoch %d; validation imputation MAE %.5f (%d patterns)\n", result.best + 1, result.validationMAE, validation.rows).utf8))
            file = result.imputer.safeTensors(metadata: ["trained_on": data.joined(separator: ","), "training_rows": String(rows.rows)])
            report["training_rows"] = String(rows.rows)
            report["validation_rows"] = String(validation.rows)
            report["epochs_run"] = String(result.epochs.count)
            report["best_epoch"] = String(result.best + 1)
            report["validation_mae"] = String(result.validationMAE)
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
        let key = [Kind.knn: ImputerStrategies.knnKey, .mlp: ImputerStrategies.mlpKey, .pcnn: ImputerStrategies.pcnnKey][kind]!
        try bundle.register(files: [key: relative, key + ".training": reportFile])
        print("wrote \(weightsPath) (\(report["seconds"]!) s)")
    }

    /// Training and validation patterns: each --data folder's train/ and validation/ parts, or
    /// its rows with the last 10 % validating.
    func loadParts(_ bundle: ModelBundle) throws -> (Matrix, Matrix) {
        let (t, v) = try LoadedDataset.trainingParts(data, for: bundle)
        guard t.count >= 1, v.count >= 1 else {
            throw TrainingDataError(data: data, training: t.count, validation: v.count, maxSamples: maxSamples, bundle: bundle.directory)
        }
        return (t.mids, v.mids)
    }
}

extension PCNNArrangement: ExpressibleByArgument {}
extension PCNNImputerLoss: ExpressibleByArgument {}
