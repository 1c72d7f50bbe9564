import Bundles
import Foundation

extension LoadedDataset {
    /// `load(_:for:)`, with its warnings (an older dataset without a network hash) on stderr.
    static func reading(_ directory: String, for bundle: ModelBundle) throws -> LoadedDataset {
        let d = try load(directory, for: bundle)
        for w in d.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        return d
    }

    /// Training and validation rows of `folders` (each a split folder with train/ and
    /// validation/, or a dataset whose last 10 % validate), concatenated in order.
    static func trainingParts(_ folders: [String], for bundle: ModelBundle) throws -> (train: LoadedDataset, validation: LoadedDataset) {
        var train: [LoadedDataset] = [], validation: [LoadedDataset] = []
        for dir in folders {
            let trainDir = (dir as NSString).appendingPathComponent("train")
            if FileManager.default.fileExists(atPath: trainDir) {
                train.append(try reading(trainDir, for: bundle))
                validation.append(try reading((dir as NSString).appendingPathComponent("validation"), for: bundle))
            } else {
                let all = try reading(dir, for: bundle)
                let cut = all.count - max(1, all.count / 10)
                train.append(all.slice(0..<cut))
                validation.append(all.slice(cut..<all.count))
            }
        }
        return (concatenate(train), concatenate(validation))
    }
}
