import Foundation
import Imputation
import MLFluxCore
import NeuralNetworks
import TestSupport
import Testing

/// A small layout (3 experiments × MIDs of 3, 2 and 4 entries) and random complete patterns on it.
enum Fixture {
    static let layout = LabelingLayout(experimentIDs: ["E1", "E2", "E3"], fragments: [("a", 3), ("b", 2), ("c", 4)])

    /// `n` random complete patterns (every MID a random distribution).
    static func patterns(_ n: Int, seed: UInt64) -> Matrix {
        var rng = SplitMix64(seed: seed)
        var out: [Float] = []
        for _ in 0..<n {
            for _ in layout.experimentIDs {
                for size in layout.isotopologues {
                    let raw = (0..<size).map { _ in Float(Double(rng.next() >> 11) * 0x1p-53) + 0.01 }
                    let s = raw.reduce(0, +)
                    out += raw.map { $0 / s }
                }
            }
        }
        return Matrix(rows: n, columns: layout.count, storage: out)
    }

    /// Row `r` of `m` measured where `mask` is true; missing entries hold `fill`.
    static func measured(_ m: Matrix, row r: Int, mask: [Bool], fill: Double = .nan) -> MeasuredLabeling {
        let d = m.columns
        let values = (0..<d).map { mask[$0] ? Double(m.storage[r * d + $0]) : fill }
        return MeasuredLabeling(layout: layout, values: values, stddev: [Double](repeating: .nan, count: d), mask: mask)
    }

    /// A mask keeping whole MIDs `(experiment, fragment)`.
    static func mask(keeping pairs: [(Int, Int)]) -> [Bool] {
        var m = [Bool](repeating: false, count: layout.count)
        for (e, f) in pairs { for i in layout.range(experiment: e, fragment: f) { m[i] = true } }
        return m
    }

    /// A KNN imputer and (untrained, randomly initialised) MLP and PCNN imputers on `patterns(64)`.
    static func imputers() -> [any Imputer] {
        let ref = patterns(64, seed: 1)
        var rng = SplitMix64(seed: 2)
        let net = ResidualMLP(inputs: 2 * layout.count, width: 16, hidden: 24, blocks: 2, outputs: layout.count, dropout: 0.1, using: &rng)
        let center = (0..<layout.count).map { j in (0..<ref.rows).reduce(Float(0)) { $0 + ref[$1, j] } / Float(ref.rows) }
        var urng = SeededRandom(seed: 3)
        let unet = PartialConvUNet(.init(inChannels: 3, outChannels: 3, widths: [4, 8]), using: &urng)
        return [KNNImputer(reference: ref, k: 3, layout: layout), MLPImputer(network: net, center: center, layout: layout),
                PCNNImputer(network: unet, center: center, layout: layout, arrangement: .channels)]
    }
}

/// The `Imputer` contract, checked on every strategy against its definition.
struct ImputerContractTests {
    @Test(arguments: [0, 1, 2])
    func knownEntriesAreUnchangedAndImputedMIDsAreDistributions(_ which: Int) throws {
        let imputer = Fixture.imputers()[which]
        let queries = Fixture.patterns(20, seed: 9)
        var rng = SplitMix64(seed: 3)
        let sampler = MaskSampler(experiments: 1...2, metabolites: 0.3...0.7)
        for r in 0..<queries.rows {
            let mask = sampler.sample(Fixture.layout, using: &rng)
            let input = Fixture.measured(queries, row: r, mask: mask)
            let out = try imputer.impute(input)
            #expect(out.imputed == mask.map { !$0 })
            for j in mask.indices where mask[j] {
                #expect(out.values[j].bitPattern == input.values[j].bitPattern, "\(imputer.name): known entry \(j) changed")
            }
            let layout = Fixture.layout
            for e in layout.experimentIDs.indices {
                for f in layout.fragmentNames.indices {
                    let range = layout.range(experiment: e, fragment: f)
                    guard out.imputed[range.lowerBound] else { continue }
                    #expect(range.allSatisfy { out.values[$0] >= 0 && out.values[$0].isFinite })
                    #expect(abs(range.reduce(0.0) { $0 + out.values[$1] } - 1) < 1e-12, "\(imputer.name): MID (\(e), \(f)) does not sum to 1")
                }
            }
        }
    }

    @Test(arguments: [0, 1, 2])
    func maskedValuesAreNeverRead(_ which: Int) throws {
        let imputer = Fixture.imputers()[which]
        let queries = Fixture.patterns(5, seed: 10)
        let mask = Fixture.mask(keeping: [(0, 0), (1, 2), (2, 1)])
        for r in 0..<queries.rows {
            let base = try imputer.impute(Fixture.measured(queries, row: r, mask: mask, fill: .nan))
            for fill in [0.0, 0.7, -3, 1e30] {
                let other = try imputer.impute(Fixture.measured(queries, row: r, mask: mask, fill: fill))
                #expect(other.values == base.values, "\(imputer.name): masked values \(fill) changed the output")
            }
            // Also the true values at the masked entries give the same answer.
            let truth = Fixture.measured(queries, row: r, mask: [Bool](repeating: true, count: Fixture.layout.count))
            var withTruth = truth
            withTruth.mask = mask
            #expect(try imputer.impute(withTruth).values == base.values)
        }
    }

    @Test(arguments: [0, 1, 2])
    func nothingMeasuredIsAnError(_ which: Int) throws {
        let imputer = Fixture.imputers()[which]
        let empty = Fixture.measured(Fixture.patterns(1, seed: 4), row: 0, mask: [Bool](repeating: false, count: Fixture.layout.count))
        #expect(throws: ImputationError.nothingMeasured(imputer: imputer.name)) { try imputer.impute(empty) }
        #expect(ImputationError.nothingMeasured(imputer: imputer.name).description.contains("every entry is missing"))
    }

    @Test(arguments: [0, 1, 2])
    func batchEqualsOneAtATime(_ which: Int) throws {
        let imputer = Fixture.imputers()[which]
        let queries = Fixture.patterns(7, seed: 11)
        var rng = SplitMix64(seed: 5)
        let sampler = MaskSampler(experiments: 1...3, metabolites: 0.2...1)
        let inputs = (0..<7).map { Fixture.measured(queries, row: $0, mask: sampler.sample(Fixture.layout, using: &rng)) }
        let batch = try imputer.impute(batch: inputs)
        for (i, input) in inputs.enumerated() {
            let one = try imputer.impute(input)
            for j in one.values.indices { #expect(abs(one.values[j] - batch[i].values[j]) < 1e-5) }
        }
    }
}
