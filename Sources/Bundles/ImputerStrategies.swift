import Foundation
import Imputation
import MLFluxCore

/// Factories of the imputers in `StrategyRegistry.table`, and where their files live in a bundle.
public enum ImputerStrategies {
    /// `files` key and default path of the KNN reference set.
    public static let knnKey = "imputer.knn", knnPath = "imputers/knn.safetensors"
    /// `files` key and default path of the masked-MLP weights.
    public static let mlpKey = "imputer.mlp", mlpPath = "imputers/mlp.safetensors"
    /// `files` key and default path of the partial-convolution U-Net.
    public static let pcnnKey = "imputer.pcnn", pcnnPath = "imputers/pcnn.safetensors"

    @Sendable static func knn(_ bundle: ModelBundle, _ options: StrategyRegistry.Options) throws -> any Imputer {
        try KNNImputer(contentsOf: URL(fileURLWithPath: try bundle.file(knnKey)), layout: bundle.layout)
    }

    @Sendable static func mlp(_ bundle: ModelBundle, _ options: StrategyRegistry.Options) throws -> any Imputer {
        try MLPImputer(contentsOf: URL(fileURLWithPath: try bundle.file(mlpKey)), layout: bundle.layout)
    }

    @Sendable static func pcnn(_ bundle: ModelBundle, _ options: StrategyRegistry.Options) throws -> any Imputer {
        try PCNNImputer(contentsOf: URL(fileURLWithPath: try bundle.file(pcnnKey)), layout: bundle.layout)
    }
}
