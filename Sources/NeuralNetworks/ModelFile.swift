import Foundation

/// Saving and loading an `MLP` as safetensors.
///
/// Tensors: `layers.<i>.weight` (F32 `[inputs, outputs]`) and `layers.<i>.bias` (F32 `[outputs]`).
/// Metadata: `mlflux.kind = "mlp"`, `mlflux.widths = "120,256,256,256,3"`,
/// `mlflux.activations = "relu,relu,relu,identity"`, plus whatever the caller adds.
extension MLP {
    /// Metadata keys describing the architecture.
    public static let kindKey = "mlflux.kind", widthsKey = "mlflux.widths", activationsKey = "mlflux.activations"

    /// The parameters as F32 tensors with the architecture in the metadata.
    public func safeTensors(metadata: [String: String] = [:]) -> SafeTensors {
        var tensors: [String: SafeTensor] = [:]
        for p in parameters { tensors[p.name] = SafeTensor(p.values, shape: p.shape) }
        var meta = metadata
        meta[Self.kindKey] = "mlp"
        meta[Self.widthsKey] = widths.map(String.init).joined(separator: ",")
        meta[Self.activationsKey] = layers.map(\.activation.rawValue).joined(separator: ",")
        return SafeTensors(tensors: tensors, metadata: meta)
    }

    /// Copies parameters from `file` into this model. Every parameter must be present with
    /// dtype F32 and this model's shape; with `strict`, `layers.*` tensors this model does not
    /// have are an error too. Nothing is changed when an error is thrown.
    public mutating func load(_ file: SafeTensors, strict: Bool = true) throws {
        var copy = self
        for i in layers.indices {
            copy.layers[i].weight.storage = try file.floats("layers.\(i).weight", shape: [layers[i].inputs, layers[i].outputs])
            copy.layers[i].bias = try file.floats("layers.\(i).bias", shape: [layers[i].outputs])
        }
        if strict {
            let known = Set(parameterNames)
            if let extra = file.tensors.keys.sorted().first(where: { $0.hasPrefix("layers.") && !known.contains($0) }) {
                throw SafeTensorsError.unexpectedTensor(file: file.source, tensor: extra)
            }
        }
        self = copy
    }

    /// Rebuilds a model from a file written by `safeTensors(metadata:)` (architecture from metadata).
    public init(_ file: SafeTensors) throws {
        func meta(_ key: String) throws -> String {
            guard let v = file.metadata[key] else {
                throw SafeTensorsError.invalidMetadata(file: file.source, key: key, reason: "missing")
            }
            return v
        }
        let widthText = try meta(Self.widthsKey)
        let widths = widthText.split(separator: ",").map { Int($0) }
        guard widths.count >= 2, widths.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw SafeTensorsError.invalidMetadata(file: file.source, key: Self.widthsKey, reason: "'\(widthText)' is not a list of ≥ 2 positive widths")
        }
        let actText = try meta(Self.activationsKey)
        let acts = actText.split(separator: ",").map { Activation(rawValue: String($0)) }
        guard acts.count == widths.count - 1, acts.allSatisfy({ $0 != nil }) else {
            throw SafeTensorsError.invalidMetadata(
                file: file.source, key: Self.activationsKey,
                reason: "'\(actText)' is not \(widths.count - 1) of \(Activation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var model = MLP(layers: (0..<(widths.count - 1)).map { i in
            Dense(weight: Matrix(rows: widths[i]!, columns: widths[i + 1]!), bias: .init(repeating: 0, count: widths[i + 1]!),
                  activation: acts[i]!)
        })
        try model.load(file)
        self = model
    }

    /// Writes the model to `url` (see `safeTensors(metadata:)`).
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try safeTensors(metadata: metadata).write(to: url)
    }

    /// Reads a model written by `save(to:metadata:)`.
    public init(contentsOf url: URL) throws {
        try self.init(SafeTensors(contentsOf: url))
    }
}

/// An `MLP` with input and target standardisation: `predict(x) = target⁻¹(mlp(input(x)))`.
///
/// Stored in one safetensors file: the MLP's tensors plus `input.mean`, `input.std`
/// (`[inputWidth]`) and `target.mean`, `target.std` (`[targetWidth]`). When the network has
/// `2 × targetWidth` outputs it is a Gaussian (`Loss.gaussianNLL`) predictor and
/// `predictWithUncertainty` returns means and standard deviations in target units.
public struct StandardizedMLP: Equatable, Sendable {
    public var mlp: MLP
    public var input: Standardizer
    public var target: Standardizer

    public init(mlp: MLP, input: Standardizer, target: Standardizer) {
        precondition(input.columns == mlp.inputWidth, "input standardizer has \(input.columns) columns, MLP takes \(mlp.inputWidth)")
        precondition(mlp.outputWidth == target.columns || mlp.outputWidth == 2 * target.columns,
                     "MLP has \(mlp.outputWidth) outputs for \(target.columns) targets")
        self.mlp = mlp
        self.input = input
        self.target = target
    }

    /// Whether the network outputs a mean and a log-variance per target.
    public var isGaussian: Bool { mlp.outputWidth == 2 * target.columns && target.columns > 0 }

    /// Predicted targets (the means for a Gaussian network) in original units, `[batch, targetWidth]`.
    public func predict(_ x: Matrix) -> Matrix {
        let z = mlp(input.transform(x))
        if isGaussian { return target.inverse(Loss.gaussianMeanAndStd(z).mean) }
        return target.inverse(z)
    }

    /// Means and standard deviations in original units (`σ = e^(s/2)·target.std`).
    public func predictWithUncertainty(_ x: Matrix) -> (mean: Matrix, std: Matrix) {
        precondition(isGaussian, "the network does not output log-variances")
        var (mean, std) = Loss.gaussianMeanAndStd(mlp(input.transform(x)))
        mean = target.inverse(mean)
        for r in 0..<std.rows { for j in 0..<std.columns { std[r, j] *= target.std[j] } }
        return (mean, std)
    }

    public func safeTensors(metadata: [String: String] = [:]) -> SafeTensors {
        var file = mlp.safeTensors(metadata: metadata)
        file.tensors["input.mean"] = SafeTensor(input.mean, shape: [input.columns])
        file.tensors["input.std"] = SafeTensor(input.std, shape: [input.columns])
        file.tensors["target.mean"] = SafeTensor(target.mean, shape: [target.columns])
        file.tensors["target.std"] = SafeTensor(target.std, shape: [target.columns])
        return file
    }

    public init(_ file: SafeTensors) throws {
        let mlp = try MLP(file)
        let ni = mlp.inputWidth
        let input = Standardizer(mean: try file.floats("input.mean", shape: [ni]), std: try file.floats("input.std", shape: [ni]))
        guard let nt = file.tensors["target.mean"]?.shape.first else {
            throw SafeTensorsError.missingTensor(file: file.source, tensor: "target.mean")
        }
        guard mlp.outputWidth == nt || mlp.outputWidth == 2 * nt else {
            throw SafeTensorsError.shapeMismatch(file: file.source, tensor: "target.mean", expected: [mlp.outputWidth], found: [nt])
        }
        let target = Standardizer(mean: try file.floats("target.mean", shape: [nt]), std: try file.floats("target.std", shape: [nt]))
        self.init(mlp: mlp, input: input, target: target)
    }

    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try safeTensors(metadata: metadata).write(to: url)
    }

    public init(contentsOf url: URL) throws { try self.init(SafeTensors(contentsOf: url)) }
}
