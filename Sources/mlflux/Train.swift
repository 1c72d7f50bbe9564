import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
import NeuralNetworks
import Prediction
import SafeIO

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a predictor of a model bundle on a dataset.",
        subcommands: [TrainANN.self, TrainCalibrate.self, TrainImputer.self])
}

struct TrainANN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "Train the ANN flux predictor into a new bundle (--out) or the model's own (--in-place).",
        discussion: """
            --data is a dataset folder (mlflux dataset generate) or a split folder with train/ \
            and validation/ (mlflux dataset split). Without a validation part the last 10 % of \
            the rows validate. Writes ann.safetensors and reports/ann_training.json and registers \
            them in the manifest (files.ann): --out DIR makes DIR a new bundle (a copy of the \
            model's, with its network, example fluxes and the new weights; use it as --model DIR); \
            --in-place replaces the model's own weights. Nothing is written unless training finishes. \
            --noise-range MIN,MAX trains noise-aware: every mini-batch's MIDs get Gaussian noise of \
            an absolute σ drawn log-uniformly from MIN…MAX per sample (clipped at 0, renormalised), \
            and the network is told σ (at prediction: the stddev column, --stddev, or 0.01).
            """)

    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Dataset folder (or split folder with train/ and validation/); repeat to train on several.") var data: [String]
    @Option(help: "Hidden layer widths, comma-separated.") var hidden: String = "256,256,256"
    @Option(help: "Maximum epochs.") var epochs: Int = 150
    @Option(help: "Mini-batch size.") var batchSize: Int = 128
    @Option(help: "Initial learning rate (Adam; halved on plateaus).") var learningRate: Float = 1e-3
    @Option(help: "Ensemble members.") var members: Int = 1
    @Option(help: "Early-stopping patience in epochs.") var patience: Int = 25
    @Option(help: "Use at most this many training rows.") var maxSamples: Int?
    @Option(help: "Seed of initialisation and shuffling.") var seed: UInt64 = 1
    @Option(help: "Input features: raw (the MIDs), logs (MIDs plus log10 x and log10(1−x)) or logs-sigma (noise-aware; the default with --noise-range).") var features: String?
    @Option(help: "Uncertainty head: diagonal (a σ per free flux) or cholesky (a full covariance of the free fluxes).") var head: String = "cholesky"
    @Option(help: "Noise-aware training: the range MIN,MAX of the absolute σ per MID entry, drawn log-uniformly per sample (e.g. 0.001,0.03).") var noiseRange: String?
    @Option(help: "Noise-aware training: relative σ added per entry (σ_i = √(σ² + (r·x_i)²)).") var noiseRelative: Double = 0
    @Option(help: "BLAS threads for the matrix products (1 was fastest on 2 cores).") var threads: Int = 1
    @OptionGroup var destination: BundleDestination

    func validate() throws {
        try OptionCheck.count(epochs, "--epochs", in: 1...1_000_000)
        try OptionCheck.count(batchSize, "--batch-size", in: 1...65_536, "rows per gradient step")
        try OptionCheck.number(Double(learningRate), "--learning-rate", in: 0...1, lowerOpen: true)
        try OptionCheck.count(members, "--members", in: 1...64, "each member is a whole network trained in turn")
        try OptionCheck.count(patience, "--patience", in: 1...1_000_000, "epochs without improvement before stopping")
        if let maxSamples { try OptionCheck.count(maxSamples, "--max-samples", in: 1...Int(Int32.max), "training rows") }
        try OptionCheck.threads(threads)
        if let features, InputFeatures(rawValue: features) == nil { throw ValidationError("--features must be raw, logs or logs-sigma") }
        guard OutputHead(rawValue: head) != nil else { throw ValidationError("--head must be diagonal or cholesky") }
        try OptionCheck.number(noiseRelative, "--noise-relative", in: 0...1, "relative σ per MID entry")
        let noise = try noiseModel()
        if (noise != nil) != inputFeatures.usesSigma {
            throw ValidationError(noise != nil ? "--noise-range needs --features logs-sigma (the network is told σ)" : "--features logs-sigma needs --noise-range MIN,MAX")
        }
        try OptionCheck.batch(batchSize, "--batch-size", widths: try OptionCheck.widths(hidden, "--hidden"), "--hidden")
    }

    var hiddenWidths: [Int] { (try? OptionCheck.widths(hidden, "--hidden")) ?? [] }

    var inputFeatures: InputFeatures {
        features.flatMap(InputFeatures.init(rawValue:)) ?? (noiseRange != nil ? .logsSigma : .logs)
    }

    func noiseModel() throws -> MeasurementNoise? {
        guard let noiseRange else { return nil }
        let parts = noiseRange.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite, lo > 0, hi >= lo, hi <= 0.5 else {
            throw ValidationError("--noise-range must be MIN,MAX with 0 < MIN ≤ MAX ≤ 0.5 (absolute σ of a MID fraction), e.g. 0.001,0.03, not '\(noiseRange)'")
        }
        return MeasurementNoise(minimum: lo, maximum: hi, relative: noiseRelative)
    }

    func run() throws {
        BLASThreads.set(threads)
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        // Nothing is written unless training finishes on ≥ 1 training and ≥ 1 validation row;
        // the outputs are checked (inside the bundle, or a free --out folder) before any work.
        let lock = destination.inPlace ? try bundle.lockForWriting() : nil
        defer { lock?.release() }
        let weights = "ann.safetensors", reportFile = "reports/ann_training.json"
        if destination.inPlace { for o in [weights, reportFile] { _ = try bundle.outputPath(o, create: false) } }
        try destination.checkFree()
        let parts = try LoadedDataset.trainingParts(data, for: bundle)
        var train = parts.train
        let validation = parts.validation
        if let maxSamples, maxSamples < train.count { train = train.slice(0..<maxSamples) }
        guard train.count >= 1, validation.count >= 1 else {
            throw TrainingDataError(data: data, training: train.count, validation: validation.count,
                                    maxSamples: maxSamples, bundle: bundle.directory)
        }
        let config = ANNTrainingConfiguration(hidden: hiddenWidths, epochs: epochs, batchSize: batchSize,
                                              learningRate: learningRate, members: members, patience: patience, seed: seed,
                                              features: inputFeatures, head: OutputHead(rawValue: head) ?? .cholesky,
                                              noise: try noiseModel())
        FileHandle.standardError.write(Data("training ann for \(bundle.name): \(train.count) training / \(validation.count) validation rows, widths \([config.features.width(bundle.layout.count)] + config.hidden), \(members) member(s)\n".utf8))
        let start = Date()
        let (predictor, histories) = ANNTraining.train(
            network: bundle.network, basis: bundle.basis, layout: bundle.layout,
            inputs: train.mids, free: train.free, validation: (validation.mids, validation.free),
            configuration: config) { member, r in
                let line = String(format: "member %d  epoch %3d  loss %.5f  val %.5f  lr %.1e  %.1fs\n",
                                  member, r.epoch + 1, r.trainingLoss, r.validationLoss, r.learningRate, r.seconds)
                FileHandle.standardError.write(Data(line.utf8))
                return true
            }
        if let bad = histories.firstIndex(where: { !$0.bestValidationLoss.isFinite }) {
            throw TrainingDataError(message: "member \(bad) ended with a non-finite validation loss; \(bundle.directory) is unchanged (try a smaller --learning-rate)")
        }
        struct Report: Encodable {
            var configuration: ANNTrainingConfiguration
            var trainingRows: Int, validationRows: Int, seconds: Double
            var members: [[String: Double]]
        }
        let report = Report(configuration: config, trainingRows: train.count, validationRows: validation.count,
                            seconds: Date().timeIntervalSince(start),
                            members: histories.map { ["bestEpoch": Double($0.bestEpoch + 1),
                                                      "bestValidationLoss": Double($0.bestValidationLoss),
                                                      "epochs": Double($0.epochs.count),
                                                      "secondsPerEpoch": $0.epochs.map(\.seconds).reduce(0, +) / Double(max($0.epochs.count, 1))] })
        // Both files are written and synced beside their targets, then renamed into place.
        let target = try destination.bundle(from: bundle, replacing: "ann")
        let weightsPath = try target.outputPath(weights), reportPath = try target.outputPath(reportFile)
        let newWeights = try OutputFile.stage(Data(try ANNWeightsFile.safeTensors(
            predictor, extraMetadata: ["trained_on": data.joined(separator: ","), "training_rows": String(train.count)]).serialized()),
            for: weightsPath)
        let newReport = try OutputFile.stage(try JSONOutput.data(report), for: reportPath)
        try newWeights.commit()
        try newReport.commit()
        try target.register(files: ["ann": weights, "ann.training": reportFile])
        print("wrote \((target.directory as NSString).appendingPathComponent(weights)) (\(String(format: "%.0f", report.seconds)) s)")
    }
}

struct TrainCalibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Rescale the ANN's stated uncertainties so its 1σ covers 68 % of validation errors.",
        discussion: """
            --data is a dataset not used for testing (a split folder's validation/ part is used \
            when given a split folder). Writes ann.safetensors with σ factors per target and range \
            of the predicted value, in classes of the mean predicted exchange flux (metadata \
            'sigma_calibration'; the network weights are unchanged) into a new bundle (--out DIR) \
            or the model's own (--in-place). A noise-aware network is calibrated on the rows \
            perturbed by its training noise model (σ drawn per row, --seed). Then, on the same rows, \
            factors on every derived flux's σ ('derived_calibration') and the shape of each free \
            flux's error beyond its σ ('quantile_calibration': quantiles of the standardised \
            error, which make the simulation-based-calibration ranks of `evaluate` uniform).
            """)
    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Validation dataset folder; repeat to calibrate on several (e.g. uniform and log-uniform exchange sampling).") var data: [String]
    @Option(help: "Equal-count ranges of the predicted value per flux, each with its own factor (1 = one factor per flux).") var bins: Int = 6
    @Option(help: "Equal-count classes of the mean predicted exchange flux (noise-aware networks: of the measurement σ), each calibrated on its own (1 = no classes; default 2, noise-aware 4).") var contexts: Int?
    @Option(help: "Noise-aware networks: seed of the noise drawn on the calibration rows.") var seed: UInt64 = 1
    @Option(help: "Classes of the measurement σ with their own error shape (noise-aware networks; interpolated in log σ between class centres; default 4, other networks 1); 0 = none (Gaussian).") var shapeClasses: Int?
    @Option(help: "A conditional error shape: a small network that gives each prediction its own error shape from what it states (metadata 'error_shape'; it takes the place of the σ classes' shape): quantiles (its z quantiles, pinball loss), mixture (--shape-components Gaussians, likelihood) or none (a head fitted before is dropped: it was fitted on the old σ).") var conditionalShape: ConditionalShapeKind = .none
    @Option(help: "Gaussians of a mixture conditional error shape.") var shapeComponents: Int = 4
    @Option(help: "Epochs of the conditional error shape's training (early stopping on the last 10 % of the rows).") var shapeEpochs: Int = 60
    @Option(help: "Also fit factors on the hybrid's standard errors ('hybrid_calibration') on the first N calibration rows (0 = none; a map fitted before is dropped: it was fitted on the old σ). One MAP fit per row, on --threads threads.")
    var hybridRows: Int = 0
    @Option(help: "--hybrid-rows: worker threads.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @OptionGroup var destination: BundleDestination

    func validate() throws {
        try OptionCheck.count(shapeComponents, "--shape-components", in: 1...16, "Gaussians of a mixture error shape")
        try OptionCheck.count(shapeEpochs, "--shape-epochs", in: 1...10000, "epochs of the conditional error shape")
        try OptionCheck.count(bins, "--bins", in: 1...1000, "ranges of the predicted value per flux")
        if let contexts { try OptionCheck.count(contexts, "--contexts", in: 1...100, "classes of the mean exchange flux") }
        if let shapeClasses { try OptionCheck.count(shapeClasses, "--shape-classes", in: 0...100, "classes of the measurement σ with their own error shape") }
        try OptionCheck.count(hybridRows, "--hybrid-rows", in: 0...10_000_000, "calibration rows fitted by the hybrid")
        try OptionCheck.threads(threads)
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        let lock = destination.inPlace ? try bundle.lockForWriting() : nil
        defer { lock?.release() }
        let path = try bundle.file("ann")
        let weightsName = bundle.manifest.files?["ann"] ?? "ann.safetensors"
        // Written back inside the bundle (a symlinked weights file is replaced, not written through).
        if destination.inPlace { _ = try bundle.outputPath(weightsName, create: false) }
        try destination.checkFree()
        let ann = try ANNWeightsFile.read(URL(fileURLWithPath: path), network: bundle.network,
                                          basis: bundle.basis, layout: bundle.layout)
        if hybridRows > 0 && ann.noise == nil {
            throw CLIError("--hybrid-rows: the hybrid's factors are fitted on noisy rows; the network of model \(model) is not noise-aware")
        }
        let parts = try data.map { dir in
            let validationDir = (dir as NSString).appendingPathComponent("validation")
            return try LoadedDataset.reading(FileManager.default.fileExists(atPath: validationDir) ? validationDir : dir, for: bundle)
        }
        let set = LoadedDataset.concatenate(parts)
        // What the rows were, reproducible without this machine's paths.
        let provenance = parts.map { p in
            let d = p.description
            return "\((p.directory as NSString).lastPathComponent): \(p.count) states of \(d.model), net \(d.sampler.net.rawValue), exchange \(d.sampler.exchange.rawValue), seed \(d.seed)"
        }.joined(separator: "; ")
        guard set.count >= 1 else {
            throw TrainingDataError(message: "--data \(data.joined(separator: ",")): no rows to calibrate on; \(path) is unchanged")
        }
        var mids = set.mids
        var sigma: [Double]? = nil
        if let noise = ann.noise {
            var rng = SplitMix64(seed: seed)
            let s = (0..<set.count).map { _ in noise.drawSigma(using: &rng) }
            noise.perturb(&mids, layout: bundle.layout, sigma: s, using: &rng)
            sigma = s
        }
        var calibrated = ann.calibrated(on: mids, sigma: sigma, free: set.free, bins: bins, contextClasses: contexts,
                                         shapeClasses: shapeClasses)
        var shapeSummary: ConditionalErrorShape.FitSummary?
        if let head = conditionalShape.head(components: shapeComponents) {
            let epochs = shapeEpochs
            (calibrated, shapeSummary) = calibrated.withErrorShape(on: mids, sigma: sigma, free: set.free, head: head,
                                                                   epochs: epochs, seed: seed, progress: { e in
                FileHandle.standardError.write(Data(String(format: "conditional error shape: epoch %d/%d  training %.4f  validation %.4f  %.1f s\n",
                                                           e.epoch + 1, epochs, e.trainingLoss, e.validationLoss, e.seconds).utf8))
            })
        }
        var hybridSummary: String?
        if hybridRows > 0 {
            guard var hybrid = try StrategyRegistry.predictor("hybrid", bundle: bundle, options: StrategyRegistry.Options()) as? HybridPredictor else {
                throw CLIError("--hybrid-rows: model \(model) has no hybrid predictor")
            }
            guard let sigma else { throw CLIError("--hybrid-rows: no noisy rows (checked above)") }
            let n = min(hybridRows, set.count)
            let rows = (0..<n).map { i in
                MeasuredLabeling(layout: bundle.layout, values: (0..<mids.columns).map { Double(mids.storage[i * mids.columns + $0]) },
                                 stddev: [Double](repeating: sigma[i], count: mids.columns),
                                 mask: [Bool](repeating: true, count: mids.columns))
            }
            hybrid.ann = calibrated   // the bundle's settings, with the network just calibrated
            let line = ProgressLine(label: "hybrid fits")
            let clock = Date()
            calibrated.hybridCalibration = hybrid.calibration(rows: rows, truth: (0..<n).map { bundle.basis.fluxState(free: set.free[$0]) },
                                                              classes: contexts ?? (calibrated.isNoiseAware ? 4 : 2), threads: threads,
                                                              progress: { done, total in line.report(done, total) })
            hybridSummary = String(format: "hybrid SE factors on %d rows (%.0f s)", n, Date().timeIntervalSince(clock))
        }
        let original = try SafeTensors(contentsOf: URL(fileURLWithPath: path)).metadata
        // A new bundle keeps the model's weights file (replaced below) and its other files.
        let targetBundle = try destination.bundle(from: bundle, replacing: nil)
        let target = try targetBundle.outputPath(weightsName, create: false)
        try ANNWeightsFile.write(calibrated, to: URL(fileURLWithPath: target),
                                 extraMetadata: original.filter { ["trained_on", "training_rows"].contains($0.key) }
                                    .merging(["calibrated_on": provenance]) { $1 })
        let names = calibrated.members[0].transform.outputs.map { bundle.basis.names[$0.free] }
        let c = calibrated.calibration!
        print("σ factors per range of the prediction (\(set.count) rows, \(c.factors.count) \(c.contextKind == .sigma ? "measurement σ" : "exchange") context class(es)):")
        for (k, classFactors) in c.factors.enumerated() {
            if c.factors.count > 1 { print(" class \(k + 1)") }
            for (name, f) in zip(names, classFactors) {
                print("  \(name): " + f.map { String(format: "%.3f", $0) }.joined(separator: " "))
            }
        }
        if let hybridSummary, let h = calibrated.hybridCalibration {
            print("\(hybridSummary), \(h.sigmaEdges.count + 1) measurement-σ class(es); exchange flux factors per class:")
            for (c, f) in h.exchange.enumerated() {
                let shown = bundle.network.reactions.indices.filter { f[$0] != 1 }   // 1: no exchange flux
                print("  class \(c + 1): " + shown.map { "\(bundle.network.reactions[$0].id) \(String(format: "%.2f", f[$0]))" }.joined(separator: " "))
            }
        }
        if let e = shapeSummary {
            let what = conditionalShape == .mixture ? "\(shapeComponents)-Gaussian mixture, NLL" : "quantiles, pinball loss"
            print("conditional error shape (\(what)): \(e.epochs) epochs on \(e.trainingRows) rows; validation (\(e.validationRows) rows) loss per flux \(String(format: "%.4f", e.validationLoss)) (the SEs' Gaussian: \(String(format: "%.4f", e.gaussianLoss)))")
        }
        if let q = calibrated.quantileCalibration {
            // The shape in a few numbers: z at 2.5, 16, 50, 84 and 97.5 % (Gaussian: −1.96 −1 0 1 1.96).
            let shown: [Double] = [0.025, 0.16, 0.5, 0.84, 0.975]
            print("error shape: z at \(shown.map { String(format: "%g", 100 * $0) }.joined(separator: ", ")) % (Gaussian: -1.96 -1 0 1 1.96), \(q.knots.count) measurement-σ class(es)")
            for (c, centre) in q.sigmaCentres.enumerated() {
                if q.knots.count > 1 { print(" class \(c + 1) (σ \(String(format: "%.3g", pow(10, Double(centre)))))") }
                let e = q.quantiles(sigma: q.knots.count > 1 ? powf(10, centre) : nil)
                for k in bundle.basis.names.indices where e.covers(k) {
                    print("  \(bundle.basis.names[k]): " + shown.map { String(format: "%.2f", e.quantile($0, flux: k)!) }.joined(separator: " "))
                }
            }
        }
    }
}

/// `train calibrate --conditional-shape`.
enum ConditionalShapeKind: String, ExpressibleByArgument, CaseIterable {
    case none, quantiles, mixture

    func head(components: Int) -> ConditionalErrorShape.Head? {
        switch self {
        case .none: return nil
        case .quantiles: return .quantiles
        case .mixture: return .mixture(components: components)
        }
    }
}

/// Where `train` writes: a new bundle folder (`--out`) or the model's own bundle (`--in-place`).
struct BundleDestination: ParsableArguments {
    @Option(name: .customLong("out"), help: "New bundle folder to write (a copy of the model's bundle with the new weights); it must not exist or be empty.") var out: String?
    @Flag(help: "Replace the weights in the model's own bundle (e.g. a shipped one in Plugins/).") var inPlace = false

    func validate() throws {
        if out != nil && inPlace { throw ValidationError("--out and --in-place exclude each other") }
        if out == nil && !inPlace {
            throw ValidationError("give --out DIR (a new bundle folder; the model's own bundle is left alone) or --in-place (replace the model's weights)")
        }
    }

    /// Refuses an --out folder that exists with content, before any work.
    func checkFree() throws {
        guard let out else { return }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDir),
           !isDir.boolValue || !((try? FileManager.default.contentsOfDirectory(atPath: out))?.isEmpty ?? false) {
            throw OutputError(file: out, reason: "exists; --out makes a new bundle folder (choose another, or remove it)")
        }
    }

    /// The bundle to write into: `bundle` itself (--in-place), or a new copy of it in --out
    /// without the files whose key starts with `replacing` (those the caller writes anew).
    func bundle(from bundle: ModelBundle, replacing: String?) throws -> ModelBundle {
        guard let out else { return bundle }
        return try bundle.copy(to: out, dropping: { key in replacing.map { key.hasPrefix($0) } ?? false },
                               networkSearchPath: SearchPaths.standard().networks)
    }
}

/// Training that cannot start or finish on the rows given; the bundle is left as it was.
struct TrainingDataError: Error, CustomStringConvertible {
    var description: String

    init(message: String) { description = message }

    init(data: [String], training: Int, validation: Int, maxSamples: Int?, bundle: String) {
        var why = "--data \(data.joined(separator: ",")): \(training) training and \(validation) validation rows"
        if let maxSamples, maxSamples < 1 { why += " (--max-samples \(maxSamples))" }
        description = why + "; training needs at least 1 of each (without a validation/ part the last 10 % of the rows validate); \(bundle) is unchanged"
    }
}
