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
/// | `gaussianCholeskyNLL` | `[B, 2n + n(n−1)/2]`: `μ`, `s`, then `P`'s strict lower triangle | `(1/Bn) Σ ½(Σᵢ sᵢ + ‖Pᵀ(y − μ)‖²)` |
/// | `gaussianMixtureNLL(K)` | `[B, 3Kn]`: per target `K` logits, `K` means, `K` log-scales | `−(1/Bn) Σ log Σ_k π_k φ((y − m_k)/s_k)/s_k` (no `½log 2π`) |
/// | `monotoneQuantiles(p)` | `[B, mn]`, `m = p.count` | `(1/Bnm) Σ_i ρ_{p_i}(y − q_i)`, pinball loss of the quantiles `q` |
/// | `mapped(map, loss)` | `[B, k]` | `loss(map(p), y)`, `y` is `[B, map.kernel.rows]` |
///
/// `gaussianNLL` makes a heteroscedastic predictor: column `j` of the output is the mean of
/// target `j`, column `n + j` its log-variance, so each prediction states its own uncertainty
/// (`σ = e^(s/2)`). Values are accumulated in `Double`.
///
/// `gaussianCholeskyNLL` states a full covariance per prediction: the precision matrix is
/// `Λ = P·Pᵀ` with `P` lower triangular, `P_ii = e^(−s_i/2)` and the strict lower triangle
/// `P_ij` (`i > j`, row by row: `P_10, P_20, P_21, …`) taken as is, so `Λ` is positive
/// definite for any output and `log det Σ = Σ s_i`. With zero off-diagonals it is
/// `gaussianNLL` exactly. `Loss.gaussianMeanAndCovariance` gives `Σ = (P·Pᵀ)⁻¹`.
///
/// `gaussianMixtureNLL(components: K)` is a mixture density network's objective (Bishop
/// 1994): target `j`'s density is a mixture of `K` Gaussians whose weights are the softmax of
/// columns `3Kj ..< 3Kj + K`, means columns `3Kj + K ..< 3Kj + 2K` and log standard deviations
/// columns `3Kj + 2K ..< 3Kj + 3K` (clamped to [−7, 7]). A NaN target (not observed) adds
/// nothing to the loss or its gradient but still counts in the mean's `Bn`.
///
/// `monotoneQuantiles(probabilities:)` is quantile regression of a whole quantile function
/// (the mean pinball loss over the `m` probabilities, ρ_p(u) = u·(p − 1{u < 0}); summed over a
/// fine grid it approaches the CRPS, a proper score). Target `j`'s quantiles are columns
/// `mj ..< m(j+1)` mapped to be ascending: `q_0 = o_0`, `q_i = q_{i−1} + softplus(o_i) + 1e-4`
/// (`Loss.monotoneQuantileValues`). NaN targets as for the mixture.
public indirect enum Loss: Equatable, Sendable {
    case mse
    case mae
    case weightedMSE([Float])
    case gaussianNLL
    case gaussianCholeskyNLL
    case gaussianMixtureNLL(components: Int)
    case monotoneQuantiles(probabilities: [Float])
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
        case .gaussianCholeskyNLL: return 2 * targetWidth + targetWidth * (targetWidth - 1) / 2
        case .gaussianMixtureNLL(let k): return 3 * k * targetWidth
        case .monotoneQuantiles(let p): return p.count * targetWidth
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
        case .gaussianCholeskyNLL:
            let w = p.columns
            var d = [Double](repeating: 0, count: n), z = d, diag = d
            for r in 0..<b {
                let row = r * w
                for i in 0..<n {
                    d[i] = Double(y.storage[r * n + i]) - Double(p.storage[row + i])
                    diag[i] = exp(-0.5 * Double(p.storage[row + n + i]))
                }
                // z = Pᵀd: z_j = P_jj d_j + Σ_{i>j} P_ij d_i.
                for j in 0..<n { z[j] = diag[j] * d[j] }
                for i in 1..<max(n, 1) {
                    let base = row + 2 * n + i * (i - 1) / 2
                    for j in 0..<i { z[j] += Double(p.storage[base + j]) * d[i] }
                }
                var value = 0.0
                for i in 0..<n { value += Double(p.storage[row + n + i]) + z[i] * z[i] }
                total += 0.5 * value
                if gradient {
                    // ∂/∂μ_i = −(P z)_i; ∂/∂s_i = ½ − ½ P_ii z_i d_i; ∂/∂P_ij = z_j d_i.
                    for i in 0..<n {
                        var pz = diag[i] * z[i]
                        if i > 0 {
                            let base = row + 2 * n + i * (i - 1) / 2
                            for j in 0..<i {
                                pz += Double(p.storage[base + j]) * z[j]
                                g!.storage[base + j] = Float(z[j] * d[i] * scale)
                            }
                        }
                        g!.storage[row + i] = Float(-pz * scale)
                        g!.storage[row + n + i] = Float((0.5 - 0.5 * diag[i] * z[i] * d[i]) * scale)
                    }
                }
            }
        case .gaussianMixtureNLL(let k):
            precondition(k >= 1, "a mixture needs at least one component")
            var logw = [Double](repeating: 0, count: k), logd = logw, invScale = logw, u = logw
            for r in 0..<b {
                for j in 0..<n {
                    let yv = Double(y.storage[r * n + j])
                    guard !yv.isNaN else { continue }
                    let base = r * p.columns + 3 * k * j
                    // log softmax of the logits, log N(y; m, s) up to ½log 2π.
                    var top = -Double.infinity
                    for c in 0..<k { top = max(top, Double(p.storage[base + c])) }
                    var norm = 0.0
                    for c in 0..<k { norm += exp(Double(p.storage[base + c]) - top) }
                    let logNorm = top + log(norm)
                    var best = -Double.infinity
                    for c in 0..<k {
                        logw[c] = Double(p.storage[base + c]) - logNorm
                        let ls = Self.clampedLogScale(p.storage[base + 2 * k + c])
                        invScale[c] = exp(-ls)
                        u[c] = (yv - Double(p.storage[base + k + c])) * invScale[c]
                        logd[c] = logw[c] - ls - 0.5 * u[c] * u[c]
                        best = max(best, logd[c])
                    }
                    var sum = 0.0
                    for c in 0..<k { sum += exp(logd[c] - best) }
                    total -= best + log(sum)
                    guard gradient else { continue }
                    for c in 0..<k {
                        let resp = exp(logd[c] - best) / sum   // responsibility of component c
                        let raw = p.storage[base + 2 * k + c]
                        g!.storage[base + c] = Float((exp(logw[c]) - resp) * scale)
                        g!.storage[base + k + c] = Float(-resp * u[c] * invScale[c] * scale)
                        // No gradient where the clamp holds the log-scale.
                        g!.storage[base + 2 * k + c] = Double(raw) == Self.clampedLogScale(raw) ? Float(resp * (1 - u[c] * u[c]) * scale) : 0
                    }
                }
            }
        case .monotoneQuantiles(let probabilities):
            let m = probabilities.count
            precondition(m >= 1, "quantile regression needs at least one probability")
            var q = [Double](repeating: 0, count: m), dq = q
            let perQuantile = 1 / Double(m)
            for r in 0..<b {
                for j in 0..<n {
                    let yv = Double(y.storage[r * n + j])
                    guard !yv.isNaN else { continue }
                    let base = r * p.columns + m * j
                    Self.monotoneQuantileValues(p.storage[base..<(base + m)], into: &q)
                    for i in 0..<m {
                        let u = yv - q[i], pi = Double(probabilities[i])
                        total += perQuantile * u * (pi - (u < 0 ? 1 : 0))
                        dq[i] = perQuantile * ((u < 0 ? 1 : 0) - pi)
                    }
                    guard gradient else { continue }
                    // q_i = o_0 + Σ_{l=1…i} (softplus(o_l) + 1e-4): ∂/∂o_l = σ(o_l)·Σ_{i≥l} ∂/∂q_i.
                    var tail = 0.0
                    for i in stride(from: m - 1, through: 0, by: -1) {
                        tail += dq[i]
                        let o = Double(p.storage[base + i])
                        g!.storage[base + i] = Float((i == 0 ? tail : tail / (1 + exp(-o))) * scale)
                    }
                }
            }
        case .mapped: fatalError("unreachable")
        }
        return (Float(total * scale), g)
    }
}

extension Loss {
    /// The number of targets `n` of a `gaussianCholeskyNLL` prediction of `width` columns
    /// (`width = 2n + n(n−1)/2`), or nil when no `n` fits.
    public static func choleskyTargets(width: Int) -> Int? {
        var n = 0
        while 2 * n + n * (n - 1) / 2 < width { n += 1 }
        return 2 * n + n * (n - 1) / 2 == width && n > 0 ? n : nil
    }

    /// Means `[n]` and covariance `Σ = (P·Pᵀ)⁻¹` (`[n·n]`, row-major, `Double`) of row `r` of
    /// a `gaussianCholeskyNLL` prediction with `n` targets; `Σ = QᵀQ` with `Q = P⁻¹`
    /// (forward substitution on the triangle).
    /// - Complexity: O(n³).
    public static func gaussianMeanAndCovariance(_ prediction: Matrix, row r: Int, targets n: Int) -> (mean: [Double], covariance: [Double]) {
        let row = r * prediction.columns
        let mean = (0..<n).map { Double(prediction.storage[row + $0]) }
        // P (lower), Q = P⁻¹ (lower).
        var P = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            P[i * n + i] = exp(-0.5 * Double(prediction.storage[row + n + i]))
            if i > 0 { for j in 0..<i { P[i * n + j] = Double(prediction.storage[row + 2 * n + i * (i - 1) / 2 + j]) } }
        }
        var Q = [Double](repeating: 0, count: n * n)
        for c in 0..<n {
            for i in c..<n {
                var s = i == c ? 1.0 : 0.0
                for k in c..<i { s -= P[i * n + k] * Q[k * n + c] }
                Q[i * n + c] = s / P[i * n + i]
            }
        }
        var cov = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var s = 0.0
                for k in j..<n { s += Q[k * n + i] * Q[k * n + j] }
                cov[i * n + j] = s
                cov[j * n + i] = s
            }
        }
        return (mean, cov)
    }

    /// A `gaussianMixtureNLL` log standard deviation as the loss reads it: clamped to [−7, 7].
    @inline(__always)
    public static func clampedLogScale(_ raw: Float) -> Double { min(max(Double(raw), -7), 7) }

    /// The ascending quantiles of one target of a `monotoneQuantiles` prediction from its `m`
    /// outputs `o`: `q_0 = o_0`, `q_i = q_{i−1} + softplus(o_i) + 1e-4`.
    public static func monotoneQuantileValues(_ o: ArraySlice<Float>, into q: inout [Double]) {
        var acc = 0.0
        for (i, v) in o.enumerated() {
            let x = Double(v)
            acc += i == 0 ? x : (x > 30 ? x : log1p(exp(x))) + 1e-4
            q[i] = acc
        }
    }

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
