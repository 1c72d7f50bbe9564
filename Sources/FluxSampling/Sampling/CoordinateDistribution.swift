#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The distribution of one free flux between its bounds `[lower, upper]`, drawn by
/// inverse transform from one uniform number.
///
/// - `uniform`: `x = lower + (upper − lower)·U`.
/// - `logUniform`: `log10 x` uniform in `[log10 lo, log10 upper]`, `lo = max(lower, floor)`.
/// - `logNormal`: `log10 x ~ N(log10 median, σ²)` truncated to the same interval, drawn as
///   `Φ⁻¹(Φ(α) + U·(Φ(β) − Φ(α)))`.
/// - `uniformOrLogUniform`: `U < ½` → uniform with `2U`, else log-uniform with `2U − 1`
///   (an equal mixture of the two, still one uniform number per draw).
///
/// When `upper ≤ max(lower, floor)` (a range entirely below the floor, or a single value)
/// the log methods fall back to uniform in `[lower, upper]`; when the truncated normal puts
/// (numerically) no mass in the interval (both ends > 8 σ on one side of the median) it
/// falls back to log-uniform.
enum CoordinateDistribution: Sendable {
    case constant(Double)
    case uniform(lower: Double, upper: Double)
    case logUniform(lower: Double, upper: Double, logLower: Double, logUpper: Double)
    case logNormal(lower: Double, upper: Double, mu: Double, sigma: Double, pLower: Double, pUpper: Double)
    case uniformOrLogUniform(lower: Double, upper: Double, logLower: Double, logUpper: Double)

    init(lower: Double, upper: Double, settings: SamplerSettings, logScale: Bool) {
        guard upper > lower else {
            self = .constant(lower)
            return
        }
        let lo = max(lower, settings.exchangeFloor)
        guard logScale, settings.exchange != .uniform, upper > lo else {
            self = .uniform(lower: lower, upper: upper)
            return
        }
        let a = log10(lo), b = log10(upper)
        if settings.exchange == .mixed {
            self = .uniformOrLogUniform(lower: lower, upper: upper, logLower: a, logUpper: b)
            return
        }
        if settings.exchange == .logNormal {
            let mu = log10(settings.logNormalMedian), sigma = settings.logNormalSigmaDecades
            let pa = standardNormalCDF((a - mu) / sigma), pb = standardNormalCDF((b - mu) / sigma)
            if pb - pa > 1e-12 {
                self = .logNormal(lower: lower, upper: upper, mu: mu, sigma: sigma, pLower: pa, pUpper: pb)
                return
            }
        }
        self = .logUniform(lower: lower, upper: upper, logLower: a, logUpper: b)
    }

    /// The value for a uniform number `u ∈ (0, 1)`, clamped to the bounds.
    @inline(__always)
    func value(_ u: Double) -> Double {
        switch self {
        case .constant(let v):
            return v
        case .uniform(let lo, let hi):
            return min(max(lo + (hi - lo) * u, lo), hi)
        case .logUniform(let lo, let hi, let a, let b):
            return min(max(pow(10, a + (b - a) * u), lo), hi)
        case .uniformOrLogUniform(let lo, let hi, let a, let b):
            let x = u < 0.5 ? lo + (hi - lo) * 2 * u : pow(10, a + (b - a) * (2 * u - 1))
            return min(max(x, lo), hi)
        case .logNormal(let lo, let hi, let mu, let sigma, let pa, let pb):
            let q = standardNormalQuantile(pa + (pb - pa) * u)
            return min(max(pow(10, mu + sigma * q), lo), hi)
        }
    }
}

extension CoordinateDistribution {
    /// The probability density at `x` (per flux unit) of the values `value(_:)` returns for
    /// uniform `u`; 0 outside the support. A `constant` has no density: 1 at its value, else 0.
    func density(_ x: Double) -> Double {
        let ln10 = 2.302_585_092_994_046
        func logUniform(_ a: Double, _ b: Double) -> Double {
            x >= pow(10, a) && x <= pow(10, b) && b > a ? 1 / (x * ln10 * (b - a)) : 0
        }
        switch self {
        case .constant(let v):
            return x == v ? 1 : 0
        case .uniform(let lo, let hi):
            return x >= lo && x <= hi ? 1 / (hi - lo) : 0
        case .logUniform(_, _, let a, let b):
            return logUniform(a, b)
        case .uniformOrLogUniform(let lo, let hi, let a, let b):
            return 0.5 * (x >= lo && x <= hi ? 1 / (hi - lo) : 0) + 0.5 * logUniform(a, b)
        case .logNormal(let lo, let hi, let mu, let sigma, let pa, let pb):
            guard x >= lo, x <= hi, x > 0 else { return 0 }
            let z = (log10(x) - mu) / sigma, c = standardNormalCDF(z)
            // The truncation to [log10 max(lower, floor), log10 upper].
            guard c >= pa - 1e-12, c <= pb + 1e-12 else { return 0 }
            return exp(-z * z / 2) / ((2 * Double.pi).squareRoot() * sigma * (pb - pa) * x * ln10)
        }
    }
}

/// The distribution one free exchange flux is drawn from by `FluxSpaceSampler` with
/// `settings` (uniform, log-uniform, log-normal or their mixture between `lower` and
/// `upper`, the log methods cut at `settings.exchangeFloor`): its density, for a Bayesian
/// posterior whose prior is the training data's, and its draws.
public struct ExchangeFluxPrior: Sendable {
    let distribution: CoordinateDistribution

    public init(lower: Double, upper: Double, settings: SamplerSettings) {
        distribution = CoordinateDistribution(lower: lower, upper: upper, settings: settings, logScale: true)
    }

    /// Density per flux unit at exchange flux `x` (0 outside the support).
    public func density(_ x: Double) -> Double { distribution.density(x) }

    /// The draw for a uniform number `u ∈ (0, 1)`.
    public func value(_ u: Double) -> Double { distribution.value(u) }
}

/// Φ(x), the standard normal CDF.
func standardNormalCDF(_ x: Double) -> Double {
    0.5 * erfc(-x / 2.0.squareRoot())
}

/// Φ⁻¹(p) for p ∈ (0, 1): Acklam's rational approximation (relative error 1.15e-9) refined
/// by one Halley step on `Φ(x) − p`, which brings it to about machine precision.
func standardNormalQuantile(_ p: Double) -> Double {
    if p <= 0 { return -.infinity }
    if p >= 1 { return .infinity }
    let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
             6.680131188771972e+01, -1.328068155288572e+01]
    let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let pLow = 0.02425
    var x: Double
    if p < pLow {
        let q = (-2 * log(p)).squareRoot()
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    } else if p <= 1 - pLow {
        let q = p - 0.5, r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    } else {
        let q = (-2 * log1p(-p)).squareRoot()
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    // Halley refinement.
    let e = standardNormalCDF(x) - p
    let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
    x -= u / (1 + x * u / 2)
    return x
}
