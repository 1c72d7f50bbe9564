import XCTest
import FluxML
import MLFluxCore

/// Group attribute `dilution` (labeling-only mixing) of FluxML MS groups.
final class FluxMLDilutionTests: XCTestCase {
    static func section(_ dilution: String?) -> String {
        FluxMLFragmentFormulaTests.section().replacingOccurrences(
            of: #"<group id="ms_232" "#, with: #"<group id="ms_232" "# + (dilution.map { #"dilution="\#($0)" "# } ?? ""))
    }

    func testDilutionIsReadWrittenAndReadBack() throws {
        let doc = try FluxMLReader.parseDocument(measuredDocument(measurementA: Self.section("true"), measurementB: Self.section("true")),
                                                 fileName: "f.fml")
        XCTAssertEqual(doc.dilution, ["Ala232": "Ala"])
        let text = try FluxMLWriter.write(doc.network, measurements: doc.measurements, formulas: doc.formulas, dilution: doc.dilution)
        XCTAssertTrue(text.contains(#"formula="C11H26NO2Si2" dilution="true""#), text)
        let back = try FluxMLReader.parseDocument(text, fileName: "back.fml")
        XCTAssertEqual(back.dilution, doc.dilution)
        let plain = try FluxMLReader.parseDocument(measuredDocument(measurementA: Self.section("false"), measurementB: ""), fileName: "f.fml")
        XCTAssertEqual(plain.dilution, [:])
    }

    func testBadDilutionNamesFileAndLine() {
        func error(_ a: String, _ b: String = "") -> String {
            do { _ = try FluxMLReader.parseDocument(measuredDocument(measurementA: a, measurementB: b), fileName: "bad.fml"); return "accepted" }
            catch { return "\(error)" }
        }
        let word = error(Self.section("yes"))
        XCTAssertTrue(word.contains("bad.fml:") && word.contains("must be true or false"), word)
        let differs = error(Self.section("true"), Self.section(nil))
        XCTAssertTrue(differs.contains("bad.fml:") && differs.contains("one dilution flag in every configuration"), differs)
    }
}
