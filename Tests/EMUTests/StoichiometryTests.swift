import XCTest
import FluxML
import MLFluxCore
import TestSupport
@testable import EMU

/// Non-integer stoichiometry of a biomass drain (Tests/EMUTests/Fixtures/biomass_drain.fml):
/// `bm: 0.5 A + 0.25 B -> BM`, BM without traced atoms. The mass balances use the coefficients;
/// the labeling does not depend on them.
final class StoichiometryTests: XCTestCase {
    func network() throws -> MetabolicNetwork {
        try FluxMLReader.read(contentsOf: repositoryRoot() + "/Tests/EMUTests/Fixtures/biomass_drain.fml")
    }

    func message(_ fluxml: String) -> String {
        do { _ = try FluxMLReader.parse(fluxml, fileName: "n.fml"); return "no error" } catch { return "\(error)" }
    }

    /// By hand: A: upt1 + upt2 − v1 − 0.5·bm = 0, B: v1 − 0.25·bm − exB = 0, BM: bm − exBM = 0.
    /// With upt1 = 0.6, upt2 = 0.4, bm = 0.4: v1 = 1 − 0.2 = 0.8, exB = 0.8 − 0.1 = 0.7, exBM = 0.4;
    /// six one-way reactions less three balances leave three free fluxes, which give back that state.
    func testCoefficientsInMassBalancesAndFreeFluxes() throws {
        let net = try network()
        XCTAssertEqual(net.reactions.map(\.id), ["upt1", "upt2", "v1", "bm", "exB", "exBM"])
        XCTAssertEqual(net.balancedPools.map(\.id), ["A", "B", "BM"])
        XCTAssertEqual(net.stoichiometry, [[1, 1, -1, -0.5, 0, 0], [0, 0, 1, -0.25, -1, 0], [0, 0, 0, 1, 0, -1]])
        XCTAssertEqual(net.isBidirectional, [false, false, false, false, false, false])
        let basis = try FreeFluxBasis(network: net)
        XCTAssertEqual(basis.count, 3)
        let v: [String: Double] = ["upt1": 0.6, "upt2": 0.4, "v1": 0.8, "bm": 0.4, "exB": 0.7, "exBM": 0.4]
        let theta = basis.names.map { v[String($0.dropLast(4))]! }
        let state = basis.fluxState(free: theta)
        for (r, reaction) in net.reactions.enumerated() {
            XCTAssertEqual(state.net[r], v[reaction.id]!, accuracy: 1e-12, reaction.id)
        }
        // Labeling: A is fed 0.6 by [1-13C] Ain and 0.4 by unlabeled A2in, B only by A: M+1 = 0.6
        // in both, whatever the drain's coefficients.
        let sim = try EMUSimulator(network: net, experiments: net.experiments)
        let lab = try sim.simulate(state)
        for pool in ["A", "B"] {
            let mid = try XCTUnwrap(lab.mid(experiment: 0, named: pool))
            XCTAssertEqual(mid[0], 0.4, accuracy: 1e-12, pool)
            XCTAssertEqual(mid[1], 0.6, accuracy: 1e-12, pool)
        }
        // The writer keeps the coefficients.
        let again = try FluxMLReader.parse(FluxMLWriter.write(net), fileName: "again.fml")
        XCTAssertEqual(again.stoichiometry, net.stoichiometry)
    }

    /// A coefficient on a participant whose traced atoms go through the reaction, or not a
    /// positive number: one error naming the file, line, reaction and pool.
    func testCoefficientsThatNeedFractionalAtomsAreErrors() {
        func doc(_ reaction: String) -> String {
            """
            <fluxml xmlns="http://www.13cflux.net/fluxml"><reactionnetwork><metabolitepools>
            <pool id="In" atoms="1"/><pool id="A" atoms="1"/><pool id="B" atoms="1"/></metabolitepools>
            <reaction id="upt"><reduct id="In" cfg="a"/><rproduct id="A" cfg="a"/></reaction>
            \(reaction)
            <reaction id="out"><reduct id="B" cfg="a"/></reaction>
            </reactionnetwork></fluxml>
            """
        }
        let product = message(doc("<reaction id=\"half\"><reduct id=\"A\" cfg=\"a\"/><rproduct id=\"B\" cfg=\"a\" stoichiometry=\"0.5\"/></reaction>"))
        XCTAssertTrue(product.hasPrefix("n.fml:4: ") && product.contains("reaction 'half': stoichiometry 0.5 of pool 'B' would need fractional or multiple copies of its 1 traced atoms"), product)
        let substrate = message(doc("<reaction id=\"half\"><reduct id=\"A\" cfg=\"a\" stoichiometry=\"2\"/><rproduct id=\"B\" cfg=\"a\"/></reaction>"))
        XCTAssertTrue(substrate.hasPrefix("n.fml:4: ") && substrate.contains("stoichiometry 2.0 of pool 'A' is not 1, but its 1 traced atoms go to products"), substrate)
        let negative = message(doc("<reaction id=\"half\"><reduct id=\"A\" cfg=\"a\" stoichiometry=\"-0.5\"/><rproduct id=\"B\" cfg=\"a\"/></reaction>"))
        XCTAssertEqual(negative, "n.fml:4: <reduct> attribute stoichiometry=\"-0.5\": not a positive number")
    }
}
