import Foundation
import MLFluxCore

/// Flux states near a feasible one, for benchmarks and smoke tests.
public enum PerturbedStates {
    /// `count` states: each exchange flux of `base` multiplied by `exp(σ·z)`, `z` standard
    /// normal. Net fluxes are unchanged, so mass balance holds; exchange 0 stays 0.
    /// Exchange upper bounds may be exceeded for large σ.
    public static func exchange<G: RandomNumberGenerator>(around base: FluxState, count: Int, sigma: Double = 1,
                                                          using rng: inout G) -> [FluxState] {
        (0..<count).map { _ in
            var s = base
            for j in s.exchange.indices where s.exchange[j] > 0 {
                // Box–Muller.
                let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng)
                let u2 = Double.random(in: 0..<1, using: &rng)
                let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
                s.exchange[j] *= exp(sigma * z)
            }
            return s
        }
    }
}

