import Foundation
import Imputation
import MLFluxCore
import NeuralNetworks
import TestSupport
import Testing

struct KNNImputerTests {
    /// A query equal to a reference row on its measured entries, with that row unique there,
    /// gets the row's pattern back at the missing entries.
    @Test func queryEqualToAReferenceRowGetsThatPattern() throws {
        let ref = Fixture.patterns(50, seed: 21)
        let knn = KNNImputer(reference: ref, k: 5, layout: Fixture.layout)
        let mask = Fixture.mask(keeping: [(0, 0), (0, 2), (2, 1)])
        for r in [0, 17, 49] {
            let out = try knn.impute(Fixture.measured(ref, row: r, mask: mask))
            for j in 0..<Fixture.layout.count {
                #expect(abs(out.values[j] - Double(ref[r, j])) < 1e-6, "row \(r) entry \(j)")
            }
            let batched = try knn.impute(batch: [Fixture.measured(ref, row: r, mask: mask)])[0]
            #expect(zip(batched.values, out.values).allSatisfy { abs($0 - $1) < 1e-12 })
        }
    }

    /// Against a brute-force K-nearest search written from the definition (Float64 distances over
    /// the measured entries, weights 1/d, MIDs renormalised).
    @Test func matchesBruteForce() throws {
        let ref = Fixture.patterns(200, seed: 22), queries = Fixture.patterns(10, seed: 23)
        let layout = Fixture.layout, d = layout.count
        for k in [1, 3, 5] {
            let knn = KNNImputer(reference: ref, k: k, layout: layout)
            var rng = SplitMix64(seed: 24)
            for q in 0..<queries.rows {
                let mask = MaskSampler(experiments: 1...2, metabolites: 0.3...1).sample(layout, using: &rng)
                let input = Fixture.measured(queries, row: q, mask: mask)
                let dist = (0..<ref.rows).map { r in
                    (0..<d).filter { mask[$0] }.reduce(0.0) { s, j in let t = Double(ref[r, j]) - input.values[j]; return s + t * t }.squareRoot()
                }
                let nearest = dist.indices.sorted { dist[$0] < dist[$1] }.prefix(k)
                let wsum = nearest.reduce(0.0) { $0 + 1 / dist[$1] }
                var expected = input.values
                for j in 0..<d where !mask[j] { expected[j] = nearest.reduce(0.0) { $0 + Double(ref[$1, j]) / dist[$1] } / wsum }
                // The weighted mean of distributions is already a distribution (sum 1 up to Float32).
                let out = try knn.impute(input)
                for j in 0..<d where !mask[j] { #expect(abs(out.values[j] - expected[j]) < 1e-5, "k \(k) query \(q) entry \(j)") }
                let batched = try knn.impute(batch: [input])[0]
                #expect(zip(batched.values, out.values).allSatisfy { abs($0 - $1) < 1e-9 })
            }
        }
    }

    /// The σ of an imputed entry is the weighted spread of the neighbours: 0 when k = 1.
    @Test func singleNeighbourHasZeroSpread() throws {
        let ref = Fixture.patterns(30, seed: 25)
        let knn = KNNImputer(reference: ref, k: 1, layout: Fixture.layout)
        let out = try knn.impute(Fixture.measured(Fixture.patterns(1, seed: 26), row: 0, mask: Fixture.mask(keeping: [(1, 1)])))
        for j in out.imputed.indices where out.imputed[j] { #expect(out.stddev[j] == 0) }
    }

    /// The file round-trips (float32 exactly, float16 within half-precision rounding) and refuses
    /// another layout.
    @Test func fileRoundTripAndLayoutCheck() throws {
        let ref = Fixture.patterns(20, seed: 27)
        let knn = KNNImputer(reference: ref, k: 3, layout: Fixture.layout)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("knn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for half in [false, true] {
            let url = dir.appendingPathComponent("knn-\(half).safetensors")
            try knn.safeTensors(float16: half).write(to: url)
            let back = try KNNImputer(contentsOf: url, layout: Fixture.layout)
            #expect(back.k == 3)
            let worst = back.reference.maxAbsDifference(ref)
            #expect(half ? worst <= 2.5e-4 : worst == 0)
            let other = LabelingLayout(experimentIDs: ["E1"], fragments: [("a", 3), ("b", 2), ("c", 4)])
            #expect(throws: ImputerFileError.self) { try KNNImputer(contentsOf: url, layout: other) }
        }
    }

    /// Half precision: exact on representable values, round-to-nearest otherwise.
    @Test func halfPrecisionConversion() {
        for x: Float in [0, 1, 0.5, 0.25, -2, 65504, 6.1035156e-05, 5.9604645e-08] {
            #expect(HalfPrecision.value(HalfPrecision.bits(x)) == x, "\(x)")
        }
        var rng = SplitMix64(seed: 28)
        for _ in 0..<1000 {
            let x = Float(Double(rng.next() >> 11) * 0x1p-53)
            let y = HalfPrecision.value(HalfPrecision.bits(x))
            #expect(abs(y - x) <= max(abs(x) * 0x1p-11, 0x1p-25), "\(x) → \(y)")
        }
        #expect(HalfPrecision.value(HalfPrecision.bits(1e6)) == .infinity)
        #expect(HalfPrecision.value(HalfPrecision.bits(.nan)).isNaN)
    }
}

struct MaskSamplerTests {
    /// Masks keep whole MIDs, within the requested experiment counts, and at least one MID.
    @Test func masksKeepWholeMIDsOfTheRequestedExperiments() {
        let layout = Fixture.layout
        var rng = SplitMix64(seed: 31)
        for shared in [true, false] {
            let sampler = MaskSampler(experiments: 1...2, metabolites: 0...0.5, sharedMetabolites: shared)
            for _ in 0..<200 {
                let mask = sampler.sample(layout, using: &rng)
                var experiments = Set<Int>()
                for e in layout.experimentIDs.indices {
                    for f in layout.fragmentNames.indices {
                        let range = layout.range(experiment: e, fragment: f)
                        let kept = range.filter { mask[$0] }.count
                        #expect(kept == 0 || kept == range.count)
                        if kept > 0 { experiments.insert(e) }
                    }
                }
                #expect((1...2).contains(experiments.count))
            }
        }
    }

    /// Noise leaves unmeasured entries alone and keeps measured MIDs distributions.
    @Test func noiseKeepsDistributions() {
        let layout = Fixture.layout
        let p = Fixture.patterns(1, seed: 32)
        let values = (0..<layout.count).map { Double(p[0, $0]) }
        let mask = Fixture.mask(keeping: [(0, 0), (2, 2)])
        var rng = SplitMix64(seed: 33)
        let noisy = MIDNoise.perturb(values, mask: mask, sigma: 0.05, layout: layout, using: &rng)
        for j in values.indices where !mask[j] { #expect(noisy[j] == values[j]) }
        for (e, f) in [(0, 0), (2, 2)] {
            let range = layout.range(experiment: e, fragment: f)
            #expect(range.allSatisfy { noisy[$0] >= 0 })
            #expect(abs(range.reduce(0.0) { $0 + noisy[$1] } - 1) < 1e-12)
        }
    }
}

struct MLPImputerTests {
    /// A few epochs on a tiny problem lower the validation error, and the file round-trips.
    @Test func trainsAndRoundTrips() throws {
        let train = Fixture.patterns(256, seed: 41), validation = Fixture.patterns(32, seed: 42)
        var c = MLPImputerConfiguration()
        c.width = 16; c.hidden = 16; c.blocks = 1; c.epochs = 4; c.batchSize = 32; c.dropout = 0
        c.learningRate = 3e-3
        let (imputer, epochs, _) = MLPImputerTraining.train(patterns: train, validation: validation, layout: Fixture.layout, configuration: c)
        #expect(epochs.count == 4)
        #expect(epochs.last!.trainingLoss < epochs.first!.trainingLoss)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mlp-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try imputer.safeTensors().write(to: url)
        let back = try MLPImputer(contentsOf: url, layout: Fixture.layout)
        #expect(back.network == imputer.network && back.center == imputer.center && back.support == imputer.support)
    }
}

struct MLPSupportTests {
    /// Entries outside the training support are imputed as exactly 0; the MID still sums to 1.
    @Test func entriesNoTrainingPatternPopulatedAreZero() throws {
        let layout = Fixture.layout
        var rng = SplitMix64(seed: 61)
        let net = ResidualMLP(inputs: 2 * layout.count, width: 8, hidden: 8, blocks: 1, outputs: layout.count, dropout: 0, using: &rng)
        var patterns = Fixture.patterns(10, seed: 62)
        // Entry 2 of MID (1, 0) and entry 0 of MID (2, 2) never populated.
        let zeroed = [layout.range(experiment: 1, fragment: 0).lowerBound + 2, layout.range(experiment: 2, fragment: 2).lowerBound]
        for r in 0..<patterns.rows { for j in zeroed { patterns[r, j] = 0 } }
        let support = MLPImputer.support(of: patterns)
        #expect(support.indices.allSatisfy { support[$0] == !zeroed.contains($0) })
        let imputer = MLPImputer(network: net, center: [Float](repeating: 0.3, count: layout.count), layout: layout, support: support)
        let out = try imputer.impute(Fixture.measured(patterns, row: 0, mask: Fixture.mask(keeping: [(0, 0)])))
        for j in zeroed { #expect(out.values[j] == 0) }
        for (e, f) in [(1, 0), (2, 2)] {
            #expect(abs(layout.range(experiment: e, fragment: f).reduce(0.0) { $0 + out.values[$1] } - 1) < 1e-12)
        }
    }
}
