import Foundation

/// The left-censored (Tobit) normal term of a measurement that was clipped at 0.
///
/// A MID entry is measured as `max(μ + σ·ε, 0)`, ε ~ N(0, 1): an entry read as 0 says only
/// that μ + σ·ε ≤ 0, whose probability is Φ(−z) with z = μ/σ. Its term of −2·log L is
/// `ℓ(z) = −2·log Φ(−z)` (2·ln 2 at z = 0, ≈ z² + 2·log(z·√(2π)) for large z: far above 0 the
/// Gaussian term again up to a logarithm); its deviance against the saturated model, whose
/// fractions cannot be negative (best μ = 0, likelihood ½), is ℓ(z) − 2·ln 2 — 0 at μ = 0,
/// as the Gaussian term of an exact fit. All functions take z = μ/σ (dimensionless);
/// derivatives with respect to μ are these times 1/σ.
public enum CensoredNormal {
    /// 1/√(2π).
    static let invSqrt2Pi = 0.398_942_280_401_432_7

    /// log Φ(−z), the log probability that a N(z, 1) draw is ≤ 0; accurate for every finite z
    /// (erfc below z = 30, the continued fraction of the Mills ratio above).
    public static func logUpperTail(_ z: Double) -> Double {
        if z < 30 { return log(0.5 * erfc(z / 2.0.squareRoot())) }
        return -0.5 * z * z + log(invSqrt2Pi) + log(millsRatio(z))
    }

    /// The Mills ratio Φ(−z)/φ(z) for z ≥ 30 by its continued fraction
    /// 1/(z + 1/(z + 2/(z + 3/(z + …)))), evaluated backwards (40 terms: far below round-off there).
    static func millsRatio(_ z: Double) -> Double {
        var t = z
        for k in stride(from: 40, through: 1, by: -1) { t = z + Double(k) / t }
        return 1 / t
    }

    /// The inverse Mills ratio λ(z) = φ(z)/Φ(−z) (≈ z + 1/z for large z; 0.798 at z = 0).
    public static func inverseMills(_ z: Double) -> Double {
        if z < 30 { return invSqrt2Pi * exp(-0.5 * z * z) / (0.5 * erfc(z / 2.0.squareRoot())) }
        return 1 / millsRatio(z)
    }

    /// 2·ln 2: ℓ at z = 0, the saturated model's term.
    public static let saturated = 2 * 0.693_147_180_559_945_3

    /// The censored entry's term ℓ(z) = −2·log Φ(−z) (> 0 for every finite z).
    public static func term(_ z: Double) -> Double { -2 * logUpperTail(z) }

    /// The censored entry's deviance ℓ(z) − 2·ln 2 (0 at z = 0).
    public static func deviance(_ z: Double) -> Double { term(z) - saturated }

    /// dℓ/dz = 2·λ(z).
    public static func devianceSlope(_ z: Double) -> Double { 2 * inverseMills(z) }

    /// The observed Fisher information of a censored entry about z: −d² log Φ(−z)/dz²
    /// = λ(λ − z) > 0 (half of ℓ''); 2/π at z = 0, → 1 for large z.
    public static func observedInformation(_ z: Double) -> Double {
        let l = inverseMills(z)
        return l * (l - z)
    }

    /// Mean and variance of one entry's deviance at its true z under the censored model: with
    /// probability Φ(z) the entry is seen (deviance ε², ε > −z), else censored (ℓ(z) − 2·ln 2).
    /// Far from 0 they are 1 and 2, the χ²(1) term; at z = 0, 0.5 and 1.25. The χ² test of a
    /// fit with censored entries compares the deviance with the sum of these (`DevianceReference`).
    public static func devianceMoments(_ z: Double) -> (mean: Double, variance: Double) {
        let q = exp(logUpperTail(z)), seen = 1 - q
        let density = invSqrt2Pi * exp(-0.5 * z * z)
        let c = q > 0 ? deviance(z) : 0
        // ∫_{−z}^∞ x²φ = Φ(z) − zφ(z);  ∫_{−z}^∞ x⁴φ = 3Φ(z) − (z³ + 3z)φ(z).
        let mean = seen - z * density + q * c
        let second = 3 * seen - (z * z * z + 3 * z) * density + q * c * c
        return (mean, max(second - mean * mean, 0))
    }
}
