#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The χ² distribution: CDF via the regularised lower incomplete gamma function
/// (series / continued fraction, Numerical Recipes §6.2) and quantiles by bisection.
public enum ChiSquared {
    /// P(X ≤ x) for X ~ χ²(dof).
    public static func cdf(_ x: Double, dof: Int) -> Double { cdf(x, dof: Double(dof)) }

    /// The `p`-quantile (e.g. 0.95 for the critical value at α = 0.05).
    public static func quantile(_ p: Double, dof: Int) -> Double { quantile(p, dof: Double(dof)) }

    /// P(X ≤ x) for X ~ χ²(dof), dof > 0 not necessarily whole (a scaled-χ² reference).
    public static func cdf(_ x: Double, dof: Double) -> Double {
        guard x > 0 else { return 0 }
        return regularizedGammaP(dof / 2, x / 2)
    }

    /// The `p`-quantile of χ²(dof) for a dof that need not be whole.
    public static func quantile(_ p: Double, dof: Double) -> Double {
        var lo = 0.0, hi = max(1.0, dof)
        while cdf(hi, dof: dof) < p { hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid, dof: dof) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    static func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
        #if canImport(Glibc)
        let lnGammaA: Double = Glibc.lgamma(a)
        #else
        let lnGammaA: Double = Darwin.lgamma(a)
        #endif
        if x < a + 1 {
            var sum = 1 / a, term = sum, n = a
            for _ in 0..<1000 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return sum * exp(-x + a * log(x) - lnGammaA)
        }
        // Continued fraction for Q(a, x) (modified Lentz).
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<1000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b; if abs(d) < tiny { d = tiny }
            c = b + an / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return 1 - exp(-x + a * log(x) - lnGammaA) * h
    }
}
