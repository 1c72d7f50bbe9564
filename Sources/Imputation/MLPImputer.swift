import Foundation
import MLFluxCore
import NeuralNetworks

/// The masked residual MLP imputer of the newest ML-Flux: the network sees the measured values
/// and the observation mask, and outputs every MID as a softmax, so each imputed MID is a
/// distribution by construction.
///
/// Input (`2 · entries` columns): `[(v − c) ⊙ m, m]` with `v` the labeling (anything at missing
/// entries), `m` the mask (1 measured, 0 missing) and `c` the mean training pattern (`center`),
/// so a missing entry reads exactly as 0 whatever its value. Output: logits `[entries]`, turned
/// into probabilities by a softmax per MID (`GroupSoftmax` over the layout's MIDs in flat
/// order). Entries outside `support` — isotopologues no training pattern ever populated, e.g.
/// M+2 of a fragment that can carry one label under a tracer — are imputed as exactly 0 (a
/// softmax never gives 0, and predictors reading log features amplify a stray 1e-5 where the
/// truth is structurally 0). Measured entries are passed through unchanged; σ is not
/// estimated (NaN).
public struct MLPImputer: Imputer {
    public let name: String
    public let layout: LabelingLayout
    public let network: ResidualMLP
    /// Mean training pattern `[entries]`.
    public let center: [Float]
    public let softmax: GroupSoftmax
    /// `true` at entries some training pattern had above 0 (others are imputed as 0).
    public let support: [Bool]

    public init(network: ResidualMLP, center: [Float], layout: LabelingLayout, support: [Bool]? = nil, name: String = "mlp") {
        precondition(network.inputWidth == 2 * layout.count && network.outputWidth == layout.count && center.count == layout.count,
                     "the network maps \(network.inputWidth) → \(network.outputWidth); the layout needs \(2 * layout.count) → \(layout.count)")
        self.name = name
        self.layout = layout
        self.network = network
        self.center = center
        self.softmax = Self.softmax(for: layout)
        self.support = support ?? [Bool](repeating: true, count: layout.count)
        precondition(self.support.count == layout.count, "support has \(self.support.count) entries, the layout \(layout.count)")
    }

    /// `true` at the entries where some row of `patterns` is above 0.
    public static func support(of patterns: Matrix) -> [Bool] {
        var s = [Bool](repeating: false, count: patterns.columns)
        for r in 0..<patterns.rows { for j in 0..<patterns.columns where patterns[r, j] > 0 { s[j] = true } }
        return s
    }

    /// One softmax group per MID, in flat layout order.
    public static func softmax(for layout: LabelingLayout) -> GroupSoftmax {
        GroupSoftmax(sizes: layout.experimentIDs.flatMap { _ in layout.isotopologues })
    }

    /// Writes the network input of one measurement into `row` (`2 · entries` values).
    static func encode(values: (Int) -> Float, mask: (Int) -> Bool, center: [Float], into row: UnsafeMutablePointer<Float>) {
        let d = center.count
        for j in 0..<d {
            if mask(j) {
                row[j] = values(j) - center[j]
                row[d + j] = 1
            } else {
                row[j] = 0
                row[d + j] = 0
            }
        }
    }

    public func impute(_ measured: MeasuredLabeling) throws -> ImputedLabeling {
        try impute(batch: [measured])[0]
    }

    public func impute(batch: [MeasuredLabeling]) throws -> [ImputedLabeling] {
        for m in batch { try checkInput(m) }
        guard !batch.isEmpty else { return [] }
        let d = layout.count
        var x = Matrix(rows: batch.count, columns: 2 * d)
        x.storage.withUnsafeMutableBufferPointer { px in
            for (b, m) in batch.enumerated() {
                Self.encode(values: { Float(m.values[$0]) }, mask: { m.mask[$0] }, center: center,
                            into: px.baseAddress! + b * 2 * d)
            }
        }
        let p = softmax(network(x))
        return batch.enumerated().map { b, m in
            ImputedLabeling(completing: m, estimate: (0..<d).map { support[$0] ? Double(p.storage[b * d + $0]) : 0 })
        }
    }

    // MARK: File

    /// The network's tensors plus `center` and `support` (`F32 [entries]`, 1 or 0); metadata `mlflux.imputer = "mlp"`,
    /// `mlflux.layout` and the caller's.
    public func safeTensors(metadata: [String: String] = [:]) -> SafeTensors {
        var file = network.safeTensors(metadata: metadata.merging(ImputerFile.metadata(imputer: "mlp", layout: layout)) { $1 })
        file.tensors["center"] = SafeTensor(center, shape: [layout.count])
        file.tensors["support"] = SafeTensor(support.map { $0 ? Float(1) : 0 }, shape: [layout.count])
        return file
    }

    /// Reads a file written by `safeTensors(metadata:)` for `layout`.
    public init(contentsOf url: URL, layout: LabelingLayout, name: String = "mlp") throws {
        let file = try SafeTensors(contentsOf: url)
        try ImputerFile.check(file, kind: "mlp", layout: layout)
        let network = try ResidualMLP(file)
        guard network.inputWidth == 2 * layout.count, network.outputWidth == layout.count else {
            throw ImputerFileError(file: file.source, reason: "the network maps \(network.inputWidth) → \(network.outputWidth) values; the layout needs \(2 * layout.count) → \(layout.count)")
        }
        let center = try file.floats("center", shape: [layout.count])
        let support = try file.tensors["support"].map { _ in try file.floats("support", shape: [layout.count]).map { $0 > 0 } }
        self.init(network: network, center: center, layout: layout, support: support, name: name)
    }
}
