import Bundles
import Foundation

extension LoadedDataset {
    /// `load(_:for:)`, with its warnings (an older dataset without a network hash) on stderr.
    static func reading(_ directory: String, for bundle: ModelBundle) throws -> LoadedDataset {
        let d = try load(directory, for: bundle)
        for w in d.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        return d
    }
}
