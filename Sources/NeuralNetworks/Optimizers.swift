#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Adam (Kingma & Ba 2015) with optional decoupled weight decay (AdamW, Loshchilov & Hutter 2019).
///
/// For each parameter `θ` with gradient `g`, at step `t = 1, 2, …`:
/// ```
/// m ← β1·m + (1 − β1)·g
/// v ← β2·v + (1 − β2)·g²
/// θ ← θ − lr·( m/(1 − β1ᵗ) / (√(v/(1 − β2ᵗ)) + ε) + weightDecay·θ )
/// ```
/// The moments `m`, `v` are kept per parameter index (the order of the model's parameters) and
/// created on the first step.
public struct Adam: Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// Decoupled weight decay (0: plain Adam).
    public var weightDecay: Float
    /// Steps taken so far.
    public private(set) var step: Int = 0
    private var m: [[Float]] = []
    private var v: [[Float]] = []

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One update of `model` with `gradients` (any model that exposes its parameters through
    /// `ParameterUpdatable`: `MLP`, `PartialConvUNet`).
    /// - Complexity: `O(parameterCount)`.
    public mutating func update<Model: ParameterUpdatable>(_ model: inout Model, _ gradients: Model.Gradients) {
        step += 1
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay
        let c1 = 1 / (1 - powf(b1, Float(step))), c2 = 1 / (1 - powf(b2, Float(step)))
        model.updateParameters(gradients) { index, _, theta, g in
            while m.count <= index { m.append([]); v.append([]) }
            if m[index].count != theta.count {
                m[index] = [Float](repeating: 0, count: theta.count)
                v[index] = [Float](repeating: 0, count: theta.count)
            }
            m[index].withUnsafeMutableBufferPointer { pm in
                v[index].withUnsafeMutableBufferPointer { pv in
                    Adam.kernel(theta: theta.baseAddress!, g: g.baseAddress!, m: pm.baseAddress!, v: pv.baseAddress!,
                                count: theta.count, lr: lr, b1: b1, b2: b2, c1: c1, c2: c2, eps: eps, wd: wd)
                }
            }
        }
    }

    /// The element-wise update, eight lanes at a time (`SIMD8<Float>`).
    ///
    /// On Linux `Float.squareRoot()` lowers to a `sqrtf` library call per element (2 ns per
    /// parameter, a quarter of a 256-wide training step), so the vector lanes use `squareRoot8`.
    @inline(__always)
    static func kernel(theta: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                       v: UnsafeMutablePointer<Float>, count: Int, lr: Float, b1: Float, b2: Float,
                       c1: Float, c2: Float, eps: Float, wd: Float) {
        typealias V = SIMD8<Float>
        var i = 0
        let rt = UnsafeMutableRawPointer(theta), rg = UnsafeRawPointer(g)
        let rm = UnsafeMutableRawPointer(m), rv = UnsafeMutableRawPointer(v)
        let s = MemoryLayout<Float>.stride
        while i + 8 <= count {
            let gi = rg.loadUnaligned(fromByteOffset: i * s, as: V.self)
            let mi = b1 * rm.loadUnaligned(fromByteOffset: i * s, as: V.self) + (1 - b1) * gi
            let vi = b2 * rv.loadUnaligned(fromByteOffset: i * s, as: V.self) + (1 - b2) * gi * gi
            let ti = rt.loadUnaligned(fromByteOffset: i * s, as: V.self)
            let update = (mi * c1) / (Adam.squareRoot8(vi * c2) + eps)
            rm.storeBytes(of: mi, toByteOffset: i * s, as: V.self)
            rv.storeBytes(of: vi, toByteOffset: i * s, as: V.self)
            rt.storeBytes(of: ti - lr * (update + wd * ti), toByteOffset: i * s, as: V.self)
            i += 8
        }
        while i < count {
            let gi = g[i]
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            let update = (m[i] * c1) / ((v[i] * c2).squareRoot() + eps)
            theta[i] -= lr * (update + wd * theta[i])
            i += 1
        }
    }

    /// `√x` for `x ≥ 0` in multiplies and adds only: the classic reciprocal-square-root seed
    /// `0x5f375a86 − bits(x)/2` and three Newton steps `y ← y(1.5 − ½x·y²)` (relative error
    /// below 1e-7, i.e. Float rounding), then `√x = x·y`; exact 0 at `x = 0`.
    @inline(__always)
    static func squareRoot8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
        var y = unsafeBitCast(SIMD8<UInt32>(repeating: 0x5f37_5a86) &- (bits &>> 1), to: SIMD8<Float>.self)
        let half = 0.5 * x
        y = y * (1.5 - half * y * y)
        y = y * (1.5 - half * y * y)
        y = y * (1.5 - half * y * y)
        return x * y
    }

    /// Adam on a plain parameter vector (used by tests and small problems):
    /// one step of `θ` with gradient `g`.
    public mutating func update(_ theta: inout [Float], _ g: [Float]) {
        var model = MLP(layers: [Dense(weight: Matrix(rows: 1, columns: theta.count, storage: theta),
                                       bias: [Float](repeating: 0, count: theta.count))])
        update(&model, [Dense.Gradients(weight: Matrix(rows: 1, columns: g.count, storage: g),
                                        bias: [Float](repeating: 0, count: g.count))])
        theta = model.layers[0].weight.storage
    }
}

/// Learning rate as a function of the epoch (0-based), or of the validation history.
///
/// | case | rate at epoch `e` |
/// |---|---|
/// | `constant(r)` | `r` |
/// | `stepDecay(initial:, factor:, every:)` | `initial · factor^⌊e/every⌋` |
/// | `cosine(initial:, final:, epochs:)` | `final + ½(initial − final)(1 + cos(π·min(e, epochs)/epochs))` |
/// | `reduceOnPlateau(initial:, factor:, patience:, minimum:, threshold:)` | starts at `initial`; multiplied by `factor` (not below `minimum`) after `patience` epochs without a relative validation improvement of `threshold` |
public enum LearningRateSchedule: Equatable, Sendable {
    case constant(Float)
    case stepDecay(initial: Float, factor: Float, every: Int)
    case cosine(initial: Float, final: Float, epochs: Int)
    case reduceOnPlateau(initial: Float, factor: Float, patience: Int, minimum: Float, threshold: Float)

    /// `reduceOnPlateau` with the usual defaults (×0.5 after 10 flat epochs, floor 1e-6, threshold 1e-4).
    public static func reduceOnPlateau(initial: Float, factor: Float = 0.5, patience: Int = 10) -> Self {
        .reduceOnPlateau(initial: initial, factor: factor, patience: patience, minimum: 1e-6, threshold: 1e-4)
    }
}

/// The state a `LearningRateSchedule` needs across epochs (only `reduceOnPlateau` has any).
public struct LearningRateScheduler: Sendable {
    public let schedule: LearningRateSchedule
    private var current: Float
    private var best: Float = .infinity
    private var badEpochs = 0

    public init(_ schedule: LearningRateSchedule) {
        self.schedule = schedule
        switch schedule {
        case .constant(let r): current = r
        case .stepDecay(let r, _, _), .cosine(let r, _, _), .reduceOnPlateau(let r, _, _, _, _): current = r
        }
    }

    /// The rate for epoch `epoch` (0-based).
    public func rate(epoch: Int) -> Float {
        switch schedule {
        case .constant(let r): return r
        case .stepDecay(let r0, let f, let every): return r0 * powf(f, Float(epoch / max(every, 1)))
        case .cosine(let r0, let r1, let n):
            let t = Float(min(epoch, n)) / Float(max(n, 1))
            return r1 + 0.5 * (r0 - r1) * (1 + cosf(Float.pi * t))
        case .reduceOnPlateau: return current
        }
    }

    /// Records the validation loss at the end of an epoch (drives `reduceOnPlateau`).
    public mutating func observe(validationLoss loss: Float) {
        guard case .reduceOnPlateau(_, let factor, let patience, let minimum, let threshold) = schedule else { return }
        if loss < best * (1 - threshold) {
            best = loss
            badEpochs = 0
        } else {
            badEpochs += 1
            if badEpochs > patience {
                current = max(current * factor, minimum)
                badEpochs = 0
            }
        }
    }
}
