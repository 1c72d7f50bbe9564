/// A U-Net of partial convolutions for inpainting (Liu et al. 2018): values with a validity
/// mask in, every cell filled in out. Generic: it knows images, channels and masks only.
///
/// Shapes (NCHW, `Tensor4`): input `x` is `[N, inChannels, H, W]`, its mask `[N, 1, H, W]`
/// (shared by the channels) or `[N, inChannels, H, W]`, 1 = known, 0 = missing (whatever `x`
/// holds where the mask is 0 is never read, NaN included). Output `[N, outChannels, H, W]`
/// with its mask `[N, 1, H, W]` (1 wherever some known input reached the cell; 0 only when
/// the whole receptive field was missing, and the output there is 0).
///
/// Architecture, depth `D = widths.count`, level 0 the input resolution:
/// ```
/// encoder i = 0..<D:  e[i+1] = ReLU(BN(PConv k×k, stride 2, widths[i])(e[i]))     e[0] = x
/// decoder i = D−1…0:  d[i] = ReLU(BN(PConv k×k, stride 1, widths[max(i−1, 0)])(
///                                   concat(up2×(d[i+1]), e[i])))                 d[D] = e[D]
/// head:               y = PConv 1×1 (outChannels)(d[0])                       (no BN, no ReLU)
/// ```
/// Masks follow the features: each partial convolution updates its mask, `up2×` upsamples it
/// (nearest), `concat` concatenates masks per channel (`Tensor4.concatenateMasks`).
///
/// **Sizes that are not multiples of `2^D`** are padded at the bottom and right to the next
/// multiple (`paddedSize`) with missing cells (value 0, mask 0), and the output is cropped
/// back to `H × W`; so any `H, W ≥ 1` works.
///
/// **Batch norm** uses batch statistics in `forwardTrace(training: true)` (running averages
/// then folded in with `updateRunningStatistics`) and the running averages otherwise.
///
/// **Parameters** (names are the safetensors keys, `parameters` order):
/// `encoder.<i>.conv.weight` `[out, in, k, k]`, `encoder.<i>.conv.bias` `[out]`,
/// `encoder.<i>.norm.gamma`, `encoder.<i>.norm.beta` `[out]`, likewise `decoder.<i>.…` for
/// `i = 0..<D`, then `head.weight` `[outChannels, widths[0], 1, 1]`, `head.bias`. Buffers
/// (saved, not trained): `encoder.<i>.norm.running_mean`, `….running_var`, same for decoders.
public struct PartialConvUNet: Equatable, Sendable, ParameterUpdatable {
    /// The architecture; stored as JSON in the safetensors metadata.
    public struct Configuration: Codable, Equatable, Sendable {
        public var inChannels: Int
        public var outChannels: Int
        /// Encoder widths per level; `widths.count` is the depth `D` (≥ 1).
        public var widths: [Int]
        /// Kernel size of the encoder and decoder partial convolutions (odd, ≥ 1).
        public var kernelSize: Int
        public var batchNormMomentum: Float
        public var batchNormEpsilon: Float

        public init(inChannels: Int, outChannels: Int, widths: [Int] = [32, 64, 64], kernelSize: Int = 3,
                    batchNormMomentum: Float = 0.1, batchNormEpsilon: Float = 1e-5) {
            self.inChannels = inChannels
            self.outChannels = outChannels
            self.widths = widths
            self.kernelSize = kernelSize
            self.batchNormMomentum = batchNormMomentum
            self.batchNormEpsilon = batchNormEpsilon
        }

        /// `nil` when valid, else a sentence saying what is wrong.
        public var problem: String? {
            if inChannels < 1 || outChannels < 1 { return "inChannels and outChannels must be ≥ 1 (got \(inChannels), \(outChannels))" }
            if widths.isEmpty || widths.count > 8 { return "widths needs 1 to 8 levels (got \(widths.count))" }
            if widths.contains(where: { $0 < 1 || $0 > 4096 }) { return "every width must lie in 1…4096 (got \(widths))" }
            if kernelSize < 1 || kernelSize % 2 == 0 || kernelSize > 15 { return "kernelSize must be odd, 1…15 (got \(kernelSize))" }
            if !(batchNormMomentum > 0 && batchNormMomentum <= 1) { return "batchNormMomentum must lie in (0, 1] (got \(batchNormMomentum))" }
            if !(batchNormEpsilon > 0 && batchNormEpsilon.isFinite) { return "batchNormEpsilon must be positive (got \(batchNormEpsilon))" }
            return nil
        }

        public var depth: Int { widths.count }
    }

    public let configuration: Configuration
    /// `encoders[i]`: stride-2 partial convolution of level `i`.
    public var encoders: [PartialConv2D]
    public var encoderNorms: [BatchNorm2D]
    /// `decoders[i]`: the stride-1 partial convolution producing `d[i]`.
    public var decoders: [PartialConv2D]
    public var decoderNorms: [BatchNorm2D]
    /// The 1×1 output layer.
    public var head: PartialConv2D

    /// A freshly initialised network (He normal convolutions, BN γ = 1, β = 0).
    public init(_ configuration: Configuration, using rng: inout some RandomNumberGenerator) {
        if let p = configuration.problem { preconditionFailure("invalid PartialConvUNet configuration: \(p)") }
        let c = configuration, w = c.widths, d = c.depth, k = c.kernelSize
        self.configuration = c
        encoders = (0..<d).map { i in
            PartialConv2D(inChannels: i == 0 ? c.inChannels : w[i - 1], outChannels: w[i], kernelSize: k, stride: 2, using: &rng)
        }
        encoderNorms = w.map { BatchNorm2D(channels: $0, momentum: c.batchNormMomentum, epsilon: c.batchNormEpsilon) }
        decoders = (0..<d).map { i in
            PartialConv2D(inChannels: w[i] + (i == 0 ? c.inChannels : w[i - 1]), outChannels: w[max(i - 1, 0)],
                          kernelSize: k, stride: 1, using: &rng)
        }
        decoderNorms = (0..<d).map { i in
            BatchNorm2D(channels: w[max(i - 1, 0)], momentum: c.batchNormMomentum, epsilon: c.batchNormEpsilon)
        }
        head = PartialConv2D(inChannels: w[0], outChannels: c.outChannels, kernelSize: 1, stride: 1, using: &rng)
    }

    public var depth: Int { configuration.depth }

    /// The size the input is padded to: `H` and `W` rounded up to multiples of `2^D`.
    public func paddedSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let m = 1 << depth
        return ((height + m - 1) / m * m, (width + m - 1) / m * m)
    }

    // MARK: Forward

    /// Everything backward needs from one forward pass.
    public struct Trace: Sendable {
        public let training: Bool
        /// The unpadded input size.
        let height: Int, width: Int
        /// `e[i]`, `i = 0...D` (`e[0]` the padded input), and their masks.
        var encoded: [Tensor4], encodedMasks: [Tensor4]
        var encoderNorm: [BatchNorm2D.Cache]
        /// Decoder `i`: its concatenated input and mask, its BN cache, its output `d[i]` and mask.
        var decoderInput: [Tensor4], decoderInputMask: [Tensor4]
        var decoderNorm: [BatchNorm2D.Cache]
        var decoded: [Tensor4], decodedMasks: [Tensor4]
        /// The network output, `[N, outChannels, H, W]`, and its mask `[N, 1, H, W]`.
        public let output: Tensor4
        public let outputMask: Tensor4
    }

    /// Inference (running BN statistics): `(output, outputMask)`.
    /// - Complexity: about `2·N·Σ_layers outChannels·inChannels·k²·H_l·W_l` flops.
    public func callAsFunction(_ x: Tensor4, mask: Tensor4) -> (output: Tensor4, mask: Tensor4) {
        let t = forwardTrace(x, mask: mask, training: false)
        return (t.output, t.outputMask)
    }

    /// The forward pass, keeping what backward needs. `training` uses batch statistics.
    public func forwardTrace(_ x: Tensor4, mask: Tensor4, training: Bool) -> Trace {
        let c = configuration
        precondition(x.channels == c.inChannels, "PartialConvUNet expects \(c.inChannels) input channels, got \(x.channels)")
        precondition(mask.batch == x.batch && mask.height == x.height && mask.width == x.width
                     && (mask.channels == 1 || mask.channels == x.channels),
                     "mask has shape \(mask.shape), input \(x.shape): the mask needs 1 or \(x.channels) channels and the same N, H, W")
        let (ph, pw) = paddedSize(height: x.height, width: x.width)
        // Zero the missing cells before padding, so NaN placeholders never reach any product.
        var e = [PartialConv2D.masked(x, by: mask).padded(height: ph, width: pw)]
        var em = [mask.padded(height: ph, width: pw)]
        var encNorm: [BatchNorm2D.Cache] = []
        for i in 0..<depth {
            let (z, m) = encoders[i](e[i], mask: em[i])
            var (a, cache) = encoderNorms[i].forward(z, training: training)
            a.storage.withUnsafeMutableBufferPointer { Activation.relu.apply($0) }
            e.append(a); em.append(m); encNorm.append(cache)
        }
        var decIn = [Tensor4](repeating: e[0], count: depth), decInMask = decIn
        var decNorm = [BatchNorm2D.Cache?](repeating: nil, count: depth)
        var d = [Tensor4](repeating: e[0], count: depth + 1), dm = d
        d[depth] = e[depth]; dm[depth] = em[depth]
        for i in stride(from: depth - 1, through: 0, by: -1) {
            let up = NearestUpsampling2x.forward(d[i + 1]), upMask = NearestUpsampling2x.forward(dm[i + 1])
            decIn[i] = Tensor4.concatenate(up, e[i])
            decInMask[i] = Tensor4.concatenateMasks(upMask, channels: up.channels, em[i], channels: e[i].channels)
            let (z, m) = decoders[i](decIn[i], mask: decInMask[i])
            var (a, cache) = decoderNorms[i].forward(z, training: training)
            a.storage.withUnsafeMutableBufferPointer { Activation.relu.apply($0) }
            d[i] = a; dm[i] = m; decNorm[i] = cache
        }
        let (y, ym) = head(d[0], mask: dm[0])
        return Trace(training: training, height: x.height, width: x.width,
                     encoded: e, encodedMasks: em, encoderNorm: encNorm,
                     decoderInput: decIn, decoderInputMask: decInMask, decoderNorm: decNorm.map { $0! },
                     decoded: d, decodedMasks: dm,
                     output: y.cropped(height: x.height, width: x.width), outputMask: ym.cropped(height: x.height, width: x.width))
    }

    /// Folds the batch statistics of a training trace into every BN layer's running averages.
    public mutating func updateRunningStatistics(_ trace: Trace) {
        guard trace.training else { return }
        for i in 0..<depth {
            encoderNorms[i].updateRunningStatistics(trace.encoderNorm[i])
            decoderNorms[i].updateRunningStatistics(trace.decoderNorm[i])
        }
    }

    // MARK: Backward

    /// Gradients of the trainable parameters, one array per entry of `parameters`, same order.
    public typealias Gradients = [[Float]]

    /// The backward pass from `∂L/∂output` (`[N, outChannels, H, W]`).
    /// - Returns: the parameter gradients (`parameters` order) and, when asked, `∂L/∂x`
    ///   (`[N, inChannels, H, W]`, 0 wherever the input mask is 0).
    public func backward(_ trace: Trace, outputGradient: Tensor4,
                         needsInputGradient: Bool = false) -> (parameters: Gradients, input: Tensor4?) {
        precondition(outputGradient.shape == trace.output.shape,
                     "output gradient has shape \(outputGradient.shape), expected \(trace.output.shape)")
        let (ph, pw) = (trace.encoded[0].height, trace.encoded[0].width)
        var encGrads = [[[Float]]](repeating: [], count: depth), decGrads = encGrads
        // Head.
        let (hg, gd0) = head.backward(input: trace.decoded[0], mask: trace.decodedMasks[0],
                                      outputGradient: outputGradient.padded(height: ph, width: pw))
        var gd = gd0!
        // Skip gradients reaching e[i] from decoder i.
        var skip = [Tensor4?](repeating: nil, count: depth + 1)
        for i in 0..<depth {
            gd.storage.withUnsafeMutableBufferPointer { g in
                trace.decoded[i].storage.withUnsafeBufferPointer { Activation.relu.backward(output: $0, gradient: g) }
            }
            let (ng, gz) = decoderNorms[i].backward(trace.decoderNorm[i], outputGradient: gd)
            let (cg, gcat) = decoders[i].backward(input: trace.decoderInput[i], mask: trace.decoderInputMask[i],
                                                  outputGradient: gz, needsInputGradient: true)
            decGrads[i] = [cg.weight, cg.bias, ng.gamma, ng.beta]
            let (gup, ge) = gcat!.splitChannels(at: configuration.widths[i])
            skip[i] = ge
            gd = NearestUpsampling2x.backward(gup)        // ∂L/∂d[i+1]
        }
        // Encoders, deepest first; ∂L/∂e[D] is the upsampling branch of decoder D−1.
        var ge = gd
        for i in stride(from: depth - 1, through: 0, by: -1) {
            ge.storage.withUnsafeMutableBufferPointer { g in
                trace.encoded[i + 1].storage.withUnsafeBufferPointer { Activation.relu.backward(output: $0, gradient: g) }
            }
            let (ng, gz) = encoderNorms[i].backward(trace.encoderNorm[i], outputGradient: ge)
            let needInput = i > 0 || needsInputGradient
            let (cg, gx) = encoders[i].backward(input: trace.encoded[i], mask: trace.encodedMasks[i],
                                                outputGradient: gz, needsInputGradient: needInput)
            encGrads[i] = [cg.weight, cg.bias, ng.gamma, ng.beta]
            if needInput {
                ge = gx!
                let s = skip[i]!
                for j in ge.storage.indices { ge.storage[j] += s.storage[j] }
            }
        }
        var grads: Gradients = []
        for i in 0..<depth { grads += encGrads[i] }
        for i in 0..<depth { grads += decGrads[i] }
        grads += [hg.weight, hg.bias]
        var gx: Tensor4? = nil
        if needsInputGradient {
            // The pre-padding select x ⊙ M passes gradient only where the mask is 1.
            gx = PartialConv2D.masked(ge.cropped(height: trace.height, width: trace.width),
                                      by: trace.encodedMasks[0].cropped(height: trace.height, width: trace.width))
        }
        return (grads, gx)
    }

    // MARK: Parameters by name

    /// `(name, shape, values)` of every trainable parameter, in the order of `Gradients`.
    public var parameters: [(name: String, shape: [Int], values: [Float])] {
        var out: [(String, [Int], [Float])] = []
        func block(_ prefix: String, _ conv: PartialConv2D, _ norm: BatchNorm2D) {
            out.append(("\(prefix).conv.weight", conv.weightShape, conv.weight))
            out.append(("\(prefix).conv.bias", [conv.outChannels], conv.bias))
            out.append(("\(prefix).norm.gamma", [norm.channels], norm.gamma))
            out.append(("\(prefix).norm.beta", [norm.channels], norm.beta))
        }
        for i in 0..<depth { block("encoder.\(i)", encoders[i], encoderNorms[i]) }
        for i in 0..<depth { block("decoder.\(i)", decoders[i], decoderNorms[i]) }
        out.append(("head.weight", head.weightShape, head.weight))
        out.append(("head.bias", [head.outChannels], head.bias))
        return out
    }

    /// `(name, shape, values)` of the batch-norm running statistics (saved, not trained).
    public var buffers: [(name: String, shape: [Int], values: [Float])] {
        var out: [(String, [Int], [Float])] = []
        for (prefix, norms) in [("encoder", encoderNorms), ("decoder", decoderNorms)] {
            for (i, n) in norms.enumerated() {
                out.append(("\(prefix).\(i).norm.running_mean", [n.channels], n.runningMean))
                out.append(("\(prefix).\(i).norm.running_var", [n.channels], n.runningVariance))
            }
        }
        return out
    }

    /// Total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.values.count } }

    /// Calls `body(index, name, parameter, gradient)` for every trainable parameter, in
    /// `parameters` order, with mutable access to its values (the optimiser's hook).
    public mutating func updateParameters(
        _ gradients: Gradients,
        _ body: (Int, String, UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) -> Void
    ) {
        precondition(gradients.count == 8 * depth + 2, "gradients hold \(gradients.count) tensors, the network has \(8 * depth + 2)")
        var index = 0
        func visit(_ name: String, _ values: inout [Float]) {
            precondition(gradients[index].count == values.count, "gradient of \(name) has \(gradients[index].count) values, expected \(values.count)")
            gradients[index].withUnsafeBufferPointer { g in values.withUnsafeMutableBufferPointer { body(index, name, $0, g) } }
            index += 1
        }
        for i in 0..<depth {
            visit("encoder.\(i).conv.weight", &encoders[i].weight)
            visit("encoder.\(i).conv.bias", &encoders[i].bias)
            visit("encoder.\(i).norm.gamma", &encoderNorms[i].gamma)
            visit("encoder.\(i).norm.beta", &encoderNorms[i].beta)
        }
        for i in 0..<depth {
            visit("decoder.\(i).conv.weight", &decoders[i].weight)
            visit("decoder.\(i).conv.bias", &decoders[i].bias)
            visit("decoder.\(i).norm.gamma", &decoderNorms[i].gamma)
            visit("decoder.\(i).norm.beta", &decoderNorms[i].beta)
        }
        visit("head.weight", &head.weight)
        visit("head.bias", &head.bias)
    }
}
