import FluxSampling
import MLFluxCore
import TestSupport
import XCTest

/// Constraint sets that cannot be sampled give errors that name what to change.
final class SamplerErrorTests: XCTestCase {
    private func toyWith(_ extra: [FluxConstraint], dropping: String? = nil) throws -> MetabolicNetwork {
        let toy = try toyNetwork()
        let kept = toy.constraints.filter { $0.description != dropping }
        return try MetabolicNetwork(name: "toy", pools: toy.pools, reactions: toy.reactions, constraints: kept + extra)
    }

    func testInfeasibleConstraintsAreNamed() throws {
        // The mass balances give v3 = 1 − EX_molF ≤ 1 (with v1 = 1); ask for v3 ≥ 2.
        let network = try toyWith([FluxConstraint(kind: .net, reaction: "v3", .greaterOrEqual, 2)])
        let basis = try FreeFluxBasis(network: network)
        XCTAssertThrowsError(try FluxSpaceSampler(network: network, basis: basis, settings: .automatic(for: basis))) { error in
            guard case FluxSamplingError.infeasible(let constraints) = error else {
                return XCTFail("expected infeasible, got \(error)")
            }
            XCTAssertTrue(constraints.contains("net: v3>=2.0"), "\(constraints)")
            XCTAssertTrue(constraints.contains("net: v1=1.0"), "\(constraints)")
            XCTAssertTrue(constraints.contains { $0.contains("EX_molF") }, "\(constraints)")
            XCTAssertFalse(constraints.contains { $0.contains("v2") }, "not part of the conflict: \(constraints)")
            XCTAssertTrue("\(error)".contains("v3>=2.0"))
        }
    }

    func testContradictoryBoundsInTwoFluxNetwork() throws {
        let network = try twoFluxNetwork([sumConstraint(.lessOrEqual, 1),
                                          FluxConstraint(kind: .net, reaction: "u1", .greaterOrEqual, 0.7),
                                          FluxConstraint(kind: .net, reaction: "u2", .greaterOrEqual, 0.7),
                                          FluxConstraint(kind: .net, reaction: "u2", .lessOrEqual, 5)])
        let basis = try FreeFluxBasis(network: network)
        XCTAssertThrowsError(try FluxSpaceSampler(network: network, basis: basis, settings: .automatic(for: basis))) { error in
            guard case FluxSamplingError.infeasible(let constraints) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(Set(constraints), ["net: u1+u2<=1.0", "net: u1>=0.7", "net: u2>=0.7"])
        }
    }

    func testUnboundedExchangeFluxIsNamed() throws {
        let network = try toyWith([], dropping: "xch: v2<=100.0")
        let basis = try FreeFluxBasis(network: network)
        XCTAssertThrowsError(try FluxSpaceSampler(network: network, basis: basis, settings: .automatic(for: basis))) { error in
            XCTAssertEqual(error as? FluxSamplingError, .unbounded(flux: "v2.xch", direction: "upper"))
            XCTAssertTrue("\(error)".contains("v2<="), "\(error)")
        }
    }

    func testUniformRejectionInAThinPolytopeSuggestsHitAndRun() throws {
        let network = try loadNetwork("ccm")
        let basis = try FreeFluxBasis(network: network)
        var settings = SamplerSettings.automatic(for: basis)
        settings.net = .uniform
        XCTAssertThrowsError(try FluxSpaceSampler(network: network, basis: basis, settings: settings)) { error in
            guard case FluxSamplingError.lowAcceptance = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("hit-and-run"))
        }
    }

    func testInvalidSettings() throws {
        let network = try toyNetwork()
        let basis = try FreeFluxBasis(network: network)
        for settings in [SamplerSettings(exchangeFloor: 0), SamplerSettings(logNormalMedian: -1),
                         SamplerSettings(logNormalSigmaDecades: 0), SamplerSettings(thinning: -1)] {
            XCTAssertThrowsError(try FluxSpaceSampler(network: network, basis: basis, settings: settings)) { error in
                guard case FluxSamplingError.invalidSetting = error else { return XCTFail("\(error)") }
            }
        }
    }
}
