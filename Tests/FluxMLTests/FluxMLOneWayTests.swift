import Foundation
import MLFluxCore
import TestSupport
import XCTest
@testable import FluxML

/// `bidirectional="false"` declares a reaction irreversible: no exchange free flux, net ≥ 0
/// enforced, written back on output; any other value is an error naming file and line.
final class FluxMLOneWayTests: XCTestCase {
    func toyText(v2: String) throws -> String {
        let text = try String(contentsOfFile: networkPath("toy"), encoding: .utf8)
        return text.replacingOccurrences(of: "<reaction id=\"v2\">", with: "<reaction id=\"v2\" \(v2)>")
    }

    func testDeclaredOneWayHasNoExchange() throws {
        let plain = try FluxMLReader.parse(try toyText(v2: ""), fileName: "toy.fml")
        let oneWay = try FluxMLReader.parse(try toyText(v2: "bidirectional=\"false\""), fileName: "toy.fml")
        let v2 = try XCTUnwrap(oneWay.reactionIndex["v2"])
        XCTAssertTrue(plain.isBidirectional[v2])
        XCTAssertFalse(oneWay.isBidirectional[v2])
        // One exchange free flux fewer; no 'v2.xch' among the free fluxes.
        let a = try FreeFluxBasis(network: plain), b = try FreeFluxBasis(network: oneWay)
        XCTAssertEqual(b.count, a.count - 1)
        XCTAssertFalse(b.names.contains("v2.xch"))
        // A state with an exchange on v2 or a negative net violates it.
        var state = FluxState(net: [Double](repeating: 0, count: oneWay.reactions.count),
                              exchange: [Double](repeating: 0, count: oneWay.reactions.count))
        state.exchange[v2] = 0.5
        XCTAssertTrue(b.violations(of: state, in: oneWay, tolerance: 1e-9).contains { $0.contains("'v2' is one-way") })
        // Written back, read again: still one-way.
        let again = try FluxMLReader.parse(FluxMLWriter.write(oneWay), fileName: "again.fml")
        XCTAssertFalse(again.isBidirectional[v2])
    }

    func testBadValueIsAnError() throws {
        let e = parseErrorText(try toyText(v2: "bidirectional=\"maybe\""))
        XCTAssertTrue(e.hasPrefix("toy.fml:") && e.contains("bidirectional") && e.contains("true or false"), e)
    }

    /// A pool whose only producer is gone (v3 removed: molC is made by nothing) but which a
    /// bidirectional reaction consumes (v4: molB + molC) becomes an input: a warning says so.
    func testReverseOnlyPoolIsWarned() throws {
        var text = try toyText(v2: "")
        let v3 = try XCTUnwrap(text.range(of: "<reaction id=\"v3\">"))
        let end = try XCTUnwrap(text.range(of: "</reaction>", range: v3.upperBound..<text.endIndex))
        text.removeSubrange(v3.lowerBound..<end.upperBound)
        text = text.replacingOccurrences(of: "v3=0;", with: "")
        let network = try FluxMLReader.parse(text, fileName: "toy.fml")
        XCTAssertEqual(network.warnings.count, 1)
        XCTAssertTrue(network.warnings[0].hasPrefix("pool 'molC' is produced only by the reverse direction of 'v4' (line "), network.warnings[0])
        XCTAssertTrue(try FluxMLReader.parse(try toyText(v2: ""), fileName: "toy.fml").warnings.isEmpty)
    }

    func parseErrorText(_ text: String) -> String {
        do { _ = try FluxMLReader.parse(text, fileName: "toy.fml"); return "no error" } catch { return "\(error)" }
    }
}

/// A file with several defects names every one of them in one run.
final class FluxMLSeveralErrorsTests: XCTestCase {
    func testEveryDefectIsNamed() throws {
        var text = try String(contentsOfFile: networkPath("toy"), encoding: .utf8)
        text = text.replacingOccurrences(of: "<reaction id=\"v2\">", with: "<reaction id=\"v2\" bidirectional=\"perhaps\">")
        text = text.replacingOccurrences(of: "<reaction id=\"v5\">", with: "<reaction>")
        text = text.replacingOccurrences(of: "v1=1;", with: "v1==;")
        do {
            _ = try FluxMLReader.parse(text, fileName: "toy.fml")
            XCTFail("expected errors")
        } catch let e as FluxMLErrors {
            let lines = "\(e)".split(separator: "\n")
            XCTAssertEqual(e.errors.count, 3, "\(e)")
            XCTAssertTrue(lines[0].hasPrefix("toy.fml: 3 problems"), "\(e)")
            XCTAssertTrue(lines.contains { $0.contains("bidirectional") } && lines.contains { $0.contains("'id'") }
                          && lines.contains { $0.contains("v1==") }, "\(e)")
            XCTAssertTrue(lines.dropFirst().allSatisfy { $0.contains("toy.fml:") }, "\(e)")
        }
    }
}
