import XCTest
import MLFluxCore
import TestSupport
@testable import EMU

/// Toy flux state of the paper's network with v1 = 1, v3 = v4 = a, v2 exchange x.
func toyState(_ net: MetabolicNetwork, a: Double, x: Double) -> FluxState {
    let values: [String: (net: Double, xch: Double?)] = [
        "v1": (1, nil), "v2": (1 - 2 * a, x), "v3": (a, 0), "v4": (a, 0), "v5": (1 - a, 0),
        "EX_molE": (3 * a, nil), "EX_molF": (1 - a, nil),
    ]
    return try! FluxState(network: net, values: values)
}

func tracer(_ id: String, _ pool: String, _ parts: [(String, Double)], purity: Double = 1) -> TracerExperiment {
    TracerExperiment(id: id, inputs: [TracerInput(pool: pool, components: parts.map {
        TracerComponent(pattern: $0.0, fraction: $0.1, purity: purity)!
    })])
}

final class ToyModelTests: XCTestCase {
    let patterns = ["100", "010", "001", "110", "101", "011"]

    /// The paper's analytic relations (Methods, [1-13C]A): v2r/v1 = (1 − B1)/(B1 − D1),
    /// v3/v1 = (1 − D1)/(2·B1 − D1).
    func testAnalyticRelationsOfThePaper() throws {
        let net = try toyNetwork()
        let sim = try EMUSimulator(network: net, experiments: [tracer("A_100", "molA", [("100", 1)])])
        var rng = SplitMix64(seed: 7)
        for _ in 0..<8 {
            let a = Double.random(in: 0.01...0.45, using: &rng)
            let x = pow(10, Double.random(in: -3...2, using: &rng))
            let state = toyState(net, a: a, x: x)
            let lab = try sim.simulate(state)
            let b1 = lab.mid(experiment: 0, named: "molB")![1]
            let d1 = lab.mid(experiment: 0, named: "molD")![1]
            let v2r = state.reverse(net.reactionIndex["v2"]!)
            XCTAssertEqual((1 - b1) / (b1 - d1), v2r, accuracy: 1e-10 * max(1, v2r))
            XCTAssertEqual((1 - d1) / (2 * b1 - d1), a, accuracy: 1e-10)
        }
    }

    func testAgreesWithBruteForceIsotopomerSimulation() throws {
        let net = try toyNetwork()
        var experiments = patterns.map { tracer("A_\($0)", "molA", [($0, 1)]) }
        experiments.append(tracer("mix", "molA", [("110", 0.5), ("001", 0.3)], purity: 0.97))
        let sim = try EMUSimulator(network: net, experiments: experiments)
        for (a, x) in [(0.1, 0.5), (0.3, 3.0), (0.45, 0.02)] {
            let state = toyState(net, a: a, x: x)
            let lab = try sim.simulate(state)
            for (e, exp) in experiments.enumerated() {
                let ref = BruteForceIsotopomers(network: net, state: state, experiment: exp)
                for (f, frag) in lab.fragments.enumerated() {
                    let expected = ref.mid(pool: frag.pool, positions: frag.atoms)
                    let got = lab.mid(experiment: e, fragment: f)
                    for k in got.indices {
                        XCTAssertEqual(got[k], expected[k], accuracy: 1e-12, "\(exp.id) \(frag.name) M+\(k)")
                    }
                }
            }
        }
    }

    func testMIDsAreDistributions() throws {
        let net = try toyNetwork()
        let sim = try EMUSimulator(network: net, experiments: patterns.map { tracer($0, "molA", [($0, 1)]) })
        var rng = SplitMix64(seed: 11)
        for _ in 0..<10 {
            let lab = try sim.simulate(toyState(net, a: .random(in: 0...0.5, using: &rng),
                                                x: .random(in: 0...50, using: &rng)))
            for e in lab.experimentIDs.indices {
                for f in lab.fragments.indices {
                    let m = lab.mid(experiment: e, fragment: f)
                    XCTAssertEqual(m.reduce(0, +), 1, accuracy: 1e-13)
                    XCTAssertTrue(m.allSatisfy { $0 >= -1e-15 }, "\(m)")
                }
            }
        }
    }

    func testUnlabeledAndFullyLabeledInputs() throws {
        let net = try toyNetwork()
        let sim = try EMUSimulator(network: net, experiments: [
            TracerExperiment(id: "unlabeled", inputs: []),
            tracer("U", "molA", [("111", 1)]),
        ])
        let lab = try sim.simulate(toyState(net, a: 0.2, x: 0.7))
        for f in lab.fragments.indices {
            let n = lab.fragments[f].atoms.count
            XCTAssertEqual(lab.mid(experiment: 0, fragment: f)[0], 1, accuracy: 1e-15)
            XCTAssertEqual(lab.mid(experiment: 1, fragment: f)[n], 1, accuracy: 1e-14)
        }
    }

    func testSingularFluxStateIsReported() throws {
        let net = try toyNetwork()
        let sim = try EMUSimulator(network: net, experiments: [tracer("A", "molA", [("100", 1)])])
        // v3 = v4 = 0: molC has no producing flux.
        XCTAssertThrowsError(try sim.simulate(toyState(net, a: 0, x: 1))) { error in
            XCTAssertTrue("\(error)".contains("molC"), "\(error)")
        }
        var bad = toyState(net, a: 0.2, x: 1)
        bad.net[net.reactionIndex["EX_molF"]!] = -1
        XCTAssertThrowsError(try sim.simulate(bad)) { XCTAssertTrue("\($0)".contains("EX_molF")) }
        bad = toyState(net, a: 0.2, x: 1)
        bad.exchange[net.reactionIndex["v2"]!] = .nan
        XCTAssertThrowsError(try sim.simulate(bad)) { XCTAssertTrue("\($0)".contains("v2")) }
    }
}

/// A fit at 10⁴ flux units leaves fluxes at −10⁻¹⁰ where the bound is 0: round-off, simulated
/// as 0; a real negative exchange or one-way flux is still refused.
final class OneWayRoundOffTests: XCTestCase {
    func testRoundOffNegativeExchangeIsZeroAndRealNegativesAreErrors() throws {
        let net = try toyNetwork()
        let sim = try EMUSimulator(network: net, experiments: [tracer("A_100", "molA", [("100", 1)])])
        let drain = net.reactionIndex["EX_molE"]!, v2 = net.reactionIndex["v2"]!
        let zero = toyState(net, a: 0.2, x: 0)
        var roundOff = zero
        roundOff.exchange[v2] = -1e-12  // within 10⁻⁹ of the largest flux (1)
        let exact = try sim.simulate(zero), clamped = try sim.simulate(roundOff)
        for name in ["molB", "molD", "molF"] {
            XCTAssertEqual(exact.mid(experiment: 0, named: name)!, clamped.mid(experiment: 0, named: name)!, name)
        }
        var negativeExchange = zero
        negativeExchange.exchange[v2] = -1e-6
        XCTAssertThrowsError(try sim.simulate(negativeExchange)) { e in
            XCTAssertTrue("\(e)".contains("v2") && "\(e)".contains("negative"), "\(e)")
        }
        var negative = zero
        negative.net[drain] = -1e-6  // an efflux: one-way
        XCTAssertThrowsError(try sim.simulate(negative)) { e in
            XCTAssertTrue("\(e)".contains("EX_molE") && "\(e)".contains("negative"), "\(e)")
        }
    }
}
