import Foundation

/// A weights file that parses as safetensors but cannot be a valid `PartialConvUNet`.
public enum PartialConvUNetFileError: Error, Equatable, CustomStringConvertible {
    /// A NaN or infinity in a tensor (first offending element).
    case nonFiniteValue(file: String, tensor: String, index: Int)
    /// A batch-norm running variance below 0.
    case negativeVariance(file: String, tensor: String, index: Int)

    public var description: String {
        switch self {
        case let .nonFiniteValue(f, t, i): return "\(f): tensor '\(t)' holds a non-finite value at element \(i)"
        case let .negativeVariance(f, t, i): return "\(f): tensor '\(t)' holds a negative variance at element \(i)"
        }
    }
}

/// Saving and loading a `PartialConvUNet` as safetensors.
///
/// Tensors: every entry of `parameters` and `buffers` under its name (F32, its shape).
/// Metadata: `mlflux.kind = "pcnn-unet"` and `mlflux.pcnn` = the `Configuration` as JSON
/// (`{"inChannels":1,"outChannels":1,"widths":[32,64,64],"kernelSize":3,…}`), plus whatever
/// the caller adds (other keys are kept, for the caller's own layout description).
///
/// Loading checks, and names the tensor in a one-line error: the kind and configuration,
/// every tensor present with dtype F32 and the configuration's shape, no unexpected tensors,
/// every value finite, running variances ≥ 0.
extension PartialConvUNet {
    public static let kind = "pcnn-unet"
    /// Metadata key holding the configuration JSON.
    public static let configurationKey = "mlflux.pcnn"

    /// Parameters and buffers as F32 tensors, the configuration in the metadata.
    public func safeTensors(metadata: [String: String] = [:]) -> SafeTensors {
        var tensors: [String: SafeTensor] = [:]
        for p in parameters + buffers { tensors[p.name] = SafeTensor(p.values, shape: p.shape) }
        var meta = metadata
        meta[MLP.kindKey] = Self.kind
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        meta[Self.configurationKey] = String(decoding: try! encoder.encode(configuration), as: UTF8.self)
        return SafeTensors(tensors: tensors, metadata: meta)
    }

    /// Rebuilds a network from a file written by `safeTensors(metadata:)`.
    /// - Throws: `SafeTensorsError` (metadata, missing, unexpected or misshapen tensors) or
    ///   `PartialConvUNetFileError` (non-finite values, negative variances).
    public init(_ file: SafeTensors) throws {
        let src = file.source
        guard file.metadata[MLP.kindKey] == Self.kind else {
            throw SafeTensorsError.invalidMetadata(file: src, key: MLP.kindKey,
                                                   reason: "'\(file.metadata[MLP.kindKey] ?? "(missing)")' is not '\(Self.kind)'")
        }
        guard let json = file.metadata[Self.configurationKey] else {
            throw SafeTensorsError.invalidMetadata(file: src, key: Self.configurationKey, reason: "missing")
        }
        let configuration: Configuration
        do { configuration = try JSONDecoder().decode(Configuration.self, from: Data(json.utf8)) } catch {
            throw SafeTensorsError.invalidMetadata(file: src, key: Self.configurationKey, reason: "not a PartialConvUNet configuration")
        }
        if let p = configuration.problem {
            throw SafeTensorsError.invalidMetadata(file: src, key: Self.configurationKey, reason: p)
        }
        var rng = SeededRandom(seed: 0)
        var model = PartialConvUNet(configuration, using: &rng)
        var values: [String: [Float]] = [:]
        let expected = model.parameters + model.buffers
        for e in expected {
            let v = try file.floats(e.name, shape: e.shape)
            if let i = v.firstIndex(where: { !$0.isFinite }) {
                throw PartialConvUNetFileError.nonFiniteValue(file: src, tensor: e.name, index: i)
            }
            if e.name.hasSuffix(".running_var"), let i = v.firstIndex(where: { $0 < 0 }) {
                throw PartialConvUNetFileError.negativeVariance(file: src, tensor: e.name, index: i)
            }
            values[e.name] = v
        }
        let known = Set(expected.map(\.name))
        if let extra = file.tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw SafeTensorsError.unexpectedTensor(file: src, tensor: extra)
        }
        let grads = model.parameters.map { values[$0.name]! }
        model.updateParameters(grads) { _, _, theta, v in _ = theta.update(fromContentsOf: v) }
        for i in 0..<model.depth {
            model.encoderNorms[i].runningMean = values["encoder.\(i).norm.running_mean"]!
            model.encoderNorms[i].runningVariance = values["encoder.\(i).norm.running_var"]!
            model.decoderNorms[i].runningMean = values["decoder.\(i).norm.running_mean"]!
            model.decoderNorms[i].runningVariance = values["decoder.\(i).norm.running_var"]!
        }
        self = model
    }

    /// Writes the network to `url` (see `safeTensors(metadata:)`), atomically.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try safeTensors(metadata: metadata).write(to: url)
    }

    /// Reads a network written by `save(to:metadata:)`.
    public init(contentsOf url: URL) throws {
        try self.init(SafeTensors(contentsOf: url))
    }
}
