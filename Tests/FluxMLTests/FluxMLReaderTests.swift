import Foundation
import XCTest
import FluxML
import MLFluxCore
import TestSupport

/// Pools, reactions, constraints and experiments with source lines removed, for comparison.
struct Content: Equatable {
    var name: String
    var pools: [Pool]
    var reactions: [Reaction]
    var constraints: [FluxConstraint]
    var experiments: [TracerExperiment]

    init(_ n: MetabolicNetwork) {
        name = n.name
        pools = n.pools.map { var p = $0; p.line = nil; return p }
        reactions = n.reactions.map { r in
            var r = r
            r.line = nil
            r.substrates = r.substrates.map { var s = $0; s.line = nil; return s }
            r.products = r.products.map { var s = $0; s.line = nil; return s }
            return r
        }
        constraints = n.constraints.map { var c = $0; c.line = nil; return c }
        experiments = n.experiments
    }
}

let networkNames = ["toy", "glycolysis", "glyppp", "ccm"]
let referenceFiles = ["toy": "Simple.xml", "glycolysis": "Glycolysis.xml", "glyppp": "GlyPPP.xml", "ccm": "CCM.xml"]

func referenceDirectory() -> String? {
    let dir = repositoryRoot() + "/../shared/reference/ml-flux/networks"
    return FileManager.default.fileExists(atPath: dir) ? dir : nil
}

func occurrences(_ pattern: String, in text: String) -> Int {
    let re = try! NSRegularExpression(pattern: pattern)
    return re.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text))
}

/// Parses `text` as `bad.fml`, expecting an error; returns its description.
func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> (any Error)? {
    do {
        _ = try FluxMLReader.parse(text, fileName: "bad.fml")
        XCTFail("expected an error", file: file, line: line)
        return nil
    } catch {
        return error
    }
}

/// A small valid document; `body` replaces the reaction network part.
func document(pools: String = """
        <pool id="A" atoms="2"/>
        <pool id="B" atoms="2"/>
    """, reactions: String = """
        <reaction id="r1">
          <reduct cfg="ab" id="A"/>
          <rproduct cfg="ab" id="B"/>
        </reaction>
        <reaction id="out">
          <reduct cfg="ab" id="B"/>
        </reaction>
    """, constraints: String = "r1=1;") -> String {
    """
    <?xml version="1.0" encoding="utf-8"?>
    <fluxml xmlns="http://www.13cflux.net/fluxml">
      <reactionnetwork>
        <metabolitepools>
    \(pools)
        </metabolitepools>
    \(reactions)
      </reactionnetwork>
      <constraints><net><textual>\(constraints)</textual></net></constraints>
    </fluxml>
    """
}

func lineOf(_ needle: String, in text: String) -> Int {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    return lines.firstIndex { $0.contains(needle) }! + 1
}

final class FluxMLNetworkTests: XCTestCase {
    func testAllNetworksParseAndMatchReferenceCounts() throws {
        for name in networkNames {
            let net = try loadNetwork(name)
            XCTAssertEqual(net.name, name)
            guard let dir = referenceDirectory() else {
                print("note: reference directory ../shared/reference absent; skipping count comparison for \(name)")
                continue
            }
            let ref = try String(contentsOfFile: dir + "/" + referenceFiles[name]!, encoding: .utf8)
            XCTAssertEqual(net.pools.count, occurrences("<pool\\s", in: ref), "pools of \(name)")
            XCTAssertEqual(net.reactions.count, occurrences("<reaction\\s", in: ref), "reactions of \(name)")
            // Same reaction ids in the same order.
            let ids = try NSRegularExpression(pattern: "<reaction\\s[^>]*id=\"([^\"]+)\"")
                .matches(in: ref, range: NSRange(ref.startIndex..., in: ref))
                .map { String(ref[Range($0.range(at: 1), in: ref)!]) }
            XCTAssertEqual(net.reactions.map(\.id), ids, name)
        }
    }

    func testExpectedSizes() throws {
        let sizes = ["toy": (6, 7), "glycolysis": (16, 21), "glyppp": (26, 34), "ccm": (37, 52)]
        for (name, (p, r)) in sizes {
            let net = try loadNetwork(name)
            XCTAssertEqual(net.pools.count, p, name)
            XCTAssertEqual(net.reactions.count, r, name)
        }
    }

    func testSymmetryAndLeaks() throws {
        let ccm = try loadNetwork("ccm")
        XCTAssertEqual(ccm.pools.filter(\.isSymmetric).map(\.id), ["Succ", "Fum"])
        let glyppp = try loadNetwork("glyppp")
        XCTAssertEqual(glyppp.reaction("PGI")?.leakAtoms, ["b"])
        XCTAssertEqual(glyppp.reaction("RPI")?.leakAtoms, ["h"])
        XCTAssertEqual(glyppp.reactions.filter { !$0.leakAtoms.isEmpty }.map(\.id), ["PGI", "RPI"])
    }

    func testPositionalAtomMapsWithHydrogens() throws {
        let glyppp = try loadNetwork("glyppp")
        let e4p = try XCTUnwrap(glyppp.pool("e4p"))
        XCTAssertEqual(e4p.carbons, 4)
        XCTAssertEqual(e4p.hydrogens, 5)
        let tkt2 = try XCTUnwrap(glyppp.reaction("TKT2"))
        let part = try XCTUnwrap(tkt2.substrates.first { $0.pool == "e4p" })
        XCTAssertEqual(String(part.atomMap), "abcdFGHIJ")
        XCTAssertEqual((0..<9).map { e4p.element(at: $0) },
                       [.carbon, .carbon, .carbon, .carbon, .hydrogen, .hydrogen, .hydrogen, .hydrogen, .hydrogen])
        let glc = try XCTUnwrap(try loadNetwork("glycolysis").pool("GLC_IN"))
        XCTAssertEqual(glc.carbons, 6)
        XCTAssertEqual(glc.hydrogens, 7)
    }

    func testToyEqualsHandBuiltNetwork() throws {
        let parsed = try loadNetwork("toy")
        let built = try toyNetwork()
        let a = Content(parsed), b = Content(built)
        XCTAssertEqual(a.pools, b.pools)
        XCTAssertEqual(a.reactions, b.reactions)
        XCTAssertEqual(a.constraints, b.constraints)
        XCTAssertEqual(parsed.isInput, built.isInput)
        XCTAssertEqual(parsed.isBidirectional, built.isBidirectional)
        // lines are recorded
        XCTAssertNotNil(parsed.pools[0].line)
        XCTAssertNotNil(parsed.reactions[0].line)
        XCTAssertNotNil(parsed.reactions[0].substrates[0].line)
        XCTAssertNotNil(parsed.constraints[0].line)
    }

    func testToyConfigurations() throws {
        let toy = try loadNetwork("toy")
        XCTAssertEqual(toy.experiments.map(\.id), ["A_100", "A_010", "A_001", "A_110", "A_101", "A_011"])
        for e in toy.experiments {
            XCTAssertEqual(e.inputs.count, 1)
            XCTAssertEqual(e.inputs[0].pool, "molA")
            XCTAssertEqual(e.inputs[0].components.map(\.patternString), [String(e.id.dropFirst(2))])
            XCTAssertEqual(e.inputs[0].components[0].fraction, 1)
            XCTAssertEqual(e.inputs[0].components[0].purity, 1)
        }
    }

    func testGlycolysisConfigurationsAndConstraints() throws {
        let net = try loadNetwork("glycolysis")
        XCTAssertEqual(net.experiments.map(\.id), ["GLC_12C", "GLC_5H"])
        XCTAssertEqual(net.experiments[0].input(for: "GLC_IN")?.components.map(\.patternString), ["110000" + "0000000"])
        XCTAssertEqual(net.experiments[1].input(for: "GLC_IN")?.components.map(\.patternString), ["000000" + "0000100"])
        XCTAssertTrue(net.constraints.contains(FluxConstraint(kind: .net, reaction: "GLC_IN", .equal, 1, line: net.constraints.first { $0.kind == .net && $0.relation == .equal }?.line)))
        let c = Content(net).constraints
        XCTAssertTrue(c.contains(FluxConstraint(kind: .net, reaction: "GLC_IN", .greaterOrEqual, 0.9)))
        XCTAssertTrue(c.contains(FluxConstraint(kind: .exchange, reaction: "PYK", .equal, 0)))
        XCTAssertTrue(c.contains(FluxConstraint(kind: .exchange, reaction: "GAPD", .lessOrEqual, 100)))
    }

    func testGlyPPPConfigurationsAndEnvelope() throws {
        let net = try loadNetwork("glyppp")
        let patterns = """
            111000 110000 100000 011111 011000 010000 001100 001000 000111 000110 000100 000010 \
            000001 111111 010011 100011 110100 010100 100100 000101 010010 101000 000011 100001
            """.split(separator: " ").map(String.init)
        XCTAssertEqual(net.experiments.count, 24)
        XCTAssertEqual(net.experiments.map(\.id), patterns.map { "GLC_\($0)" })
        for (e, p) in zip(net.experiments, patterns) {
            XCTAssertEqual(e.inputs.map(\.pool), ["GLC_IN"])
            XCTAssertEqual(e.inputs[0].components.map(\.patternString), [p + "0000000"])
        }
        let c = Content(net).constraints
        XCTAssertTrue(c.contains(FluxConstraint(kind: .exchange, reaction: "PGI", .lessOrEqual, 5)))
        XCTAssertTrue(c.contains(FluxConstraint(kind: .exchange, reaction: "SBA", .lessOrEqual, 0.1)))
        XCTAssertTrue(c.contains(FluxConstraint(kind: .exchange, reaction: "PFK", .equal, 0)))
        XCTAssertTrue(c.contains(FluxConstraint(kind: .net, reaction: "GLC_IN", .equal, 1)))
    }

    func testCCMConfigurationsAndConstraints() throws {
        let net = try loadNetwork("ccm")
        XCTAssertEqual(net.experiments.count, 20)
        XCTAssertEqual(Set(net.experiments.map(\.id)).count, 20)
        let glc = ["111111", "100000", "010000", "110000", "000001", "100001", "001000", "000010", "000100", "000011"]
        var expected: [String] = []
        for g in glc {
            expected.append("GLC_\(g)+GLN_00000")
            expected.append(g == "111111" ? "GLC_000000+GLN_11111" : "GLC_\(g)+GLN_11111")
        }
        XCTAssertEqual(net.experiments.map(\.id), expected)
        for e in net.experiments {
            let parts = e.id.split(separator: "+")
            let g = String(parts[0].dropFirst(4)), q = String(parts[1].dropFirst(4))
            XCTAssertEqual(e.input(for: "GLC_IN")?.components.map(\.patternString) ?? ["000000"], [g], e.id)
            XCTAssertEqual(e.input(for: "Gln_IN")?.components.map(\.patternString) ?? ["00000"], [q], e.id)
            XCTAssertTrue(e.inputs.allSatisfy { ["GLC_IN", "Gln_IN"].contains($0.pool) })
        }
        let c = Content(net).constraints
        XCTAssertTrue(c.contains(FluxConstraint(kind: .net, reaction: "IN_GLC", .equal, 1)))
        XCTAssertTrue(c.contains(FluxConstraint(kind: .net, reaction: "mdh", .greaterOrEqual, -0.2)))
        XCTAssertTrue(c.contains(FluxConstraint(kind: .net, reaction: "mdh", .lessOrEqual, 0.4)))
        let xch = c.filter { $0.kind == .exchange }
        let bidirectional = net.reactions.indices.filter { net.isBidirectional[$0] }.map { net.reactions[$0].id }
        XCTAssertEqual(xch.map { $0.terms[0].reaction }, bidirectional)
        XCTAssertTrue(xch.allSatisfy { $0.relation == .lessOrEqual && $0.constant == 1 })
    }

    func testInputPoolsAndBidirectionality() throws {
        let ccm = try loadNetwork("ccm")
        XCTAssertEqual(ccm.inputPools.map(\.id).sorted(), ["AC_IN", "CO2_IN", "GLC_IN", "Gln_IN", "Glu_IN", "OAA_IN"])
        // No exchange constraint on a one-way reaction in any network.
        for name in networkNames {
            let net = try loadNetwork(name)
            for c in net.constraints where c.kind == .exchange {
                for t in c.terms {
                    XCTAssertTrue(net.isBidirectional[net.reactionIndex[t.reaction]!], "\(name): xch on one-way \(t.reaction)")
                }
            }
        }
    }

    func testWriteReadRoundTrip() throws {
        for name in networkNames {
            let net = try loadNetwork(name)
            let text = FluxMLWriter.write(net)
            let back = try FluxMLReader.parse(text, fileName: "\(name)-roundtrip.fml")
            XCTAssertEqual(Content(back), Content(net), name)
            // and a second round is textually stable
            XCTAssertEqual(FluxMLWriter.write(back), text, name)
        }
    }

    func testRoundTripOfUnusualValues() throws {
        let base = try toyNetwork()
        var cs = base.constraints
        cs.append(FluxConstraint(kind: .net, terms: [.init(reaction: "v2", coefficient: 2.5),
                                                     .init(reaction: "v3", coefficient: -1)],
                                 relation: .greaterOrEqual, constant: 1e-7))
        cs.append(FluxConstraint(kind: .exchange, reaction: "v2", .greaterOrEqual, 0.1 + 0.2))
        let exp = TracerExperiment(id: "mix & match", inputs: [
            TracerInput(pool: "molA", components: [
                TracerComponent(pattern: "100", fraction: 0.3, purity: 0.99)!,
                TracerComponent(pattern: "111", fraction: 0.25)!,
            ])])
        let net = try MetabolicNetwork(name: "odd <name>", pools: base.pools, reactions: base.reactions,
                                       constraints: cs, experiments: [exp])
        let back = try FluxMLReader.parse(FluxMLWriter.write(net), fileName: "odd.fml")
        XCTAssertEqual(Content(back), Content(net))
    }

    func testReadMissingFile() {
        XCTAssertThrowsError(try FluxMLReader.read(contentsOf: "/nonexistent/x.fml")) { e in
            XCTAssertTrue("\(e)".hasPrefix("/nonexistent/x.fml: "), "\(e)")
        }
    }
}
