import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
import NeuralNetworks
import Prediction

struct BenchNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn",
        abstract: "Training throughput against raw sgemm, and inference latency (build with -c release).")
    @Option(help: "Layer widths, comma-separated (with --pcnn: the U-Net's encoder widths, default 32,64,64).")
    var widths: String = "120,256,256,256,3"
    @Option(help: "Time a partial-convolution U-Net instead, on images of this shape: CxHxW, e.g. 1x32x32.")
    var pcnn: String?
    @Option(help: "Mini-batch size.") var batchSize: Int = 64
    @Option(help: "BLAS threads.") var threads: Int = 1
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table

    func validate() throws {
        if pcnn != nil {
            let s = try pcnnShape(), w = try pcnnWidths()
            try OptionCheck.count(batchSize, "--batch-size", in: 2...4096, "images per batch")
            try OptionCheck.threads(threads)
            if let p = PartialConvUNet.Configuration(inChannels: s[0], outChannels: s[0], widths: w).problem {
                throw ValidationError("--widths for --pcnn: \(p)")
            }
            let values = batchSize * s[1] * s[2] * (w.max()! + s[0])
            guard values <= 1 << 27 else {
                throw ValidationError("--batch-size \(batchSize) with --pcnn \(pcnn!) and widths up to \(w.max()!) needs \(values / (1 << 18)) MB per feature map, over the 512 MB limit; use a smaller --batch-size")
            }
            return
        }
        let w = try OptionCheck.widths(widths, "--widths", minimumLayers: 2)
        try OptionCheck.count(batchSize, "--batch-size", in: 1...65_536, "rows per gradient step")
        try OptionCheck.batch(batchSize, "--batch-size", widths: w, "--widths")
        try OptionCheck.threads(threads)
    }

    /// `--pcnn CxHxW` as numbers, each 1…256.
    func pcnnShape() throws -> [Int] {
        let parts = (pcnn ?? "").lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 3, parts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 256 }) else {
            throw ValidationError("--pcnn '\(pcnn ?? "")' is not an image shape CxHxW with each size in 1…256, e.g. 1x32x32")
        }
        return parts.map { $0! }
    }

    /// The U-Net widths: `--widths`, or 32,64,64 when it was left at the MLP default.
    func pcnnWidths() throws -> [Int] {
        widths == "120,256,256,256,3" ? [32, 64, 64] : try OptionCheck.widths(widths, "--widths", minimumLayers: 1)
    }

    func run() throws {
        if pcnn != nil {
            let s = try pcnnShape()
            let w = try pcnnWidths()
            let report = PartialConvUNetBenchmark.run(.init(channels: s[0], height: s[1], width: s[2], widths: w,
                                                             batchSize: batchSize, blasThreads: threads))
            print(format == .json ? try JSONOutput.string(report) : report.description)
            return
        }
        let w = try OptionCheck.widths(widths, "--widths", minimumLayers: 2)
        let report = NeuralNetworkBenchmark.run(.init(widths: w, batchSize: batchSize, blasThreads: threads))
        if format == .json {
            print(try JSONOutput.string(report))
        } else {
            print(report)
        }
    }
}

struct BenchPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Inference time of a bundle's predictor per sample: one at a time and batched.")
    @Option(help: "Model bundle name.") var model: String
    @Option(help: "Predictor.") var predictor: String = "ann"
    @Option(help: "Batch size for the batched case.") var batch: Int = 1024

    func validate() throws {
        try OptionCheck.count(batch, "--batch", in: 1...65_536, "copies of the example labeling held in memory")
    }

    func run() throws {
        let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
        let p = try StrategyRegistry.predictor(predictor, bundle: bundle)
        let x = try bundle.simulator().simulate(bundle.exampleFluxState()).values
        func time(_ reps: Int, _ body: () throws -> Void) rethrows -> Double {
            for _ in 0..<3 { try body() }
            var best = Double.infinity
            for _ in 0..<5 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<reps { try body() }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 / Double(reps))
            }
            return best
        }
        let single = try time(200) { _ = try p.predict([x]) }
        let rows = [[Double]](repeating: x, count: batch)
        let batched = try time(3) { _ = try p.predict(rows) } / Double(batch)
        print(String(format: "model %@, predictor %@: single sample %.1f µs (including ΔG and error propagation); batch of %d: %.2f µs per sample",
                     bundle.name, predictor, single * 1e6, batch, batched * 1e6))
    }
}
