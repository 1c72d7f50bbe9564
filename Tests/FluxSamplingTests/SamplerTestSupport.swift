import Foundation
import FluxSampling
import MLFluxCore

/// Kolmogorov–Smirnov statistic of `values` against the continuous CDF `cdf`.
func ksStatistic(_ values: [Double], cdf: (Double) -> Double) -> Double {
    let x = values.sorted()
    let n = Double(x.count)
    var d = 0.0
    for (i, v) in x.enumerated() {
        let f = cdf(v)
        d = max(d, Double(i + 1) / n - f, f - Double(i) / n)
    }
    return d
}

/// Critical value of the one-sample KS statistic at α = 0.001 (asymptotic: √(−ln(α/2)/2) / √n).
func ksCritical(count: Int) -> Double {
    (-log(0.001 / 2) / 2).squareRoot() / Double(count).squareRoot()
}

/// A network with two uptakes A→B, A→C and two effluxes B→, C→: the free net fluxes are
/// the two uptake rates (x, y) ≥ 0, further constrained by `constraints` on `u1`, `u2`.
func twoFluxNetwork(_ constraints: [FluxConstraint]) throws -> MetabolicNetwork {
    func s(_ pool: String) -> ReactionParticipant { ReactionParticipant(pool: pool, atomMap: "a") }
    return try MetabolicNetwork(
        name: "two-flux",
        pools: [Pool(id: "A", carbons: 1), Pool(id: "B", carbons: 1), Pool(id: "C", carbons: 1)],
        reactions: [
            Reaction(id: "u1", substrates: [s("A")], products: [s("B")]),
            Reaction(id: "u2", substrates: [s("A")], products: [s("C")]),
            Reaction(id: "e1", substrates: [s("B")], products: []),
            Reaction(id: "e2", substrates: [s("C")], products: []),
        ],
        constraints: constraints)
}

/// `u1 + u2 (relation) constant` as a net constraint.
func sumConstraint(_ relation: FluxConstraint.Relation, _ constant: Double) -> FluxConstraint {
    FluxConstraint(kind: .net, terms: [.init(reaction: "u1", coefficient: 1), .init(reaction: "u2", coefficient: 1)],
                   relation: relation, constant: constant)
}
