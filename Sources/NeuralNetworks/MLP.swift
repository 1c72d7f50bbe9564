/// A multilayer perceptron: a chain of `Dense` layers, `y = layers[n−1](…layers[0](x))`.
///
/// - `x` is `[batch, inputWidth]`, the result `[batch, outputWidth]`.
/// - Parameters are named `layers.<i>.weight` (`[inputs, outputs]`) and `layers.<i>.bias`
///   (`[outputs]`); these names are the keys of the safetensors file (`SafeTensors`).
/// - `MLP(widths: [120, 256, 256, 256, 3], hidden: .relu, output: .identity, using: &rng)`
///   builds the ML-Flux style predictor.
public struct MLP: Equatable, Sendable {
    public var layers: [Dense]

    public init(layers: [Dense]) {
        for (a, b) in zip(layers, layers.dropFirst()) {
            precondition(a.outputs == b.inputs, "layer widths do not chain: \(a.outputs) → \(b.inputs)")
        }
        self.layers = layers
    }

    /// Layers `widths[i] → widths[i+1]`, `hidden` after every layer but the last, `output` after the last.
    public init(widths: [Int], hidden: Activation = .relu, output: Activation = .identity,
                using rng: inout some RandomNumberGenerator) {
        precondition(widths.count >= 2, "an MLP needs at least an input and an output width")
        var layers: [Dense] = []
        for i in 0..<(widths.count - 1) {
            let f = i == widths.count - 2 ? output : hidden
            layers.append(Dense(inputs: widths[i], outputs: widths[i + 1], activation: f, using: &rng))
        }
        self.init(layers: layers)
    }

    /// `[inputs, hidden…, outputs]`.
    public var widths: [Int] { (layers.first.map { [$0.inputs] } ?? []) + layers.map(\.outputs) }
    public var inputWidth: Int { layers.first?.inputs ?? 0 }
    public var outputWidth: Int { layers.last?.outputs ?? 0 }
    /// Total number of scalar parameters.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.weight.storage.count + $1.bias.count } }

    /// Forward pass, `[batch, inputWidth] → [batch, outputWidth]`.
    /// - Complexity: `2·batch·Σ inputs·outputs` flops.
    public func callAsFunction(_ x: Matrix) -> Matrix {
        var h = x
        for layer in layers { h = layer(h) }
        return h
    }

    /// Forward pass keeping every activation: `result[0] = x`, `result[i+1] = layers[i](result[i])`.
    public func forwardTrace(_ x: Matrix) -> [Matrix] {
        var acts = [x]
        acts.reserveCapacity(layers.count + 1)
        for layer in layers { acts.append(layer(acts.last!)) }
        return acts
    }

    /// Parameter gradients, one entry per layer (same order and names as `parameters`).
    public typealias Gradients = [Dense.Gradients]

    /// Backward pass from `∂L/∂output`, given the trace of `forwardTrace`.
    /// - Returns: gradients of every parameter, and `∂L/∂x` when `needsInputGradient`.
    public func backward(trace: [Matrix], outputGradient: Matrix,
                         needsInputGradient: Bool = false) -> (parameters: Gradients, input: Matrix?) {
        precondition(trace.count == layers.count + 1, "trace must come from forwardTrace")
        var grads = [Dense.Gradients?](repeating: nil, count: layers.count)
        var g = outputGradient
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let (pg, gx) = layers[i].backward(input: trace[i], output: trace[i + 1], outputGradient: g,
                                              needsInputGradient: i > 0 || needsInputGradient)
            grads[i] = pg
            if let gx { g = gx }
        }
        return (grads.map { $0! }, needsInputGradient ? g : nil)
    }

    // MARK: Parameters by name

    /// `(name, shape, values)` of every parameter in a stable order:
    /// `layers.0.weight`, `layers.0.bias`, `layers.1.weight`, …
    public var parameters: [(name: String, shape: [Int], values: [Float])] {
        layers.enumerated().flatMap { i, l in
            [("layers.\(i).weight", [l.inputs, l.outputs], l.weight.storage),
             ("layers.\(i).bias", [l.outputs], l.bias)]
        }
    }

    /// Names of `parameters`, in order.
    public var parameterNames: [String] { parameters.map(\.name) }

    /// Calls `body(index, name, parameter, gradient)` for every parameter in `parameters` order
    /// with mutable access to its values (the optimiser's hook).
    public mutating func updateParameters(
        _ gradients: Gradients,
        _ body: (Int, String, UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void
    ) {
        precondition(gradients.count == layers.count, "gradients are for \(gradients.count) layers, model has \(layers.count)")
        for i in layers.indices {
            precondition(gradients[i].weight.storage.count == layers[i].weight.storage.count)
            gradients[i].weight.storage.withUnsafeBufferPointer { g in
                layers[i].weight.storage.withUnsafeMutableBufferPointer { body(2 * i, "layers.\(i).weight", $0, g) }
            }
            gradients[i].bias.withUnsafeBufferPointer { g in
                layers[i].bias.withUnsafeMutableBufferPointer { body(2 * i + 1, "layers.\(i).bias", $0, g) }
            }
        }
    }
}
