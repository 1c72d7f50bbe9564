import XCTest
import MLFluxCore
import TestSupport
@testable import EMU

/// A small 13C + 2H network exercising what the toy does not: a symmetric pool, a
/// leaked hydrogen, a pool produced twice by one reaction, a pool on both sides of a
/// reversible reaction, and hydrogen atoms counted in the MIDs. Checked against the
/// brute-force isotopomer simulation.
final class HydrogenSymmetryTests: XCTestCase {
    static func network() throws -> MetabolicNetwork {
        func s(_ p: String, _ m: String) -> ReactionParticipant { ReactionParticipant(pool: p, atomMap: m) }
        return try MetabolicNetwork(
            name: "mini",
            pools: [Pool(id: "A", carbons: 2, hydrogens: 1), Pool(id: "W", carbons: 0, hydrogens: 1),
                    Pool(id: "S", carbons: 4, isSymmetric: true), Pool(id: "Y", carbons: 4),
                    Pool(id: "X", carbons: 2, hydrogens: 1), Pool(id: "X2", carbons: 2, hydrogens: 1),
                    Pool(id: "H", carbons: 0, hydrogens: 1)],
            reactions: [
                Reaction(id: "r1", substrates: [s("A", "ABh"), s("A", "CDi")],
                         products: [s("S", "ABCD"), s("H", "h"), s("H", "i")]),
                Reaction(id: "r2", substrates: [s("S", "ABCD")], products: [s("Y", "DCBA")]),
                Reaction(id: "r3", substrates: [s("Y", "ABCD"), s("H", "h"), s("H", "i")],
                         products: [s("X", "ABh"), s("X", "CDi")]),
                Reaction(id: "r4", substrates: [s("X", "ABh")], products: [s("X2", "BAh")], leakAtoms: ["h"]),
                Reaction(id: "inW", substrates: [s("W", "a")], products: [s("H", "a")]),
                Reaction(id: "exX2", substrates: [s("X2", "ABh")], products: []),
                Reaction(id: "exH", substrates: [s("H", "a")], products: []),
            ])
    }

    func testAgreesWithBruteForce() throws {
        let net = try Self.network()
        let w = 0.7
        let state = try FluxState(network: net, values: [
            "r1": (1, nil), "r2": (1, 0.8), "r3": (1, 2.5), "r4": (2, 0.3),
            "inW": (w, nil), "exX2": (2, nil), "exH": (w, nil),
        ])
        XCTAssertEqual(state.balanceResidual(in: net).map(abs).max()!, 0, accuracy: 1e-14)
        let experiments = [
            TracerExperiment(id: "e1", inputs: [
                TracerInput(pool: "A", components: [TracerComponent(pattern: "101", fraction: 0.6)!,
                                                    TracerComponent(pattern: "010", fraction: 0.2)!]),
                TracerInput(pool: "W", components: [TracerComponent(pattern: "1", fraction: 0.3)!]),
            ]),
            TracerExperiment(id: "e2", inputs: [
                TracerInput(pool: "A", components: [TracerComponent(pattern: "111", fraction: 1, purity: 0.9)!]),
            ]),
        ]
        let fragments = net.balancedPools.map(MeasuredFragment.whole) + [
            MeasuredFragment(name: "S_12", pool: "S", atoms: [0, 1]),
            MeasuredFragment(name: "X_2H", pool: "X", atoms: [1, 2]),
            MeasuredFragment(name: "Y_3", pool: "Y", atoms: [2]),
        ]
        let sim = try EMUSimulator(network: net, measured: fragments, experiments: experiments)
        let lab = try sim.simulate(state)
        for (e, exp) in experiments.enumerated() {
            let ref = BruteForceIsotopomers(network: net, state: state, experiment: exp)
            for (f, frag) in fragments.enumerated() {
                let expected = ref.mid(pool: frag.pool, positions: frag.atoms)
                let got = lab.mid(experiment: e, fragment: f)
                for k in got.indices {
                    XCTAssertEqual(got[k], expected[k], accuracy: 1e-12, "\(exp.id) \(frag.name) M+\(k)")
                }
            }
        }
    }
}
