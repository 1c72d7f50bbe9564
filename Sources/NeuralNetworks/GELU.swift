#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Gaussian error linear unit (Hendrycks & Gimpel 2016), exact form:
/// `gelu(z) = z·Φ(z) = ½·z·(1 + erf(z/√2))`, with derivative `Φ(z) + z·φ(z)`
/// (`φ` the standard normal density).
///
/// Unlike `Activation`, whose derivatives are functions of the output, GELU's derivative
/// needs the pre-activation `z`, so layers using it (`ResidualBlock`) keep `z` in their trace.
public enum GELU {
    /// `y[i] = gelu(z[i])`; `y` may alias nothing else.
    @inlinable
    public static func forward(_ z: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
        precondition(z.count == y.count)
        for i in z.indices {
            let x = z[i]
            y[i] = 0.5 * x * (1 + erff(x * 0.70710678118654752))
        }
    }

    /// `g[i] ← g[i] · gelu′(z[i])`: turns `∂L/∂y` into `∂L/∂z`.
    @inlinable
    public static func backward(_ z: UnsafeBufferPointer<Float>, gradient g: UnsafeMutableBufferPointer<Float>) {
        precondition(z.count == g.count)
        for i in z.indices {
            let x = z[i]
            let cdf = 0.5 * (1 + erff(x * 0.70710678118654752))
            let pdf = 0.39894228040143268 * expf(-0.5 * x * x)
            g[i] *= cdf + x * pdf
        }
    }

    /// `gelu` of every element of `z`.
    public static func apply(_ z: Matrix) -> Matrix {
        var y = z
        z.storage.withUnsafeBufferPointer { pz in y.storage.withUnsafeMutableBufferPointer { forward(pz, into: $0) } }
        return y
    }
}
