/// Gibbs free energy of reaction from one-way fluxes (flux-force relationship,
/// Beard & Qian 2007; Wiechert 2007): ΔG = R·T·ln(v_reverse / v_forward).
public enum Thermodynamics {
    /// Gas constant in kJ/(mol·K).
    public static let gasConstant = 8.314_462_618e-3
    /// Default temperature: 37 °C in kelvin.
    public static let bodyTemperature = 310.15

    /// ΔG in kJ/mol of a bidirectional reaction with net flux `net` and exchange flux
    /// `xch` (forward = xch + max(net, 0), reverse = xch − min(net, 0)) at `temperature` K.
    /// −∞ for an irreversible forward reaction (reverse 0), +∞ for reverse only, 0 at equilibrium.
    public static func deltaG(net: Double, xch: Double, temperature: Double = bodyTemperature) -> Double {
        let forward = xch + max(net, 0), reverse = xch - min(net, 0)
        if forward <= 0 && reverse <= 0 { return .nan }
        if reverse <= 0 { return -.infinity }
        if forward <= 0 { return .infinity }
        return gasConstant * temperature * log(reverse / forward)
    }

    /// The exchange flux at which a reaction with net flux `net` has free energy `deltaG`
    /// (the inverse of `deltaG(net:xch:)` in `xch`), or nil where none exists: a nonzero ΔG
    /// of the other sign than the net flux's, or `net = 0`.
    public static func exchange(net: Double, deltaG: Double, temperature: Double = bodyTemperature) -> Double? {
        // reverse/forward = q with forward = xch + b, reverse = xch + a ⇒ xch = (q·b − a)/(1 − q).
        let a = -min(net, 0), b = max(net, 0)
        let q = exp(deltaG / (gasConstant * temperature))
        let x = (q * b - a) / (1 - q)
        return x.isFinite && x >= 0 ? x : nil
    }

    /// ∂ΔG/∂net and ∂ΔG/∂xch (kJ/mol per flux unit), for error propagation.
    public static func deltaGGradient(net: Double, xch: Double, temperature: Double = bodyTemperature)
        -> (dNet: Double, dXch: Double) {
        let forward = xch + max(net, 0), reverse = xch - min(net, 0)
        let rt = gasConstant * temperature
        // d ln(rev/fwd) = drev/rev − dfwd/fwd; dfwd/dnet = [net ≥ 0], drev/dnet = −[net < 0].
        let dNet = net >= 0 ? -rt / forward : -rt / reverse
        let dXch = rt * (1 / reverse - 1 / forward)
        return (dNet, dXch)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
