import Foundation
import MLFluxCore
import TestSupport
import XCTest
@testable import FluxML

/// What 13CFLUX v3 files (e.g. the published E. coli models of modsim/FluxML) write:
/// `C#k@m` atom maps, pools without traced atoms, constraints divided by a number and
/// constraints inside a configuration.
final class FluxML3SyntaxTests: XCTestCase {
    /// For each product atom: (substrate index, atom position) it comes from.
    func sources(_ r: Reaction) -> [[[Int]]] {
        r.products.map { p in
            p.atomMap.map { letter in
                for (i, s) in r.substrates.enumerated() {
                    if let k = s.atomMap.firstIndex(of: letter) { return [i, k] }
                }
                return [-1, -1]
            }
        }
    }

    func testAtomMapsByPositionEqualLetterMaps() throws {
        let text = try String(contentsOfFile: networkPath("toy"), encoding: .utf8)
        // v4: molB (abc) + molC (AB) → molD (bcA) + molE (a) + molE (B), in C#k@m notation.
        let v3 = text
            .replacingOccurrences(of: "<reduct cfg=\"AB\" id=\"molC\"/>", with: "<reduct cfg=\"C#1@2 C#2@2\" id=\"molC\"/>")
            .replacingOccurrences(of: "<rproduct cfg=\"bcA\" id=\"molD\"/>", with: "<rproduct cfg=\"C#2@1 C#3@1 C#1@2\" id=\"molD\"/>")
            .replacingOccurrences(of: "<rproduct cfg=\"B\" id=\"molE\"/>", with: "<rproduct cfg=\"C#2@2\" id=\"molE\"/>")
        let letters = try FluxMLReader.parse(text, fileName: "toy.fml")
        var mixed = v3
        // The rest of v4 in the new notation too (molB abc → C#1@1 C#2@1 C#3@1; molE a → C#1@1).
        let v4 = try XCTUnwrap(mixed.range(of: "<reaction id=\"v4\">"))
        let end = try XCTUnwrap(mixed.range(of: "</reaction>", range: v4.upperBound..<mixed.endIndex))
        let body = String(mixed[v4.lowerBound..<end.upperBound])
            .replacingOccurrences(of: "cfg=\"abc\" id=\"molB\"", with: "cfg=\"C#1@1 C#2@1 C#3@1\" id=\"molB\"")
            .replacingOccurrences(of: "cfg=\"a\" id=\"molE\"", with: "cfg=\"C#1@1\" id=\"molE\"")
        mixed.replaceSubrange(v4.lowerBound..<end.upperBound, with: body)
        let positional = try FluxMLReader.parse(mixed, fileName: "toy3.fml")
        let i = try XCTUnwrap(letters.reactionIndex["v4"])
        XCTAssertEqual(sources(positional.reactions[i]), sources(letters.reactions[i]))
        XCTAssertEqual(sources(letters.reactions[i]), [[[0, 1], [0, 2], [1, 0]], [[0, 0]], [[1, 1]]])
        // A product naming an atom no reactant declares is an error naming the reaction.
        let bad = mixed.replacingOccurrences(of: "cfg=\"C#2@2\" id=\"molE\"", with: "cfg=\"C#3@2\" id=\"molE\"")
        XCTAssertThrowsError(try FluxMLReader.parse(bad, fileName: "bad.fml")) {
            XCTAssertTrue("\($0)".contains("C#3@2") && "\($0)".contains("v4"), "\($0)")
        }
    }

    func testPoolsWithoutAtomsDivisionAndConfigurationConstraints() throws {
        var text = try String(contentsOfFile: networkPath("toy"), encoding: .utf8)
        // A cofactor without traced atoms consumed by v1, a constraint divided by a number, and
        // a bound given inside the configuration.
        text = text.replacingOccurrences(of: "</metabolitepools>", with: "  <pool id=\"ATP\"/>\n    </metabolitepools>")
        text = text.replacingOccurrences(of: "<reduct cfg=\"abc\" id=\"molA\"/>", with: "<reduct cfg=\"abc\" id=\"molA\"/><reduct cfg=\"\" id=\"ATP\"/>")
        text = text.replacingOccurrences(of: "v1=1;", with: "v1/0.5=2;")
        let bound = "<constraints><net><textual>v3&lt;=0.8</textual></net></constraints>\n"
        // Every configuration gives it: they must agree, one flux space serves them all.
        let disagreeing = text.replacingOccurrences(of: "</configuration>", with: "</configuration>\n", options: [], range: nil)
        var first = disagreeing
        first.insert(contentsOf: bound, at: try XCTUnwrap(first.range(of: "</configuration>")).lowerBound)
        XCTAssertThrowsError(try FluxMLReader.parse(first, fileName: "toy.fml")) {
            XCTAssertTrue("\($0)".contains("has other flux constraints than"), "\($0)")
        }
        text = text.replacingOccurrences(of: "</configuration>", with: bound + "</configuration>")
        let network = try FluxMLReader.parse(text, fileName: "toy.fml")
        XCTAssertEqual(network.pool("ATP")?.atomCount, 0)
        let scaled = try XCTUnwrap(network.constraints.first { $0.terms.contains { $0.reaction == "v1" } })
        XCTAssertEqual(scaled.terms.first?.coefficient, 2)
        XCTAssertEqual(scaled.constant, 2)
        XCTAssertTrue(network.constraints.contains { $0.description.contains("v3") && $0.description.contains("0.8") },
                      "\(network.constraints.map(\.description))")
    }
}
