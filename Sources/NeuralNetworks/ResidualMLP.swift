import Foundation

/// An MLP with residual GELU blocks (the masked-imputer network of the newest ML-Flux):
///
/// ```
/// h0  = x·Win + bin                    [batch, width]
/// h_i = blocks[i−1](h_{i−1})           (ResidualBlock: h + gelu(h·W1 + b1)·W2 + b2, dropout in training)
/// y   = h_n·Wout + bout                [batch, outputs]
/// ```
///
/// Parameters are named `input.weight` (`[inputs, width]`), `input.bias`, `blocks.<i>.fc1.weight`
/// (`[width, hidden]`), `blocks.<i>.fc1.bias`, `blocks.<i>.fc2.weight` (`[hidden, width]`),
/// `blocks.<i>.fc2.bias`, `output.weight` (`[width, outputs]`), `output.bias`; these are the keys
/// of its safetensors file (metadata `mlflux.kind = "residual-mlp"`, `mlflux.dropout`).
public struct ResidualMLP: Equatable, Sendable {
    public var input: Dense
    public var blocks: [ResidualBlock]
    public var output: Dense
    /// Applied inside every block during training (`forwardTrace(_:using:)`), never at inference.
    public var dropout: Dropout

    public init(input: Dense, blocks: [ResidualBlock], output: Dense, dropout: Dropout = Dropout(rate: 0)) {
        precondition(input.activation == .identity && output.activation == .identity, "input and output maps are affine")
        precondition(blocks.allSatisfy { $0.width == input.outputs } && output.inputs == input.outputs,
                     "residual MLP widths do not chain")
        self.input = input
        self.blocks = blocks
        self.output = output
        self.dropout = dropout
    }

    /// A fresh network: `inputs → width`, `blocks` blocks of hidden width `hidden`, `width → outputs`.
    public init(inputs: Int, width: Int, hidden: Int, blocks: Int, outputs: Int, dropout: Float,
                using rng: inout some RandomNumberGenerator) {
        let input = Dense(inputs: inputs, outputs: width, using: &rng)
        let b = (0..<blocks).map { _ in ResidualBlock(width: width, hidden: hidden, using: &rng) }
        let output = Dense(inputs: width, outputs: outputs, using: &rng)
        self.init(input: input, blocks: b, output: output, dropout: Dropout(rate: dropout))
    }

    public var inputWidth: Int { input.inputs }
    public var outputWidth: Int { output.outputs }
    public var width: Int { input.outputs }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.values.count } }

    /// Inference (no dropout): `[batch, inputs] → [batch, outputs]`.
    /// - Complexity: `2·batch·(inputs·width + 2·blocks·width·hidden + width·outputs)` flops.
    public func callAsFunction(_ x: Matrix) -> Matrix {
        var h = input(x)
        for b in blocks { h = b(h) }
        return output(h)
    }

    /// The forward pass of one training step.
    public struct Trace: Sendable {
        public var x: Matrix
        /// `h0 … h_n`.
        public var hidden: [Matrix]
        public var blocks: [ResidualBlock.Trace]
        public var output: Matrix
    }

    /// Training forward pass: dropout masks drawn from `rng` (none when the rate is 0).
    public func forwardTrace(_ x: Matrix, using rng: inout some RandomNumberGenerator) -> Trace {
        var hs = [input(x)], traces: [ResidualBlock.Trace] = []
        for b in blocks {
            let m = dropout.rate > 0 ? dropout.mask(count: x.rows * b.hidden, using: &rng) : []
            let (h, t) = b.forward(hs.last!, dropoutMask: m)
            hs.append(h)
            traces.append(t)
        }
        return Trace(x: x, hidden: hs, blocks: traces, output: output(hs.last!))
    }

    /// Parameter gradients in `parameters` order: input, each block's fc1 and fc2, output.
    public typealias Gradients = [Dense.Gradients]

    /// Backward pass from `∂L/∂y`; returns the parameter gradients and `∂L/∂x`.
    public func backward(trace t: Trace, outputGradient g: Matrix) -> (parameters: Gradients, input: Matrix) {
        let (go, gh) = output.backward(input: t.hidden.last!, output: t.output, outputGradient: g)
        var grad = gh!
        var blockGrads: [Dense.Gradients] = []
        for i in stride(from: blocks.count - 1, through: 0, by: -1) {
            let (pg, gi) = blocks[i].backward(input: t.hidden[i], trace: t.blocks[i], outputGradient: grad)
            blockGrads = [pg.fc1, pg.fc2] + blockGrads
            grad = gi
        }
        let (gin, gx) = input.backward(input: t.x, output: t.hidden[0], outputGradient: grad)
        return ([gin] + blockGrads + [go], gx!)
    }

    // MARK: Parameters by name

    /// `(name, shape, values)` of every parameter, in the stable order of `Gradients`.
    public var parameters: [(name: String, shape: [Int], values: [Float])] {
        layerList.flatMap { name, l in
            [("\(name).weight", [l.inputs, l.outputs], l.weight.storage), ("\(name).bias", [l.outputs], l.bias)]
        }
    }

    private var layerList: [(String, Dense)] {
        [("input", input)] + blocks.enumerated().flatMap { i, b in [("blocks.\(i).fc1", b.fc1), ("blocks.\(i).fc2", b.fc2)] }
            + [("output", output)]
    }

    private mutating func withLayer(_ k: Int, _ body: (inout Dense) -> Void) {
        if k == 0 { body(&input) }
        else if k == 2 * blocks.count + 1 { body(&output) }
        else if (k - 1) % 2 == 0 { body(&blocks[(k - 1) / 2].fc1) }
        else { body(&blocks[(k - 1) / 2].fc2) }
    }

    public static let kind = "residual-mlp"
    public static let dropoutKey = "mlflux.dropout"

    /// The parameters as F32 tensors; metadata `mlflux.kind`, `mlflux.dropout` and the caller's.
    public func safeTensors(metadata: [String: String] = [:]) -> SafeTensors {
        var tensors: [String: SafeTensor] = [:]
        for p in parameters { tensors[p.name] = SafeTensor(p.values, shape: p.shape) }
        var meta = metadata
        meta[MLP.kindKey] = Self.kind
        meta[Self.dropoutKey] = String(dropout.rate)
        return SafeTensors(tensors: tensors, metadata: meta)
    }

    /// Rebuilds a network from a file written by `safeTensors(metadata:)`: sizes from the
    /// tensor shapes, the block count from the `blocks.<i>` names.
    public init(_ file: SafeTensors) throws {
        guard file.metadata[MLP.kindKey] == Self.kind else {
            throw SafeTensorsError.invalidMetadata(file: file.source, key: MLP.kindKey,
                                                   reason: "'\(file.metadata[MLP.kindKey] ?? "")' is not '\(Self.kind)'")
        }
        func dense(_ name: String) throws -> Dense {
            guard let w = file.tensors["\(name).weight"], w.shape.count == 2, w.shape.allSatisfy({ $0 >= 1 }) else {
                throw SafeTensorsError.missingTensor(file: file.source, tensor: "\(name).weight")
            }
            let weight = try file.floats("\(name).weight", shape: w.shape)
            let bias = try file.floats("\(name).bias", shape: [w.shape[1]])
            return Dense(weight: Matrix(rows: w.shape[0], columns: w.shape[1], storage: weight), bias: bias)
        }
        let inp = try dense("input"), out = try dense("output")
        var blocks: [ResidualBlock] = []
        while file.tensors["blocks.\(blocks.count).fc1.weight"] != nil {
            let i = blocks.count
            let fc1 = try dense("blocks.\(i).fc1"), fc2 = try dense("blocks.\(i).fc2")
            guard fc1.inputs == inp.outputs, fc2.inputs == fc1.outputs, fc2.outputs == inp.outputs else {
                throw SafeTensorsError.invalidMetadata(file: file.source, key: "blocks.\(i)", reason: "layer widths do not chain")
            }
            blocks.append(ResidualBlock(fc1: fc1, fc2: fc2))
        }
        guard out.inputs == inp.outputs else {
            throw SafeTensorsError.invalidMetadata(file: file.source, key: "output.weight", reason: "its \(out.inputs) inputs differ from the width \(inp.outputs)")
        }
        let rate = Float(file.metadata[Self.dropoutKey] ?? "0") ?? -1
        guard rate >= 0 && rate < 1 else {
            throw SafeTensorsError.invalidMetadata(file: file.source, key: Self.dropoutKey, reason: "not a rate in [0, 1)")
        }
        self.init(input: inp, blocks: blocks, output: out, dropout: Dropout(rate: rate))
    }
}

extension ResidualMLP: ParameterUpdatable {
    public mutating func updateParameters(
        _ gradients: Gradients,
        _ body: (Int, String, UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void
    ) {
        let names = layerList.map(\.0)
        precondition(gradients.count == names.count, "gradients are for \(gradients.count) layers, the network has \(names.count)")
        for k in names.indices {
            withLayer(k) { layer in
                precondition(gradients[k].weight.storage.count == layer.weight.storage.count)
                gradients[k].weight.storage.withUnsafeBufferPointer { g in
                    layer.weight.storage.withUnsafeMutableBufferPointer { body(2 * k, "\(names[k]).weight", $0, g) }
                }
                gradients[k].bias.withUnsafeBufferPointer { g in
                    layer.bias.withUnsafeMutableBufferPointer { body(2 * k + 1, "\(names[k]).bias", $0, g) }
                }
            }
        }
    }
}
