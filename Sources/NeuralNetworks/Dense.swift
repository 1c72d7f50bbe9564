/// A fully connected layer: `y = f(x·W + b)`.
///
/// - `weight` `W` is `[inputs, outputs]` (row-major `Matrix`), `bias` `b` is `[outputs]`.
/// - `x` is `[batch, inputs]`, `y` is `[batch, outputs]`; `f` is `activation`.
/// - Initialisation (`init(inputs:outputs:activation:using:)`): He normal
///   `W ~ N(0, 2/inputs)` for `relu`, Glorot uniform `W ~ U(±√(6/(inputs+outputs)))` otherwise;
///   `b = 0`.
///
/// Backward (`backward(input:output:outputGradient:)`), with `G = ∂L/∂y`:
/// `Δ = G ⊙ f′(y)`, `∂L/∂W = xᵀ·Δ`, `∂L/∂b = Σ_rows Δ`, `∂L/∂x = Δ·Wᵀ`.
public struct Dense: Equatable, Sendable {
    /// `[inputs, outputs]`.
    public var weight: Matrix
    /// `[outputs]`.
    public var bias: [Float]
    public var activation: Activation

    public var inputs: Int { weight.rows }
    public var outputs: Int { weight.columns }

    /// A layer with the given parameters; `bias.count` must equal `weight.columns`.
    public init(weight: Matrix, bias: [Float], activation: Activation = .identity) {
        precondition(bias.count == weight.columns, "bias has \(bias.count) values, weight has \(weight.columns) outputs")
        self.weight = weight
        self.bias = bias
        self.activation = activation
    }

    /// A freshly initialised layer (He normal for ReLU, Glorot uniform otherwise, zero bias).
    public init(inputs: Int, outputs: Int, activation: Activation = .identity,
                using rng: inout some RandomNumberGenerator) {
        var w = [Float](repeating: 0, count: inputs * outputs)
        if activation == .relu {
            let std = (2.0 / Double(max(inputs, 1))).squareRoot()
            for i in w.indices { w[i] = Float(std * rng.nextGaussian()) }
        } else {
            let limit = (6.0 / Double(max(inputs + outputs, 1))).squareRoot()
            for i in w.indices { w[i] = Float(rng.nextUniform(-limit, limit)) }
        }
        self.init(weight: Matrix(rows: inputs, columns: outputs, storage: w),
                  bias: [Float](repeating: 0, count: outputs), activation: activation)
    }

    /// `f(x·W + b)`: `[batch, inputs] → [batch, outputs]`.
    /// - Complexity: `2·batch·inputs·outputs` flops (one `sgemm`).
    @inlinable
    public func callAsFunction(_ x: Matrix) -> Matrix {
        var y = Matrix(rows: x.rows, columns: outputs, unsafeUninitialized: { _ in })
        forward(x, into: &y)
        return y
    }

    /// Writes `f(x·W + b)` into `y` (`[batch, outputs]`, its old contents are ignored).
    @inlinable
    public func forward(_ x: Matrix, into y: inout Matrix) {
        precondition(x.columns == inputs, "Dense expects \(inputs) input columns, got \(x.columns)")
        let n = outputs
        // y ← broadcast bias, then y ← x·W + y
        y.storage.withUnsafeMutableBufferPointer { py in
            bias.withUnsafeBufferPointer { pb in
                for r in 0..<x.rows { (py.baseAddress! + r * n).update(from: pb.baseAddress!, count: n) }
            }
        }
        Matrix.gemm(x, weight, beta: 1, into: &y)
        y.storage.withUnsafeMutableBufferPointer { activation.apply($0) }
    }

    /// Gradients of a loss with respect to the parameters of one `Dense` layer.
    public struct Gradients: Equatable, Sendable {
        /// `∂L/∂W`, `[inputs, outputs]`.
        public var weight: Matrix
        /// `∂L/∂b`, `[outputs]`.
        public var bias: [Float]

        public init(weight: Matrix, bias: [Float]) {
            precondition(bias.count == weight.columns, "bias gradient has \(bias.count) values for \(weight.columns) outputs")
            self.weight = weight
            self.bias = bias
        }
    }

    /// Backward pass through the layer.
    ///
    /// - Parameters:
    ///   - input: `x` from the forward pass, `[batch, inputs]`.
    ///   - output: `y = f(x·W + b)` from the forward pass, `[batch, outputs]`.
    ///   - outputGradient: `∂L/∂y`, `[batch, outputs]`.
    ///   - needsInputGradient: `false` skips `∂L/∂x` (the first layer of a network).
    /// - Returns: parameter gradients and `∂L/∂x` (`[batch, inputs]`, or `nil` when skipped).
    /// - Complexity: `4·batch·inputs·outputs` flops (`2·…` without the input gradient).
    public func backward(input x: Matrix, output y: Matrix, outputGradient: Matrix,
                         needsInputGradient: Bool = true) -> (parameters: Gradients, input: Matrix?) {
        var delta = outputGradient
        backwardInPlace(input: x, output: y, delta: &delta)
        var grads = Gradients(weight: Matrix(rows: inputs, columns: outputs, unsafeUninitialized: { _ in }),
                              bias: [Float](repeating: 0, count: outputs))
        accumulateParameterGradients(input: x, delta: delta, into: &grads, beta: 0)
        var gx: Matrix? = nil
        if needsInputGradient {
            var m = Matrix(rows: x.rows, columns: inputs, unsafeUninitialized: { _ in })
            inputGradient(delta: delta, into: &m)
            gx = m
        }
        return (grads, gx)
    }

    /// `delta ← delta ⊙ f′(y)`: turns `∂L/∂y` into `∂L/∂z` in place.
    @inlinable
    public func backwardInPlace(input x: Matrix, output y: Matrix, delta: inout Matrix) {
        precondition(delta.rows == y.rows && delta.columns == outputs && y.columns == outputs)
        y.storage.withUnsafeBufferPointer { py in
            delta.storage.withUnsafeMutableBufferPointer { activation.backward(output: py, gradient: $0) }
        }
    }

    /// `∂L/∂W ← xᵀ·Δ + beta·∂L/∂W`, `∂L/∂b ← Σ_rows Δ + beta·∂L/∂b`.
    @inlinable
    public func accumulateParameterGradients(input x: Matrix, delta: Matrix, into g: inout Gradients, beta: Float) {
        Matrix.gemm(x, transposeA: true, delta, beta: beta, into: &g.weight)
        let n = outputs
        delta.storage.withUnsafeBufferPointer { pd in
            g.bias.withUnsafeMutableBufferPointer { pb in
                if beta == 0 { pb.update(repeating: 0) } else if beta != 1 { for j in 0..<n { pb[j] *= beta } }
                for r in 0..<delta.rows {
                    let row = pd.baseAddress! + r * n
                    for j in 0..<n { pb[j] += row[j] }
                }
            }
        }
    }

    /// `∂L/∂x ← Δ·Wᵀ` into `gx` (`[batch, inputs]`).
    @inlinable
    public func inputGradient(delta: Matrix, into gx: inout Matrix) {
        Matrix.gemm(delta, weight, transposeB: true, into: &gx)
    }
}
