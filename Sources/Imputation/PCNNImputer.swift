import Foundation
import MLFluxCore
import NeuralNetworks

/// How a labeling is laid out as an image for the partial-convolution U-Net.
public enum PCNNArrangement: String, Codable, Sendable, CaseIterable {
    /// Experiments as channels: image `[experiments, fragments, longest MID]`, cell `(e, f, k)`.
    case channels
    /// The paper's matrix: one channel, row `e · fragments + f`, column `k`
    /// (`LabelingLayout`'s matrix), image `[1, experiments · fragments, longest MID]`.
    case rows
}

/// Where each entry of a `LabelingLayout` sits in a PCNN image. Cells past a fragment's MID
/// (padding to the longest MID) hold no entry: mask 0, loss weight 0, never read back.
public struct PCNNImage: Sendable, Equatable {
    public let arrangement: PCNNArrangement
    public let channels: Int, height: Int, width: Int
    /// Flat image index `(c · height + y) · width + x` of each layout entry, in layout order.
    public let cell: [Int]
    /// One range of image indices per MID (contiguous along `x`), in layout order.
    public let groups: [Range<Int>]

    public init(layout: LabelingLayout, arrangement: PCNNArrangement) {
        let ne = layout.experimentIDs.count, nf = layout.fragmentNames.count, nk = layout.columns
        self.arrangement = arrangement
        switch arrangement {
        case .channels: (channels, height, width) = (ne, nf, nk)
        case .rows: (channels, height, width) = (1, ne * nf, nk)
        }
        var cell = [Int](repeating: 0, count: layout.count), groups: [Range<Int>] = []
        for e in 0..<ne {
            for f in 0..<nf {
                // channels: (c = e, y = f); rows: (c = 0, y = e·nf + f) — the same flat index,
                // only the shape the convolutions see differs.
                let start = (e * nf + f) * nk
                let range = layout.range(experiment: e, fragment: f)
                for (k, i) in range.enumerated() { cell[i] = start + k }
                groups.append(start ..< start + range.count)
            }
        }
        self.cell = cell
        self.groups = groups
    }

    /// Values per image, `channels · height · width`.
    public var size: Int { channels * height * width }
}

/// The PCNN imputer (ML-Flux's first imputer, Liu et al. 2018 inpainting): the labeling laid
/// out as an image (`PCNNArrangement`), a `PartialConvUNet` fills it from the measured cells,
/// and a softmax per MID over its output makes every imputed MID a distribution.
///
/// Input: values `v − c` at measured cells (`c` the mean training pattern, `center`), with a
/// per-channel mask (1 measured, 0 missing or padding); missing cells are zeroed before the
/// network, and partial convolutions never read a masked cell, so what a missing entry holds
/// changes nothing. Output: `[channels, height, width]` logits, a softmax over each MID's
/// cells (`GroupSoftmax`, padding cells outside every group). Entries outside `support` —
/// isotopologues no training pattern populated — are imputed as exactly 0 (as `MLPImputer`).
/// Measured entries are passed through unchanged (`ImputedLabeling(completing:estimate:)`);
/// σ is not estimated (NaN).
public struct PCNNImputer: Imputer {
    public let name: String
    public let layout: LabelingLayout
    public let network: PartialConvUNet
    public let image: PCNNImage
    /// Mean training pattern `[entries]`.
    public let center: [Float]
    /// `true` at entries some training pattern had above 0 (others are imputed as 0).
    public let support: [Bool]
    public let softmax: GroupSoftmax

    public init(network: PartialConvUNet, center: [Float], layout: LabelingLayout, arrangement: PCNNArrangement,
                support: [Bool]? = nil, name: String = "pcnn") {
        let image = PCNNImage(layout: layout, arrangement: arrangement)
        precondition(network.configuration.inChannels == image.channels && network.configuration.outChannels == image.channels,
                     "the network maps \(network.configuration.inChannels) → \(network.configuration.outChannels) channels; the \(arrangement.rawValue) image has \(image.channels)")
        precondition(center.count == layout.count, "center has \(center.count) entries, the layout \(layout.count)")
        self.name = name
        self.layout = layout
        self.network = network
        self.image = image
        self.center = center
        self.support = support ?? [Bool](repeating: true, count: layout.count)
        precondition(self.support.count == layout.count, "support has \(self.support.count) entries, the layout \(layout.count)")
        self.softmax = GroupSoftmax(width: image.size, groups: image.groups)
    }

    /// Writes one measurement into image `x` and its per-channel mask `m` (`image.size` each,
    /// zero-filled by the caller): `v − c` and 1 at measured entries, 0 elsewhere.
    static func encode(values: (Int) -> Float, mask: (Int) -> Bool, center: [Float], image: PCNNImage,
                       x: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>) {
        for j in center.indices where mask(j) {
            let c = image.cell[j]
            x[c] = values(j) - center[j]
            m[c] = 1
        }
    }

    /// The network input of `batch`: images and per-channel masks.
    func tensors(_ batch: [MeasuredLabeling]) -> (x: Tensor4, mask: Tensor4) {
        let s = image.size
        var x = Tensor4(batch: batch.count, channels: image.channels, height: image.height, width: image.width)
        var m = x
        x.storage.withUnsafeMutableBufferPointer { px in
            m.storage.withUnsafeMutableBufferPointer { pm in
                for (b, meas) in batch.enumerated() {
                    Self.encode(values: { Float(meas.values[$0]) }, mask: { meas.mask[$0] }, center: center, image: image,
                                x: px.baseAddress! + b * s, m: pm.baseAddress! + b * s)
                }
            }
        }
        return (x, m)
    }

    public func impute(_ measured: MeasuredLabeling) throws -> ImputedLabeling {
        try impute(batch: [measured])[0]
    }

    public func impute(batch: [MeasuredLabeling]) throws -> [ImputedLabeling] {
        for m in batch { try checkInput(m) }
        guard !batch.isEmpty else { return [] }
        var out: [ImputedLabeling] = []
        out.reserveCapacity(batch.count)
        let s = image.size
        var begin = 0
        while begin < batch.count {
            let chunk = Array(batch[begin ..< min(begin + 256, batch.count)])
            begin += chunk.count
            let (x, mask) = tensors(chunk)
            let y = network(x, mask: mask).output
            let p = softmax(y.flattened)
            for (b, m) in chunk.enumerated() {
                let estimate = (0..<layout.count).map { support[$0] ? Double(p.storage[b * s + image.cell[$0]]) : 0 }
                out.append(ImputedLabeling(completing: m, estimate: estimate))
            }
        }
        return out
    }

    // MARK: File

    static let arrangementKey = "mlflux.pcnn.arrangement"

    /// The U-Net's tensors (`PartialConvUNet.safeTensors`) plus `center` and `support`
    /// (`F32 [entries]`); metadata `mlflux.imputer = "pcnn"`, `mlflux.layout`,
    /// `mlflux.pcnn.arrangement` and the caller's.
    public func safeTensors(metadata: [String: String] = [:]) -> SafeTensors {
        let meta = metadata.merging(ImputerFile.metadata(imputer: "pcnn", layout: layout)) { $1 }
            .merging([Self.arrangementKey: image.arrangement.rawValue]) { $1 }
        var file = network.safeTensors(metadata: meta)
        file.tensors["center"] = SafeTensor(center, shape: [layout.count])
        file.tensors["support"] = SafeTensor(support.map { $0 ? Float(1) : 0 }, shape: [layout.count])
        return file
    }

    /// Reads a file written by `safeTensors(metadata:)` for `layout`.
    public init(contentsOf url: URL, layout: LabelingLayout, name: String = "pcnn") throws {
        let file = try SafeTensors(contentsOf: url)
        try self.init(file, layout: layout, name: name)
    }

    /// Rebuilds an imputer from `file` (see `safeTensors(metadata:)`) for `layout`.
    public init(_ file: SafeTensors, layout: LabelingLayout, name: String = "pcnn") throws {
        try ImputerFile.check(file, kind: "pcnn", layout: layout)
        guard let arrangement = file.metadata[Self.arrangementKey].flatMap(PCNNArrangement.init(rawValue:)) else {
            throw ImputerFileError(file: file.source, reason: "metadata \(Self.arrangementKey) must be one of \(PCNNArrangement.allCases.map(\.rawValue).joined(separator: ", ")), found '\(file.metadata[Self.arrangementKey] ?? "")'")
        }
        let center = try file.floats("center", shape: [layout.count])
        let support = try file.floats("support", shape: [layout.count]).map { $0 > 0 }
        guard center.allSatisfy(\.isFinite) else {
            throw ImputerFileError(file: file.source, reason: "tensor 'center' holds a non-finite value")
        }
        var unet = file
        unet.tensors["center"] = nil
        unet.tensors["support"] = nil
        let network = try PartialConvUNet(unet)
        let image = PCNNImage(layout: layout, arrangement: arrangement)
        guard network.configuration.inChannels == image.channels, network.configuration.outChannels == image.channels else {
            throw ImputerFileError(file: file.source, reason: "the network maps \(network.configuration.inChannels) → \(network.configuration.outChannels) channels; the \(arrangement.rawValue) image of the layout needs \(image.channels) → \(image.channels)")
        }
        self.init(network: network, center: center, layout: layout, arrangement: arrangement, support: support, name: name)
    }
}
