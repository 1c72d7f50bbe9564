#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed affine map applied to network outputs before the loss: `m = o·Kᵀ + c` per batch,
/// i.e. `m_b = K·o_b + c` for each sample `b`.
///
/// `kernel` `K` is `[mappedWidth, outputWidth]` — for flux prediction, the kernel of the
/// stoichiometry `[reactions, freeFluxes]`, so a network predicting free fluxes is trained on
/// the full flux vector (`full = kernel × free + offset`, ML-Flux's CCM training). `K` is a
/// constant; the gradient flows back through it: `∂L/∂o = (∂L/∂m)·K`.
public struct LinearMap: Equatable, Sendable {
    /// `[mappedWidth, outputWidth]`.
    public var kernel: Matrix
    /// `[mappedWidth]`, or empty for no offset.
    public var offset: [Float]

    public init(kernel: Matrix, offset: [Float] = []) {
        precondition(offset.isEmpty || offset.count == kernel.rows, "offset has \(offset.count) values, kernel maps to \(kernel.rows)")
        self.kernel = kernel
        self.offset = offset
    }

    /// `o·Kᵀ + c`: `[batch, outputWidth] → [batch, mappedWidth]`.
    public func callAsFunction(_ o: Matrix) -> Matrix {
        var m = Matrix(rows: o.rows, columns: kernel.rows)
        if !offset.isEmpty { for r in 0..<o.rows { for j in 0..<kernel.rows { m[r, j] = offset[j] } } }
        Matrix.gemm(o, kernel, transposeB: true, beta: offset.isEmpty ? 0 : 1, into: &m)
        return m
    }

    /// `∂L/∂o = (∂L/∂m)·K`: `[batch, mappedWidth] → [batch, outputWidth]`.
    public func pullback(_ g: Matrix) -> Matrix { Matrix.matmul(g, kernel) }
}

/// Training objectives with their gradients with respect to the prediction.
///
/// Every loss is a mean over the `batch × n` target elements (`n` = target columns):
///
/// | case | prediction | loss |
/// |---|---|---|
/// | `mse` | `[B, n]` | `(1/Bn) Σ (p − y)²` |
/// | `mae` | `[B, n]` | `(1/Bn) Σ |p − y|` (subgradient 0 at 0) |
/// | `weightedMSE(w)` | `[B, n]`, `w` is `[n]` | `(1/Bn) Σ w_j (p − y)²` |
/// | `gaussianNLL` | `[B, 2n]`: `μ` then `s = log σ²` | `(1/Bn) Σ ½(s + (y − μ)² e^(−s))` (no `½log 2π`) |
/// | `mapped(map, loss)` | `[B, k]` | `loss(map(p), y)`, `y` is `[B, map.kernel.rows]` |
///
/// `gaussianNLL` makes a heteroscedastic predictor: column `j` of the output is the mean of
/// target `j`, column `n + j` its log-variance, so each prediction states its own uncertainty
/// (`σ = e^(s/2)`). Values are accumulated in `Double`.
public indirect enum Loss: Equatable, Sendable {
    case mse
    case mae
    case weightedMSE([Float])
    case gaussianNLL
    case mapped(LinearMap, Loss)

    /// The loss of `prediction` against `target`.
    public func callAsFunction(_ prediction: Matrix, _ target: Matrix) -> Float {
        evaluate(prediction, target, gradient: false).value
    }

    /// The loss and `∂L/∂prediction` (same shape as `prediction`).
    public func valueAndGradient(_ prediction: Matrix, _ target: Matrix) -> (value: Float, gradient: Matrix) {
        let r = evaluate(prediction, target, gradient: true)
        return (r.value, r.gradient!)
    }

    /// Number of network outputs this loss expects for `targetWidth` target columns
    /// (`2·targetWidth` for `gaussianNLL`; the kernel's column count for `mapped`).
    public func predictionWidth(targetWidth: Int) -> Int {
        switch self {
        case .gaussianNLL: return 2 * targetWidth
        case .mapped(let map, _): return map.kernel.columns
        default: return targetWidth
        }
    }

    func evaluate(_ p: Matrix, _ y: Matrix, gradient: Bool) -> (value: Float, gradient: Matrix?) {
        if case .mapped(let map, let inner) = self {
            precondition(p.columns == map.kernel.columns, "prediction has \(p.columns) columns, the map takes \(map.kernel.columns)")
            let r = inner.evaluate(map(p), y, gradient: gradient)
            return (r.value, r.gradient.map { map.pullback($0) })
        }
        let n = y.columns, b = y.rows
        precondition(p.rows == b, "prediction has \(p.rows) rows, target \(b)")
        precondition(p.columns == predictionWidth(targetWidth: n),
                     "prediction has \(p.columns) columns, \(self) needs \(predictionWidth(targetWidth: n)) for \(n) targets")
        let scale = 1 / Double(max(b * n, 1))
        var g: Matrix? = gradient ? Matrix(rows: p.rows, columns: p.columns) : nil
        var total = 0.0
        let fscale = Float(scale)
        switch self {
        case .mse, .weightedMSE:
            var w = [Float](repeating: 1, count: n)
            if case .weightedMSE(let ww) = self {
                precondition(ww.count == n, "weightedMSE has \(ww.count) weights for \(n) targets")
                w = ww
            }
            for r in 0..<b {
                for j in 0..<n {
                    let d = p.storage[r * n + j] - y.storage[r * n + j]
                    total += Double(w[j]) * Double(d) * Double(d)
                    if gradient { g!.storage[r * n + j] = 2 * w[j] * d * fscale }
                }
            }
        case .mae:
            for i in 0..<(b * n) {
                let d = p.storage[i] - y.storage[i]
                total += Double(abs(d))
                if gradient { g!.storage[i] = d > 0 ? fscale : (d < 0 ? -fscale : 0) }
            }
        case .gaussianNLL:
            for r in 0..<b {
                for j in 0..<n {
                    let mu = p.storage[r * 2 * n + j], s = p.storage[r * 2 * n + n + j]
                    let d = Double(y.storage[r * n + j]) - Double(mu)
                    let invVar = exp(-Double(s))
                    total += 0.5 * (Double(s) + d * d * invVar)
                    if gradient {
                        g!.storage[r * 2 * n + j] = Float(-d * invVar * scale)
                        g!.storage[r * 2 * n + n + j] = Float(0.5 * (1 - d * d * invVar) * scale)
                    }
                }
            }
        case .mapped: fatalError("unreachable")
        }
        return (Float(total * scale), g)
    }
}

extension Loss {
    /// Splits a `gaussianNLL` prediction `[B, 2n]` into means `[B, n]` and standard deviations
    /// `σ = e^(s/2)` `[B, n]`.
    public static func gaussianMeanAndStd(_ prediction: Matrix) -> (mean: Matrix, std: Matrix) {
        precondition(prediction.columns % 2 == 0, "a gaussianNLL prediction has an even number of columns")
        let n = prediction.columns / 2
        var mean = Matrix(rows: prediction.rows, columns: n), std = mean
        for r in 0..<prediction.rows {
            for j in 0..<n {
                mean[r, j] = prediction[r, j]
                std[r, j] = expf(0.5 * prediction[r, n + j])
            }
        }
        return (mean, std)
    }
}
