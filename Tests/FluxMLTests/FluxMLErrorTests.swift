import Foundation
import XCTest
import FluxML
import MLFluxCore

final class FluxMLErrorTests: XCTestCase {
    func assertMessage(_ error: (any Error)?, line: Int, contains needle: String,
                       file: StaticString = #filePath, testLine: UInt = #line) {
        guard let error else { return }
        let text = String(describing: error)
        XCTAssertTrue(text.hasPrefix("bad.fml:\(line): "), "message '\(text)' does not start with bad.fml:\(line):",
                      file: file, line: testLine)
        XCTAssertTrue(text.contains(needle), "message '\(text)' lacks '\(needle)'", file: file, line: testLine)
    }

    func testValidDocumentParses() throws {
        let net = try FluxMLReader.parse(document(), fileName: "ok.fml")
        XCTAssertEqual(net.name, "ok")
        XCTAssertEqual(net.reactions.map(\.id), ["r1", "out"])
    }

    func testMalformedXML() {
        let text = document().replacingOccurrences(of: "<reduct cfg=\"ab\" id=\"B\"/>",
                                                   with: "<reduct cfg=\"ab\" id=\"B\">")
        let e = parseError(text)
        XCTAssertTrue(e is FluxMLError, "\(String(describing: e))")
        // libxml2 notices the unclosed <reduct> at the next closing tag.
        assertMessage(e, line: lineOf("<reduct cfg=\"ab\" id=\"B\">", in: text) + 1, contains: "malformed XML")
        XCTAssertTrue("\(e!)".contains("mismatch"), "\(e!)")
    }

    func testMismatchedTag() {
        let text = "<fluxml>\n<reactionnetwork>\n</fluxml>\n"
        let e = parseError(text)
        XCTAssertEqual((e as? FluxMLError)?.line, 3, "\(String(describing: e))")
    }

    func testUnknownPool() {
        let text = document(reactions: """
                <reaction id="r1">
                  <reduct cfg="ab" id="A"/>
                  <rproduct cfg="ab" id="molX"/>
                </reaction>
            """)
        let e = parseError(text)
        XCTAssertTrue(e is SourceLocatedError)
        assertMessage(e, line: lineOf("molX", in: text), contains: "reaction 'r1' names unknown pool 'molX'")
    }

    func testAtomMapLengthMismatch() {
        let text = document(reactions: """
                <reaction id="r1">
                  <reduct cfg="abc" id="A"/>
                  <rproduct cfg="ab" id="B"/>
                </reaction>
            """)
        assertMessage(parseError(text), line: lineOf("cfg=\"abc\"", in: text), contains: "has 3 letters")
    }

    func testLetterOnOneSideOnly() {
        let text = document(reactions: """
                <reaction id="r1">
                  <reduct cfg="ab" id="A"/>
                  <rproduct cfg="ac" id="B"/>
                </reaction>
            """)
        assertMessage(parseError(text), line: lineOf("<reaction id=\"r1\"", in: text), contains: "side only")
    }

    func testDuplicatePool() {
        let text = document(pools: """
                <pool id="A" atoms="2"/>
                <pool id="B" atoms="2"/>
                <pool id="A" atoms="2"/>
            """)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let line = lines.lastIndex { $0.contains("<pool id=\"A\"") }! + 1
        assertMessage(parseError(text), line: line, contains: "duplicate pool id 'A'")
    }

    func testDuplicateReaction() {
        let text = document(reactions: """
                <reaction id="r1">
                  <reduct cfg="ab" id="A"/>
                  <rproduct cfg="ab" id="B"/>
                </reaction>
                <reaction id="r1">
                  <reduct cfg="ab" id="B"/>
                </reaction>
            """)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let line = lines.lastIndex { $0.contains("<reaction id=\"r1\"") }! + 1
        assertMessage(parseError(text), line: line, contains: "duplicate reaction id 'r1'")
    }

    func testUnparseableConstraint() {
        let text = document(constraints: "\n  r1=1;\n  r1 &lt;== 2;\n")
        let e = parseError(text)
        XCTAssertTrue(e is FluxMLError)
        let line = lineOf("r1 &lt;== 2", in: text)
        assertMessage(e, line: line, contains: "r1 <== 2")
        for bad in ["r1 =", "r1*out=1", "2=3", "r1 &amp; 2", "r1 1 = 2", "= 1", "r1"] {
            let e = parseError(document(constraints: bad))
            XCTAssertTrue("\(e!)".contains("cannot parse constraint"), "\(bad): \(e!)")
        }
    }

    func testUnknownReactionInConstraint() {
        let text = document(constraints: "\n r1=1;\n rX&lt;=2;")
        assertMessage(parseError(text), line: lineOf("rX&lt;=2", in: text), contains: "unknown reaction 'rX'")
    }

    func testExternalEntityRejectedWithoutReadingTheFile() throws {
        let secret = "TOP-SECRET-\(UInt64.random(in: 0...UInt64.max))"
        let path = NSTemporaryDirectory() + "fluxml-xxe-\(secret).txt"
        try secret.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = """
            <?xml version="1.0"?>
            <!DOCTYPE fluxml [
              <!ENTITY xxe SYSTEM "file://\(path)">
            ]>
            <fluxml xmlns="http://www.13cflux.net/fluxml">
              <info><name>&xxe;</name></info>
              <reactionnetwork><metabolitepools><pool id="A" atoms="1"/></metabolitepools></reactionnetwork>
            </fluxml>
            """
        let e = parseError(text)
        let msg = "\(e!)"
        XCTAssertTrue(msg.hasPrefix("bad.fml:3: "), msg)
        XCTAssertTrue(msg.contains("entity"), msg)
        XCTAssertFalse(msg.contains(secret.prefix(10) + "-"), msg)
        if case .forbiddenDoctype = e as? FluxMLError {} else { XCTFail("not forbiddenDoctype: \(msg)") }
    }

    func testExternalDTDRejected() {
        let text = """
            <?xml version="1.0"?>
            <!DOCTYPE fluxml SYSTEM "http://example.invalid/fluxml.dtd">
            <fluxml><reactionnetwork/></fluxml>
            """
        let e = parseError(text)
        XCTAssertTrue("\(e!)".hasPrefix("bad.fml:2: "), "\(e!)")
        XCTAssertTrue("\(e!)".contains("DTD"), "\(e!)")
    }

    func testNonIntegerAtomCount() {
        let text = document(pools: """
                <pool id="A" atoms="2.5"/>
                <pool id="B" atoms="2"/>
            """)
        assertMessage(parseError(text), line: lineOf("2.5", in: text), contains: "atoms=\"2.5\"")
        let t2 = document(pools: """
                <pool id="A" C="x" H="1"/>
                <pool id="B" atoms="2"/>
            """)
        assertMessage(parseError(t2), line: lineOf("C=\"x\"", in: t2), contains: "not a non-negative integer")
    }

    func testMissingAttribute() {
        let text = document(pools: """
                <pool atoms="2"/>
                <pool id="B" atoms="2"/>
            """)
        assertMessage(parseError(text), line: lineOf("<pool atoms", in: text), contains: "'id'")
        // A pool without `atoms` has no traced atoms (a cofactor: mass balances only), so a
        // reaction mapping atoms onto it is the error.
        let t2 = document(pools: """
                <pool id="A"/>
                <pool id="B" atoms="2"/>
            """)
        let e = "\(parseError(t2)!)"
        XCTAssertTrue(e.contains("atom map of pool 'A' has 2 letters, but the pool has 0 atoms"), e)
    }

    func testBadLabel() {
        func doc(_ label: String) -> String {
            document().replacingOccurrences(of: "</fluxml>", with: """
                  <configuration name="c1">
                    <input pool="A" type="isotopomer">
                      \(label)
                    </input>
                  </configuration>
                </fluxml>
                """)
        }
        for (label, needle) in [("<label cfg=\"1x\">1</label>", "0 and 1"),
                                ("<label cfg=\"100\">1</label>", "3 positions"),
                                ("<label cfg=\"10\">abc</label>", "not a number"),
                                ("<label cfg=\"10\" purity=\"1.5\">1</label>", "purity")] {
            let text = doc(label)
            assertMessage(parseError(text), line: lineOf("<label", in: text), contains: needle)
        }
        // Tracer on a non-input pool: line of the configuration.
        let text = doc("<label cfg=\"10\">1</label>").replacingOccurrences(of: "pool=\"A\"", with: "pool=\"B\"")
        assertMessage(parseError(text), line: lineOf("<configuration", in: text), contains: "not an input pool")
    }

    func testMultiIsotopeLabelForm() throws {
        let text = """
            <fluxml xmlns="http://www.13cflux.net/fluxml">
              <reactionnetwork>
                <metabolitepools><pool id="A" C="2" H="1"/><pool id="B" C="2" H="1"/></metabolitepools>
                <reaction id="r1"><reduct cfg="abX" id="A"/><rproduct cfg="abX" id="B"/></reaction>
                <reaction id="out"><reduct cfg="abX" id="B"/></reaction>
              </reactionnetwork>
              <configuration name="mi">
                <input pool="A" type="isotopomer">
                  <label cfg="C#10 H#1" purity="0.99">0.5</label>
                  <label cfg="C#01">0.25</label>
                  <label cfg="011">0.25</label>
                </input>
              </configuration>
            </fluxml>
            """
        let net = try FluxMLReader.parse(text, fileName: "mi.fml")
        let comps = net.experiments[0].inputs[0].components
        XCTAssertEqual(comps.map(\.patternString), ["101", "010", "011"])
        XCTAssertEqual(comps.map(\.fraction), [0.5, 0.25, 0.25])
        XCTAssertEqual(comps[0].purity, 0.99)
    }

    func testNoNamespaceAndUnknownAttributesTolerated() throws {
        let text = """
            <fluxml>
              <reactionnetwork>
                <metabolitepools><pool id="A" atoms="1" foo="bar"/><pool id="B" atoms="1"/><pool id="Z" C="0" H="0"/></metabolitepools>
                <reaction id="r1" equiv="x"><reduct cfg="a" id="A"/><rproduct cfg="a" id="B"/><rproduct cfg="" id="Z"/></reaction>
                <reaction id="out"><reduct cfg="a" id="B"/></reaction>
                <reaction id="outZ"><reduct cfg="" id="Z"/></reaction>
              </reactionnetwork>
            </fluxml>
            """
        let net = try FluxMLReader.parse(text, fileName: "dir/plain.fml")
        XCTAssertEqual(net.name, "plain")
        XCTAssertEqual(net.pools.map(\.atomCount), [1, 1, 0])
    }

    func testReadFromFileNamesThePath() throws {
        let path = NSTemporaryDirectory() + "fluxml-bad-\(UInt32.random(in: 0...UInt32.max)).fml"
        let text = document(reactions: """
                <reaction id="v4">
                  <reduct cfg="ab" id="A"/>
                  <rproduct cfg="ab" id="molX"/>
                </reaction>
            """)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try FluxMLReader.read(contentsOf: path)) { e in
            XCTAssertEqual("\(e)", "\(path):\(lineOf("molX", in: text)): reaction 'v4' names unknown pool 'molX'")
        }
    }

    func testWrongRoot() {
        assertMessage(parseError("<?xml version=\"1.0\"?>\n<network/>"), line: 2, contains: "expected <fluxml>")
    }
}

final class ConstraintParserTests: XCTestCase {
    func parse(_ s: String, _ kind: FluxKind = .net) throws -> [FluxConstraint] {
        try ConstraintParser.parse(s, kind: kind, firstLine: 10)
    }

    func testForms() throws {
        let cs = try parse("v1=1; PGI<=1.1;\n0.9<=GLC_IN;\n 2*v2-v3>=0; v4 == 1e-3; a < 2E+1; b > -3.5e-2;  x - 2 = y + 1")
        XCTAssertEqual(cs.count, 8)
        func t(_ r: String, _ c: Double = 1) -> FluxConstraint.Term { .init(reaction: r, coefficient: c) }
        XCTAssertEqual(cs[0], FluxConstraint(kind: .net, terms: [t("v1")], relation: .equal, constant: 1, line: 10))
        XCTAssertEqual(cs[1], FluxConstraint(kind: .net, terms: [t("PGI")], relation: .lessOrEqual, constant: 1.1, line: 10))
        XCTAssertEqual(cs[2], FluxConstraint(kind: .net, terms: [t("GLC_IN")], relation: .greaterOrEqual, constant: 0.9, line: 11))
        XCTAssertEqual(cs[3], FluxConstraint(kind: .net, terms: [t("v2", 2), t("v3", -1)], relation: .greaterOrEqual, constant: 0, line: 12))
        XCTAssertEqual(cs[4].constant, 1e-3)
        XCTAssertEqual(cs[4].relation, .equal)
        XCTAssertEqual(cs[5].relation, .lessOrEqual)
        XCTAssertEqual(cs[5].constant, 20)
        XCTAssertEqual(cs[6].relation, .greaterOrEqual)
        XCTAssertEqual(cs[6].constant, -0.035)
        XCTAssertEqual(cs[7].terms, [t("x"), t("y", -1)])
        XCTAssertEqual(cs[7].constant, 3)
    }

    func testChainsAndCoefficients() throws {
        let cs = try parse("0.9 <= GLC_IN <= 1.1; 3 >= -v1*2 + v2 - v2 + 0.5*v3", .exchange)
        XCTAssertEqual(cs.count, 3)
        XCTAssertEqual(cs[0].relation, .greaterOrEqual)
        XCTAssertEqual(cs[0].constant, 0.9)
        XCTAssertEqual(cs[1].relation, .lessOrEqual)
        XCTAssertEqual(cs[1].constant, 1.1)
        XCTAssertEqual(cs[2].terms.map(\.reaction), ["v1", "v3"])
        XCTAssertEqual(cs[2].terms.map(\.coefficient), [-2, 0.5])
        XCTAssertEqual(cs[2].relation, .lessOrEqual)
        XCTAssertEqual(cs[2].constant, 3)
        XCTAssertEqual(cs[2].kind, .exchange)
    }

    func testErrorLineOffset() {
        XCTAssertThrowsError(try parse("v1=1;\n\n  v2 <> 3;")) { e in
            let p = e as? ConstraintParser.ParseError
            XCTAssertEqual(p?.lineOffset, 2)
            XCTAssertEqual(p?.statement, "v2 <> 3")
        }
    }
}
