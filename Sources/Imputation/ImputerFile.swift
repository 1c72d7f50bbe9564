import Foundation
import MLFluxCore
import NeuralNetworks

/// What every imputer's safetensors file records besides its tensors: the strategy
/// (`mlflux.imputer`) and the labeling layout it was built for (`mlflux.layout`, JSON), so a
/// file cannot be used with a bundle of another layout.
enum ImputerFile {
    static let imputerKey = "mlflux.imputer", layoutKey = "mlflux.layout"

    static func metadata(imputer: String, layout: LabelingLayout) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(layout)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return [imputerKey: imputer, layoutKey: json]
    }

    /// Throws unless `file` is a `kind` imputer file for `layout`.
    static func check(_ file: SafeTensors, kind: String, layout: LabelingLayout) throws {
        guard file.metadata[imputerKey] == kind else {
            throw ImputerFileError(file: file.source, reason: "is not a '\(kind)' imputer file (metadata \(imputerKey) = '\(file.metadata[imputerKey] ?? "")')")
        }
        guard let text = file.metadata[layoutKey],
              let stored = try? JSONDecoder().decode(LabelingLayout.self, from: Data(text.utf8)) else {
            throw ImputerFileError(file: file.source, reason: "has no readable \(layoutKey) metadata")
        }
        guard stored == layout else {
            throw ImputerFileError(file: file.source, reason: "was built for another labeling layout (\(stored.experimentIDs.count) experiments × \(stored.fragmentNames.count) fragments, \(stored.count) entries; the bundle has \(layout.experimentIDs.count) × \(layout.fragmentNames.count), \(layout.count)); retrain it with `mlflux train imputer`")
        }
    }
}

/// An imputer file that cannot be used; names the file.
public struct ImputerFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "\(file): \(reason)" }
}

extension KNNImputer {
    /// The reference set as a safetensors file: `reference` (`F16` or `F32`, `[references, entries]`),
    /// metadata `k`, `mlflux.imputer = "knn"`, `mlflux.layout`.
    public func safeTensors(float16: Bool = true, metadata: [String: String] = [:]) -> SafeTensors {
        let shape = [reference.rows, reference.columns]
        let t = float16 ? SafeTensor(float16: reference.storage, shape: shape) : SafeTensor(reference.storage, shape: shape)
        let meta = metadata.merging(ImputerFile.metadata(imputer: "knn", layout: layout)) { $1 }
            .merging(["k": String(k)]) { $1 }
        return SafeTensors(tensors: ["reference": t], metadata: meta)
    }

    /// Reads a reference set written by `safeTensors(float16:metadata:)` for `layout`.
    /// - Throws: `SafeTensorsError` / `ImputerFileError` naming the file.
    public init(contentsOf url: URL, layout: LabelingLayout, name: String = "knn") throws {
        let file = try SafeTensors(contentsOf: url)
        try ImputerFile.check(file, kind: "knn", layout: layout)
        guard let t = file.tensors["reference"] else { throw SafeTensorsError.missingTensor(file: file.source, tensor: "reference") }
        guard t.shape.count == 2, t.shape[0] >= 1, t.shape[1] == layout.count, let values = t.floatsWidening else {
            throw ImputerFileError(file: file.source, reason: "tensor 'reference' must be F16 or F32 of shape [references ≥ 1, \(layout.count)], found \(t.dtype.rawValue) \(t.shape)")
        }
        guard values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw ImputerFileError(file: file.source, reason: "tensor 'reference' holds a value that is not a fraction (finite, ≥ 0)")
        }
        guard let k = Int(file.metadata["k"] ?? ""), k >= 1 else {
            throw ImputerFileError(file: file.source, reason: "metadata 'k' must be a whole number ≥ 1, found '\(file.metadata["k"] ?? "")'")
        }
        self.init(reference: Matrix(rows: t.shape[0], columns: t.shape[1], storage: values), k: k, layout: layout, name: name)
    }
}
