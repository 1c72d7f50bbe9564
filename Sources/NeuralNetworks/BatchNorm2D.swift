/// Batch normalisation over the channels of an NCHW tensor (Ioffe & Szegedy 2015).
///
/// Per channel `c`, over the `N·H·W` values of that channel in the batch:
/// ```
/// training:  μ = mean(x), σ² = mean((x − μ)²)               (batch statistics, biased)
///            running ← (1 − momentum)·running + momentum·batch (variance: unbiased, ·m/(m−1))
/// inference: μ = runningMean, σ² = runningVariance
/// y = γ·(x − μ)/√(σ² + ε) + β
/// ```
/// Every position counts, masked ones included (after a `PartialConv2D` they hold 0): the
/// statistics then depend on the valid inputs only, as the layer's outputs do.
///
/// - `gamma`, `beta`, `runningMean`, `runningVariance` are `[channels]`; initially γ = 1,
///   β = 0, running mean 0, running variance 1. γ and β are trained; the running statistics
///   are buffers, updated by `updateRunningStatistics` and saved with the parameters.
public struct BatchNorm2D: Equatable, Sendable {
    public let channels: Int
    public var gamma: [Float]
    public var beta: [Float]
    public var runningMean: [Float]
    public var runningVariance: [Float]
    /// Weight of the newest batch in the running averages (PyTorch's `momentum`, 0.1).
    public var momentum: Float
    public var epsilon: Float

    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        precondition(channels >= 1, "BatchNorm2D needs at least one channel")
        self.channels = channels
        gamma = [Float](repeating: 1, count: channels)
        beta = [Float](repeating: 0, count: channels)
        runningMean = [Float](repeating: 0, count: channels)
        runningVariance = [Float](repeating: 1, count: channels)
        self.momentum = momentum
        self.epsilon = epsilon
    }

    /// What backward needs from a forward pass.
    public struct Cache: Equatable, Sendable {
        /// `x̂ = (x − μ)/√(σ² + ε)`, shaped like the input.
        public var normalized: Tensor4
        /// `1/√(σ² + ε)` per channel.
        public var inverseStd: [Float]
        /// The batch mean and biased variance per channel (training), or the running ones.
        public var mean: [Float]
        public var variance: [Float]
        /// Whether batch statistics were used (then backward differentiates through them).
        public var training: Bool
    }

    /// `y = γ·x̂ + β` with batch statistics (`training`) or the running ones.
    public func forward(_ x: Tensor4, training: Bool) -> (output: Tensor4, cache: Cache) {
        precondition(x.channels == channels, "BatchNorm2D expects \(channels) channels, got \(x.channels)")
        let hw = x.planeSize, count = x.batch * hw
        var mean = runningMean, variance = runningVariance
        if training {
            precondition(count >= 1, "batch statistics need at least one value per channel")
            for c in 0..<channels {
                var s = 0.0
                for n in 0..<x.batch {
                    let base = (n * channels + c) * hw
                    for i in 0..<hw { s += Double(x.storage[base + i]) }
                }
                let mu = s / Double(count)
                var v = 0.0
                for n in 0..<x.batch {
                    let base = (n * channels + c) * hw
                    for i in 0..<hw { let d = Double(x.storage[base + i]) - mu; v += d * d }
                }
                mean[c] = Float(mu)
                variance[c] = Float(v / Double(count))
            }
        }
        let inv = variance.map { 1 / ($0 + epsilon).squareRoot() }
        var y = x
        let xhat = Tensor4(batch: x.batch, channels: channels, height: x.height, width: x.width) { ph in
            x.storage.withUnsafeBufferPointer { px in
                y.storage.withUnsafeMutableBufferPointer { py in
                    for n in 0..<x.batch {
                        for c in 0..<channels {
                            let base = (n * channels + c) * hw
                            let (mu, s, g, b) = (mean[c], inv[c], gamma[c], beta[c])
                            for i in base..<(base + hw) {
                                let h = (px[i] - mu) * s
                                ph[i] = h
                                py[i] = g * h + b
                            }
                        }
                    }
                }
            }
        }
        return (y, Cache(normalized: xhat, inverseStd: inv, mean: mean, variance: variance, training: training))
    }

    /// Inference: `forward(x, training: false).output`.
    public func callAsFunction(_ x: Tensor4) -> Tensor4 { forward(x, training: false).output }

    /// Folds a training forward pass's batch statistics into the running averages (the
    /// variance made unbiased with that batch's `m = N·H·W`: `σ²·m/(m − 1)`); a no-op for an
    /// inference cache.
    public mutating func updateRunningStatistics(_ cache: Cache) {
        guard cache.training else { return }
        let m = Float(cache.normalized.batch * cache.normalized.planeSize)
        let unbias = m > 1 ? m / (m - 1) : 1
        for c in 0..<channels {
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * cache.mean[c]
            runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * cache.variance[c] * unbias
        }
    }

    /// Gradients of γ and β.
    public struct Gradients: Equatable, Sendable {
        public var gamma: [Float]
        public var beta: [Float]
    }

    /// The backward pass. With `G = ∂L/∂y` and `m = N·H·W`, per channel:
    /// `∂L/∂γ = Σ G·x̂`, `∂L/∂β = Σ G`; training:
    /// `∂L/∂x = (γ/√(σ²+ε))·(G − (Σ G)/m − x̂·(Σ G·x̂)/m)`; inference: `∂L/∂x = γ·G/√(σ²+ε)`.
    public func backward(_ cache: Cache, outputGradient g: Tensor4) -> (parameters: Gradients, input: Tensor4) {
        let xhat = cache.normalized
        precondition(g.shape == xhat.shape, "output gradient has shape \(g.shape), expected \(xhat.shape)")
        let hw = xhat.planeSize, m = Float(xhat.batch * hw)
        var sumG = [Double](repeating: 0, count: channels), sumGX = sumG
        for n in 0..<xhat.batch {
            for c in 0..<channels {
                let base = (n * channels + c) * hw
                var a = 0.0, b = 0.0
                for i in base..<(base + hw) {
                    a += Double(g.storage[i])
                    b += Double(g.storage[i]) * Double(xhat.storage[i])
                }
                sumG[c] += a
                sumGX[c] += b
            }
        }
        var gx = g
        for n in 0..<xhat.batch {
            for c in 0..<channels {
                let base = (n * channels + c) * hw
                let scale = gamma[c] * cache.inverseStd[c]
                if cache.training {
                    let mg = Float(sumG[c]) / m, mgx = Float(sumGX[c]) / m
                    for i in base..<(base + hw) { gx.storage[i] = scale * (g.storage[i] - mg - xhat.storage[i] * mgx) }
                } else {
                    for i in base..<(base + hw) { gx.storage[i] = scale * g.storage[i] }
                }
            }
        }
        return (Gradients(gamma: sumGX.map { Float($0) }, beta: sumG.map { Float($0) }), gx)
    }
}
