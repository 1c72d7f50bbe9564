/// A pre-activation-free residual block with a GELU hidden layer and dropout:
///
/// ```
/// z   = h·W1 + b1              [batch, hidden]
/// a   = gelu(z) ⊙ m            m: dropout mask (all ones at inference)
/// out = h + a·W2 + b2          [batch, width]
/// ```
///
/// `fc1` is `[width, hidden]`, `fc2` is `[hidden, width]` (both `Dense` with identity
/// activation). Initialisation: `fc1` He normal, `fc2` Glorot uniform scaled by `0.1`, so a fresh
/// block is close to the identity and deep stacks start stable.
///
/// Backward, with `G = ∂L/∂out`: `∂L/∂W2 = aᵀG`, `∂L/∂b2 = Σ_rows G`,
/// `Δ = (G·W2ᵀ) ⊙ m ⊙ gelu′(z)`, `∂L/∂W1 = hᵀΔ`, `∂L/∂b1 = Σ_rows Δ`, `∂L/∂h = G + Δ·W1ᵀ`.
public struct ResidualBlock: Equatable, Sendable {
    public var fc1: Dense
    public var fc2: Dense

    public var width: Int { fc1.inputs }
    public var hidden: Int { fc1.outputs }

    public init(fc1: Dense, fc2: Dense) {
        precondition(fc1.outputs == fc2.inputs && fc2.outputs == fc1.inputs,
                     "residual block widths do not chain: \(fc1.inputs)→\(fc1.outputs), \(fc2.inputs)→\(fc2.outputs)")
        precondition(fc1.activation == .identity && fc2.activation == .identity, "residual block layers are affine")
        self.fc1 = fc1
        self.fc2 = fc2
    }

    /// A fresh block of `width` → `hidden` → `width`.
    public init(width: Int, hidden: Int, using rng: inout some RandomNumberGenerator) {
        var fc1 = Dense(inputs: width, outputs: hidden, activation: .relu, using: &rng)   // He normal
        fc1.activation = .identity
        var fc2 = Dense(inputs: hidden, outputs: width, using: &rng)
        for i in fc2.weight.storage.indices { fc2.weight.storage[i] *= 0.1 }
        self.init(fc1: fc1, fc2: fc2)
    }

    /// What the backward pass needs from the forward pass.
    public struct Trace: Sendable {
        /// Pre-activation `z`, `[batch, hidden]`.
        public var z: Matrix
        /// `gelu(z) ⊙ m`, `[batch, hidden]`.
        public var a: Matrix
        /// The dropout mask `m` (empty: none).
        public var mask: [Float]
    }

    /// Inference: `h + gelu(h·W1 + b1)·W2 + b2`.
    public func callAsFunction(_ h: Matrix) -> Matrix { forward(h, dropoutMask: []).output }

    /// Forward pass with a dropout mask of `batch × hidden` elements (empty: no dropout).
    public func forward(_ h: Matrix, dropoutMask: [Float]) -> (output: Matrix, trace: Trace) {
        let z = fc1(h)
        var a = GELU.apply(z)
        if !dropoutMask.isEmpty { Dropout.apply(dropoutMask, to: &a) }
        var out = h
        let b2 = fc2.bias
        out.storage.withUnsafeMutableBufferPointer { po in
            for r in 0..<h.rows { for j in 0..<width { po[r * width + j] += b2[j] } }
        }
        Matrix.gemm(a, fc2.weight, beta: 1, into: &out)
        return (out, Trace(z: z, a: a, mask: dropoutMask))
    }

    /// Gradients of `fc1` and `fc2`.
    public struct Gradients: Equatable, Sendable {
        public var fc1: Dense.Gradients
        public var fc2: Dense.Gradients
    }

    /// Backward pass: parameter gradients and `∂L/∂h`, given the block's input `h`, its trace
    /// and `∂L/∂out`.
    /// - Complexity: `6·batch·width·hidden` flops.
    public func backward(input h: Matrix, trace: Trace, outputGradient g: Matrix) -> (parameters: Gradients, input: Matrix) {
        var g2 = Dense.Gradients(weight: Matrix(rows: hidden, columns: width), bias: .init(repeating: 0, count: width))
        fc2.accumulateParameterGradients(input: trace.a, delta: g, into: &g2, beta: 0)
        var delta = Matrix(rows: g.rows, columns: hidden)
        fc2.inputGradient(delta: g, into: &delta)
        if !trace.mask.isEmpty { Dropout.apply(trace.mask, to: &delta) }
        trace.z.storage.withUnsafeBufferPointer { pz in
            delta.storage.withUnsafeMutableBufferPointer { GELU.backward(pz, gradient: $0) }
        }
        var g1 = Dense.Gradients(weight: Matrix(rows: width, columns: hidden), bias: .init(repeating: 0, count: hidden))
        fc1.accumulateParameterGradients(input: h, delta: delta, into: &g1, beta: 0)
        var gh = g
        Matrix.gemm(delta, fc1.weight, transposeB: true, beta: 1, into: &gh)
        return (Gradients(fc1: g1, fc2: g2), gh)
    }
}
