import Foundation
import MLFluxCore

/// A mixture of multivariate Student-t distributions in the fit's parameters (net free fluxes
/// as they are, exchange free fluxes in log10): the proposal of `ImportancePosterior` and the
/// starting population of `TemperedPosterior`. Each component is a `Centre` (mean and
/// covariance) with a mixture weight and a scale of that covariance's square root; all share
/// `tailDegrees` degrees of freedom.
struct ProposalMixture: Sendable {
    /// One centre: mean, lower Cholesky factor L (column-major) of its covariance and log|L|.
    struct Centre: Sendable {
        let mean: [Double]
        let factor: [Double]
        let logDeterminant: Double

        init?(mean: [Double], covariance: [Double]) {
            let d = mean.count
            guard var f = AdaptiveMetropolis.factor(covariance, d: d, scale: 1)
                    ?? AdaptiveMetropolis.factor((0..<(d * d)).map { $0 % (d + 1) == 0 ? covariance[$0] * (1 + 1e-9) + 1e-12 : covariance[$0] },
                                                 d: d, scale: 1) else { return nil }
            for col in 0..<d { for row in 0..<col { f[row + d * col] = 0 } }
            self.mean = mean
            factor = f
            logDeterminant = (0..<d).reduce(0) { $0 + log(f[$1 + d * $1]) }
        }

        /// m + s·L·z.
        func point(_ z: [Double], scale s: Double) -> [Double] {
            let d = mean.count
            var x = mean
            for col in 0..<d { for row in col..<d { x[row] += s * factor[row + d * col] * z[col] } }
            return x
        }

        /// ‖L⁻¹(x − m)‖².
        func squaredDistance(_ x: [Double]) -> Double {
            let d = mean.count
            var y = zip(x, mean).map { $0 - $1 }
            for row in 0..<d {
                var v = y[row]
                for col in 0..<row { v -= factor[row + d * col] * y[col] }
                y[row] = v / factor[row + d * row]
            }
            return y.reduce(0) { $0 + $1 * $1 }
        }
    }

    /// A component: its centre (index into `centres`), mixture weight (the weights sum to 1) and
    /// the scale of the centre's covariance square root.
    struct Component: Sendable {
        var centre: Int
        var weight: Double
        var scale: Double
    }

    let centres: [Centre]
    let components: [Component]
    /// Degrees of freedom ν of every component (an integer number of χ² terms is drawn).
    let tailDegrees: Double

    /// One draw: a component by its weight, z ~ N(0, I), u ~ χ²_ν/ν; x = m + s·L·z/√u.
    func draw(using rng: inout SplitMix64) -> [Double] {
        let d = centres[0].mean.count, nu = tailDegrees
        var pick = Double(rng.next() >> 11) * 0x1p-53, c = 0
        while c < components.count - 1, pick >= components[c].weight { pick -= components[c].weight; c += 1 }
        let z = (0..<d).map { _ in rng.nextGaussian() }
        let chi = (0..<Int(nu)).reduce(0.0) { acc, _ in let g = rng.nextGaussian(); return acc + g * g } / nu
        return centres[components[c].centre].point(z, scale: components[c].scale / chi.squareRoot())
    }

    /// log q(x) up to the constant shared by the components (the Γ terms): the log-sum over
    /// components of log α − log|s·L| − (ν + d)/2 · log(1 + δ²/(s²ν)), δ² = ‖L⁻¹(x − m)‖².
    func logDensity(_ x: [Double]) -> Double {
        let d = Double(x.count), nu = tailDegrees
        let delta = centres.map { $0.squaredDistance(x) }
        let terms = components.map { k in
            log(k.weight) - d * log(k.scale) - centres[k.centre].logDeterminant
                - (nu + d) / 2 * log(1 + delta[k.centre] / (k.scale * k.scale * nu))
        }
        let top = terms.max()!
        return top + log(terms.reduce(0) { $0 + exp($1 - top) })
    }
}
