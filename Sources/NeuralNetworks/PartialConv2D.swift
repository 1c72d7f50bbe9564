/// A partial convolution (Liu et al. 2018, "Image Inpainting for Irregular Holes Using
/// Partial Convolutions"): a convolution that sees only the valid inputs and rescales for
/// the missing ones, plus the rule that updates the mask.
///
/// For an output position `p` whose `kernel × kernel` window `ω(p)` covers the mask `M`:
/// ```
/// S(p)  = Σ_{c ∈ mask channels, q ∈ ω(p)} M[c, q]         (valid cells under the window)
/// y[o, p] = Σ_{c, q ∈ ω(p)} W[o, c, q]·X[c, q]·M[c, q] · (Cm·k²)/S(p) + b[o]   if S(p) > 0
///         = 0                                                               if S(p) = 0
/// M′(p) = 1 if S(p) > 0 else 0                                              (updated mask)
/// ```
/// `Cm·k²` is `sum(1)`, the number of mask cells under a full window (`Cm` = mask channels).
///
/// Conventions:
/// - `x` is `[N, inChannels, H, W]`; the mask is `[N, 1, H, W]` (one mask per image, shared by
///   every input channel) or `[N, inChannels, H, W]` (one per channel, as after a skip
///   concatenation); values are 0 or 1. The output is `[N, outChannels, H′, W′]`, the updated
///   mask `[N, 1, H′, W′]` (the same for every output channel).
/// - **Padding counts as missing**: the `padding` cells around the image are zeros in `X` and
///   in `M`, so a window hanging over the border is rescaled by `k²/(cells inside)` even when
///   the whole image is valid. Away from the border an all-ones mask gives exactly the
///   ordinary convolution `W ⋆ X + b`.
/// - `weight` is `[outChannels, inChannels, kernel, kernel]` (PyTorch's OIHW, flattened), `bias`
///   is `[outChannels]`. Initialisation: He normal, `W ~ N(0, 2/(inChannels·k²))`, `b = 0`.
/// - Output size: `H′ = (H + 2·padding − kernel)/stride + 1` (floor); with the default
///   `padding = kernel/2` and odd kernels, `H′ = ⌈H/stride⌉`.
/// - The mask is not differentiated: backward gives `∂L/∂W`, `∂L/∂b` and `∂L/∂X` (which is
///   0 wherever `M = 0`), all with the mask held fixed.
///
/// Forward and backward run as im2col + `sgemm` over chunks of images (`ConvolutionGeometry`).
public struct PartialConv2D: Equatable, Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    /// `[outChannels, inChannels, kernelSize, kernelSize]`, flattened row-major.
    public var weight: [Float]
    /// `[outChannels]`.
    public var bias: [Float]

    /// A layer with the given parameters.
    public init(inChannels: Int, outChannels: Int, kernelSize: Int = 3, stride: Int = 1, padding: Int? = nil,
                weight: [Float], bias: [Float]) {
        precondition(inChannels >= 1 && outChannels >= 1 && kernelSize >= 1 && stride >= 1, "invalid partial convolution size")
        let pad = padding ?? kernelSize / 2
        precondition(pad >= 0 && pad < kernelSize, "padding \(pad) must lie in 0..<kernelSize")
        precondition(weight.count == outChannels * inChannels * kernelSize * kernelSize,
                     "weight has \(weight.count) values, [\(outChannels), \(inChannels), \(kernelSize), \(kernelSize)] needs \(outChannels * inChannels * kernelSize * kernelSize)")
        precondition(bias.count == outChannels, "bias has \(bias.count) values for \(outChannels) output channels")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = pad
        self.weight = weight
        self.bias = bias
    }

    /// A freshly initialised layer (He normal weights, zero bias).
    public init(inChannels: Int, outChannels: Int, kernelSize: Int = 3, stride: Int = 1, padding: Int? = nil,
                using rng: inout some RandomNumberGenerator) {
        let fanIn = inChannels * kernelSize * kernelSize
        let std = (2.0 / Double(max(fanIn, 1))).squareRoot()
        let w = (0..<(outChannels * fanIn)).map { _ in Float(std * rng.nextGaussian()) }
        self.init(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                  padding: padding, weight: w, bias: [Float](repeating: 0, count: outChannels))
    }

    /// `[outChannels, inChannels, kernelSize, kernelSize]`.
    public var weightShape: [Int] { [outChannels, inChannels, kernelSize, kernelSize] }

    /// Output `(height, width)` for an `height × width` input.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let g = geometry(height: height, width: width)
        return (g.outHeight, g.outWidth)
    }

    func geometry(height: Int, width: Int) -> ConvolutionGeometry {
        ConvolutionGeometry(channels: inChannels, height: height, width: width,
                            kernel: kernelSize, stride: stride, padding: padding)
    }

    /// The forward pass: `(y, M′)` as defined above.
    /// - Complexity: `2·N·outChannels·inChannels·k²·H′·W′` flops in `sgemm`, plus
    ///   `O(N·Cm·k²·H′·W′)` for the mask sums.
    public func callAsFunction(_ x: Tensor4, mask: Tensor4) -> (output: Tensor4, mask: Tensor4) {
        checkInput(x, mask: mask)
        let g = geometry(height: x.height, width: x.width)
        let (ratio, newMask) = maskRatios(mask, g)
        // Masking once costs one pass over the input; masking inside im2col would cost k² passes.
        let xm = Self.masked(x, by: mask)
        let p = g.positions, kk = g.patchSize, n = x.batch
        var out = Tensor4(batch: n, channels: outChannels, height: g.outHeight, width: g.outWidth, unsafeUninitialized: { _ in })
        let chunk = chunkSize(g, batch: n)
        // Every element is written (im2col, sgemm with beta 0) before it is read.
        var cols = [Float](unsafeUninitializedCapacity: kk * chunk * p) { _, n in n = kk * chunk * p }
        var y = [Float](unsafeUninitializedCapacity: outChannels * chunk * p) { _, n in n = outChannels * chunk * p }
        xm.storage.withUnsafeBufferPointer { px in
            cols.withUnsafeMutableBufferPointer { pc in
                y.withUnsafeMutableBufferPointer { py in
                    weight.withUnsafeBufferPointer { pw in
                        out.storage.withUnsafeMutableBufferPointer { po in
                            var n0 = 0
                            while n0 < n {
                                let m = min(chunk, n - n0), ld = m * p
                                for j in 0..<m {
                                    g.im2col(px.baseAddress! + (n0 + j) * x.imageSize, into: pc.baseAddress!, ld: ld, column0: j * p)
                                }
                                // y[Cout, m·P] = W[Cout, K] · cols[K, m·P]
                                sgemmRowMajor(m: outChannels, n: ld, k: kk, a: pw.baseAddress!, lda: kk,
                                              b: pc.baseAddress!, ldb: ld, c: py.baseAddress!, ldc: ld)
                                ratio.withUnsafeBufferPointer { pr in
                                    for j in 0..<m {
                                        let image = n0 + j
                                        let r = pr.baseAddress! + image * p
                                        for o in 0..<outChannels {
                                            let src = py.baseAddress! + o * ld + j * p
                                            let dst = po.baseAddress! + (image * outChannels + o) * p
                                            let b = bias[o]
                                            for q in 0..<p {
                                                let s = r[q]
                                                dst[q] = s > 0 ? src[q] * s + b : 0
                                            }
                                        }
                                    }
                                }
                                n0 += m
                            }
                        }
                    }
                }
            }
        }
        return (out, newMask)
    }

    /// Gradients of a loss with respect to the parameters of one `PartialConv2D`.
    public struct Gradients: Equatable, Sendable {
        /// `∂L/∂W`, `[outChannels, inChannels, k, k]`.
        public var weight: [Float]
        /// `∂L/∂b`, `[outChannels]`.
        public var bias: [Float]
    }

    /// The backward pass, the mask held fixed.
    ///
    /// With `G = ∂L/∂y` and `r(p) = (Cm·k²)/S(p)` (0 where `S = 0`), `G′ = G ⊙ r`:
    /// `∂L/∂W = G′·colsᵀ`, `∂L/∂b[o] = Σ_{n, p: S>0} G[o, p]`, `∂L/∂X = col2im(Wᵀ·G′) ⊙ M`.
    /// - Parameters:
    ///   - x, mask: the forward pass's inputs.
    ///   - outputGradient: `∂L/∂y`, shaped like the output.
    ///   - needsInputGradient: `false` skips `∂L/∂X`.
    /// - Complexity: `4·N·outChannels·inChannels·k²·H′·W′` flops (`2·…` without the input gradient).
    public func backward(input x: Tensor4, mask: Tensor4, outputGradient gy: Tensor4,
                         needsInputGradient: Bool = true) -> (parameters: Gradients, input: Tensor4?) {
        checkInput(x, mask: mask)
        let g = geometry(height: x.height, width: x.width)
        precondition(gy.shape == [x.batch, outChannels, g.outHeight, g.outWidth],
                     "output gradient has shape \(gy.shape), expected \([x.batch, outChannels, g.outHeight, g.outWidth])")
        let (ratio, _) = maskRatios(mask, g)
        let xm = Self.masked(x, by: mask)
        let p = g.positions, kk = g.patchSize, n = x.batch
        var grads = Gradients(weight: [Float](repeating: 0, count: weight.count), bias: [Float](repeating: 0, count: outChannels))
        var gx: Tensor4? = needsInputGradient ? Tensor4(batch: n, channels: inChannels, height: x.height, width: x.width) : nil
        var gxStorage = gx?.storage ?? []
        let chunk = chunkSize(g, batch: n)
        var cols = [Float](unsafeUninitializedCapacity: kk * chunk * p) { _, n in n = kk * chunk * p }
        var gp = [Float](unsafeUninitializedCapacity: outChannels * chunk * p) { _, n in n = outChannels * chunk * p }
        xm.storage.withUnsafeBufferPointer { px in
        gy.storage.withUnsafeBufferPointer { pgy in
        cols.withUnsafeMutableBufferPointer { pc in
        gp.withUnsafeMutableBufferPointer { pg in
        weight.withUnsafeBufferPointer { pw in
        grads.weight.withUnsafeMutableBufferPointer { pgw in
        gxStorage.withUnsafeMutableBufferPointer { pgx in
            var n0 = 0
            while n0 < n {
                let m = min(chunk, n - n0), ld = m * p
                // G′[Cout, m·P] = G ⊙ r; bias gradient from the valid positions.
                for j in 0..<m {
                    let image = n0 + j
                    for o in 0..<outChannels {
                        let src = pgy.baseAddress! + (image * outChannels + o) * p
                        let dst = pg.baseAddress! + o * ld + j * p
                        var sb: Float = 0
                        for q in 0..<p {
                            let s = ratio[image * p + q]
                            dst[q] = src[q] * s
                            if s > 0 { sb += src[q] }
                        }
                        grads.bias[o] += sb
                    }
                    g.im2col(px.baseAddress! + image * x.imageSize, into: pc.baseAddress!, ld: ld, column0: j * p)
                }
                // ∂L/∂W += G′[Cout, m·P] · cols[K, m·P]ᵀ
                sgemmRowMajor(transB: true, m: outChannels, n: kk, k: ld, a: pg.baseAddress!, lda: ld,
                              b: pc.baseAddress!, ldb: ld, beta: 1, c: pgw.baseAddress!, ldc: kk)
                if needsInputGradient {
                    // cols ← Wᵀ[K, Cout] · G′[Cout, m·P], then scattered back onto the images.
                    sgemmRowMajor(transA: true, m: kk, n: ld, k: outChannels, a: pw.baseAddress!, lda: kk,
                                  b: pg.baseAddress!, ldb: ld, c: pc.baseAddress!, ldc: ld)
                    for j in 0..<m {
                        g.col2imAdd(pc.baseAddress!, ld: ld, column0: j * p, into: pgx.baseAddress! + (n0 + j) * x.imageSize)
                    }
                }
                n0 += m
            }
        }}}}}}}
        if needsInputGradient {
            gx!.storage = gxStorage
            gx = Self.masked(gx!, by: mask)
        }
        return (grads, gx)
    }

    // MARK: Helpers

    func checkInput(_ x: Tensor4, mask: Tensor4) {
        precondition(x.channels == inChannels, "PartialConv2D expects \(inChannels) input channels, got \(x.channels)")
        precondition(mask.batch == x.batch && mask.height == x.height && mask.width == x.width
                     && (mask.channels == 1 || mask.channels == x.channels),
                     "mask has shape \(mask.shape), input \(x.shape): the mask needs 1 or \(x.channels) channels and the same N, H, W")
        precondition(x.height + 2 * padding >= kernelSize && x.width + 2 * padding >= kernelSize,
                     "a \(x.height)×\(x.width) input is smaller than the \(kernelSize)×\(kernelSize) kernel")
    }

    /// Images per im2col chunk: the im2col matrix stays under ~1 M values (4 MB, cache-sized).
    func chunkSize(_ g: ConvolutionGeometry, batch: Int) -> Int {
        max(1, min(batch, (1 << 20) / max(1, g.patchSize * g.positions)))
    }

    /// `r = (Cm·k²)/S` per output position (0 where `S = 0`), `[N·H′·W′]`, and the updated
    /// mask `[N, 1, H′, W′]`.
    func maskRatios(_ mask: Tensor4, _ g: ConvolutionGeometry) -> (ratio: [Float], mask: Tensor4) {
        let (k, s, pad, h, w, oh, ow) = (g.kernel, g.stride, g.padding, g.height, g.width, g.outHeight, g.outWidth)
        let cm = mask.channels, hw = h * w
        var newMask = Tensor4(batch: mask.batch, channels: 1, height: oh, width: ow)
        var ratio = [Float](repeating: 0, count: mask.batch * oh * ow)
        let full = Float(cm * k * k)
        var plane = [Float](repeating: 0, count: hw)
        mask.storage.withUnsafeBufferPointer { pm in
        plane.withUnsafeMutableBufferPointer { pp in
        ratio.withUnsafeMutableBufferPointer { pr in
        newMask.storage.withUnsafeMutableBufferPointer { pn in
            for n in 0..<mask.batch {
                // Σ over mask channels first, then window sums over one plane.
                pp.update(fromContentsOf: UnsafeBufferPointer(start: pm.baseAddress! + n * cm * hw, count: hw))
                for c in 1..<max(cm, 1) {
                    let src = pm.baseAddress! + (n * cm + c) * hw
                    for i in 0..<hw { pp[i] += src[i] }
                }
                for oy in 0..<oh {
                    let y0 = max(0, oy * s - pad), y1 = max(y0, min(h, oy * s - pad + k))
                    for ox in 0..<ow {
                        let x0 = max(0, ox * s - pad), x1 = max(x0, min(w, ox * s - pad + k))
                        var sum: Float = 0
                        for y in y0..<y1 { for x in x0..<x1 { sum += pp[y * w + x] } }
                        let q = (n * oh + oy) * ow + ox
                        if sum > 0 {
                            pr[q] = full / sum
                            pn[q] = 1
                        }
                    }
                }
            }
        }}}}
        return (ratio, newMask)
    }

    /// `x ⊙ mask`, the mask broadcast over channels when it has one; 0 wherever the mask is 0,
    /// whatever `x` holds there (NaN included).
    static func masked(_ x: Tensor4, by mask: Tensor4) -> Tensor4 {
        let hw = x.planeSize
        return Tensor4(batch: x.batch, channels: x.channels, height: x.height, width: x.width) { po in
            x.storage.withUnsafeBufferPointer { px in
                mask.storage.withUnsafeBufferPointer { pm in
                    for n in 0..<x.batch {
                        for c in 0..<x.channels {
                            let mc = mask.channels == 1 ? 0 : c
                            let src = px.baseAddress! + (n * x.channels + c) * hw
                            let dst = po.baseAddress! + (n * x.channels + c) * hw
                            let m = pm.baseAddress! + (n * mask.channels + mc) * hw
                            // A select, not a product: missing entries may hold NaN or infinity.
                            for i in 0..<hw { dst[i] = m[i] != 0 ? src[i] : 0 }
                        }
                    }
                }
            }
        }
    }
}
