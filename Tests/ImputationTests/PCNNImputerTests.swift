import Foundation
import Imputation
import MLFluxCore
import NeuralNetworks
import Testing

struct PCNNImputerTests {
    /// An untrained PCNN imputer on the fixture layout.
    static func untrained(_ arrangement: PCNNArrangement, seed: UInt64 = 7) -> PCNNImputer {
        let layout = Fixture.layout
        let channels = arrangement == .channels ? layout.experimentIDs.count : 1
        var rng = SeededRandom(seed: seed)
        let unet = PartialConvUNet(.init(inChannels: channels, outChannels: channels, widths: [4, 8]), using: &rng)
        return PCNNImputer(network: unet, center: [Float](repeating: 0.3, count: layout.count), layout: layout, arrangement: arrangement)
    }

    /// Entry `(e, f, k)` sits at channel `e`, row `f` (channels) or channel 0, row `e·F + f`
    /// (rows), column `k`; each MID is one softmax group; padding cells belong to no group.
    @Test(arguments: PCNNArrangement.allCases)
    func imageLayout(_ arrangement: PCNNArrangement) {
        let layout = Fixture.layout   // 3 experiments × MIDs of 3, 2, 4
        let image = PCNNImage(layout: layout, arrangement: arrangement)
        let (ne, nf, w) = (3, 3, 4)
        #expect(image.width == w)
        if arrangement == .channels { #expect(image.channels == ne && image.height == nf) }
        else { #expect(image.channels == 1 && image.height == ne * nf) }
        var inGroup = Set<Int>()
        for e in 0..<ne {
            for f in 0..<nf {
                let (c, y) = arrangement == .channels ? (e, f) : (0, e * nf + f)
                let size = [3, 2, 4][f]
                let start = (c * image.height + y) * w
                #expect(image.groups[e * nf + f] == start ..< start + size)
                for k in 0..<size {
                    #expect(image.cell[layout.index(experiment: e, fragment: f, isotopologue: k)!] == start + k)
                    inGroup.insert(start + k)
                }
            }
        }
        #expect(inGroup.count == layout.count && Set(image.cell) == inGroup)
        #expect(image.size - inGroup.count == ne * (3 * w - 9))   // padding cells
    }

    /// The contract on the paper's one-channel layout too: known entries bit for bit, imputed
    /// MIDs are distributions, masked values never read.
    @Test func rowsArrangementKeepsTheContract() throws {
        let imputer = Self.untrained(.rows)
        let queries = Fixture.patterns(6, seed: 71)
        let mask = Fixture.mask(keeping: [(0, 2), (2, 0)])
        for r in 0..<queries.rows {
            let input = Fixture.measured(queries, row: r, mask: mask)
            let out = try imputer.impute(input)
            for j in mask.indices where mask[j] { #expect(out.values[j].bitPattern == input.values[j].bitPattern) }
            for e in 0..<3 {
                for f in 0..<3 {
                    let range = Fixture.layout.range(experiment: e, fragment: f)
                    guard out.imputed[range.lowerBound] else { continue }   // measured MIDs are as given
                    #expect(range.allSatisfy { out.values[$0] >= 0 })
                    #expect(abs(range.reduce(0.0) { $0 + out.values[$1] } - 1) < 1e-12)
                }
            }
            #expect(try imputer.impute(Fixture.measured(queries, row: r, mask: mask, fill: 0.9)).values == out.values)
        }
    }

    /// Save and load give the same network, center, support and arrangement, hence the same
    /// imputations; another layout or a missing arrangement is refused with the file named.
    @Test(arguments: PCNNArrangement.allCases)
    func fileRoundTrip(_ arrangement: PCNNArrangement) throws {
        let imputer = Self.untrained(arrangement)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pcnn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("pcnn.safetensors")
        try imputer.safeTensors(metadata: ["note": "test"]).write(to: url)
        let back = try PCNNImputer(contentsOf: url, layout: Fixture.layout)
        #expect(back.network == imputer.network && back.center == imputer.center && back.support == imputer.support)
        #expect(back.image == imputer.image)
        let q = Fixture.measured(Fixture.patterns(1, seed: 72), row: 0, mask: Fixture.mask(keeping: [(1, 1), (2, 2)]))
        #expect(try back.impute(q).values == imputer.impute(q).values)

        let other = LabelingLayout(experimentIDs: ["E1"], fragments: [("a", 3), ("b", 2), ("c", 4)])
        #expect(throws: ImputerFileError.self) { try PCNNImputer(contentsOf: url, layout: other) }
        var file = try SafeTensors(contentsOf: url)
        file.metadata["mlflux.pcnn.arrangement"] = "diagonal"
        let error = #expect(throws: ImputerFileError.self) { try PCNNImputer(file, layout: Fixture.layout) }
        #expect(error?.description.contains("channels, rows") == true)
        // An MLP file is not a PCNN file.
        file = try SafeTensors(contentsOf: url)
        file.metadata["mlflux.imputer"] = "mlp"
        #expect(throws: ImputerFileError.self) { try PCNNImputer(file, layout: Fixture.layout) }
    }

    /// A few epochs on a tiny problem lower the training loss and the hidden-entry MAE against
    /// untrained networks, with each loss; the result keeps its validation MAE through a save and load.
    @Test(arguments: PCNNImputerLoss.allCases)
    func tinyTrainingLowersHiddenEntryLoss(_ loss: PCNNImputerLoss) throws {
        let train = Fixture.patterns(256, seed: 81), validation = Fixture.patterns(64, seed: 82)
        var c = PCNNImputerConfiguration()
        c.widths = [8, 8]; c.epochs = 5; c.batchSize = 32; c.learningRate = 5e-3; c.loss = loss
        let result = PCNNImputerTraining.train(patterns: train, validation: validation, layout: Fixture.layout, configuration: c)
        #expect(result.epochs.count == 5)
        #expect(result.epochs.last!.trainingLoss < result.epochs.first!.trainingLoss)
        var rng = SplitMix64(seed: 83)
        let sampler = MaskSampler(experiments: 1...2, metabolites: 0.3...0.7)
        let masks = (0..<validation.rows).map { _ in sampler.sample(Fixture.layout, using: &rng) }
        let trained = ImputerTrainingData.validationMAE(result.imputer, validation, masks: masks)
        var untrainedMAEs: [Double] = []
        for seed in 0..<3 as Range<UInt64> {
            var urng = SeededRandom(seed: 100 + seed)
            let unet = PartialConvUNet(.init(inChannels: 3, outChannels: 3, widths: [8, 8]), using: &urng)
            let raw = PCNNImputer(network: unet, center: result.imputer.center, layout: Fixture.layout, arrangement: .channels)
            untrainedMAEs.append(ImputerTrainingData.validationMAE(raw, validation, masks: masks))
        }
        #expect(trained < untrainedMAEs.min()!, "trained MAE \(trained), untrained \(untrainedMAEs)")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pcnn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try result.imputer.safeTensors().write(to: url)
        let back = try PCNNImputer(contentsOf: url, layout: Fixture.layout)
        #expect(ImputerTrainingData.validationMAE(back, validation, masks: masks) == trained)
    }
}
