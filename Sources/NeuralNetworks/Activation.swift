#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element-wise nonlinearity applied after a `Dense` layer's affine map.
///
/// Every derivative here is a function of the activation's **output** `y`, so backward
/// needs only the layer's output, never its pre-activation:
///
/// | case | `y = f(z)` | `f′` in terms of `y` |
/// |---|---|---|
/// | `identity` | `z` | `1` |
/// | `relu` | `max(z, 0)` | `y > 0 ? 1 : 0` |
/// | `sigmoid` | `1 / (1 + e^(−z))` | `y·(1 − y)` |
/// | `tanh` | `tanh z` | `1 − y²` |
public enum Activation: String, Sendable, Codable, CaseIterable {
    case identity, relu, sigmoid, tanh

    /// Applies `f` in place.
    @inlinable
    public func apply(_ x: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .identity: break
        case .relu: for i in x.indices { x[i] = max(x[i], 0) }
        case .sigmoid: for i in x.indices { x[i] = 1 / (1 + expf(-x[i])) }
        case .tanh: for i in x.indices { x[i] = tanhf(x[i]) }
        }
    }

    /// `gradient[i] ← gradient[i] · f′` evaluated from the outputs `y`: turns `∂L/∂y` into `∂L/∂z`.
    @inlinable
    public func backward(output y: UnsafeBufferPointer<Float>, gradient g: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .identity: break
        case .relu: for i in g.indices where !(y[i] > 0) { g[i] = 0 }
        case .sigmoid: for i in g.indices { g[i] *= y[i] * (1 - y[i]) }
        case .tanh: for i in g.indices { g[i] *= 1 - y[i] * y[i] }
        }
    }
}
