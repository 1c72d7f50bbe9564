import Foundation
import IsotopeCorrection
import XCTest
import FluxML
import MLFluxCore

/// Group attributes `name` (alias) and `formula` (natural abundance) of FluxML MS groups.
final class FluxMLFragmentFormulaTests: XCTestCase {
    /// A measurement section with `Ala232` = Ala[2-3] of TBDMS-Ala (C11H26NO2Si2).
    static func section(formula: String = "C11H26NO2Si2", name: String = "Ala232", atoms: String = "2-3") -> String {
        """
        <measurement>
          <model>
            <labelingmeasurement>
              <group id="ms_232" name="\(name)" formula="\(formula)"><textual>Ala[\(atoms)]#M0,1,2</textual></group>
              <group id="ms_Pyr"><textual>Pyr[1-3]#M0,1,2,3</textual></group>
            </labelingmeasurement>
          </model>
          <data>
            <datum id="ms_232" stddev="0.01" weight="0">0.8</datum>
            <datum id="ms_232" stddev="0.01" weight="1">0.15</datum>
            <datum id="ms_232" stddev="0.01" weight="2">0.05</datum>
            <datum id="ms_Pyr" stddev="0.01" weight="0">0.7</datum>
            <datum id="ms_Pyr" stddev="0.01" weight="1">0.2</datum>
            <datum id="ms_Pyr" stddev="0.01" weight="2">0.05</datum>
            <datum id="ms_Pyr" stddev="0.01" weight="3">0.05</datum>
          </data>
        </measurement>
        """
    }

    func testAliasAndFormulaAreRead() throws {
        let doc = try FluxMLReader.parseDocument(measuredDocument(measurementA: Self.section(), measurementB: Self.section()), fileName: "f.fml")
        XCTAssertEqual(doc.measurements.fragments.map(\.name), ["Ala232", "Pyr_1:2:3"])
        XCTAssertEqual(doc.measurements.fragments[0].atoms, [1, 2])
        XCTAssertEqual(doc.formulas.mapValues(\.description), ["Ala232": "C11H26NO2Si2"])
        let c = try XCTUnwrap(doc.naturalAbundance["Ala232"])
        XCTAssertEqual(c.tracedAtoms, 2)
        XCTAssertEqual(c, try CorrectionMatrix(tracedAtoms: 2, formula: ElementalFormula(parsing: "C11H26NO2Si2")))
        XCTAssertNil(doc.naturalAbundance["Pyr_1:2:3"])
    }

    func testWriterKeepsAliasAndFormula() throws {
        let doc = try FluxMLReader.parseDocument(measuredDocument(measurementA: Self.section(), measurementB: ""), fileName: "f.fml")
        let text = try FluxMLWriter.write(doc.network, measurements: doc.measurements, formulas: doc.formulas)
        XCTAssertTrue(text.contains(#"name="Ala232" formula="C11H26NO2Si2""#), text)
        let back = try FluxMLReader.parseDocument(text, fileName: "back.fml")
        XCTAssertEqual(back.measurements.fragments, doc.measurements.fragments)
        XCTAssertEqual(back.formulas, doc.formulas)
    }

    func testBadFormulasNameFileAndLine() {
        func error(_ a: String, _ b: String = "") -> String {
            do { _ = try FluxMLReader.parseDocument(measuredDocument(measurementA: a, measurementB: b), fileName: "bad.fml"); return "accepted" }
            catch { return "\(error)" }
        }
        let unknown = error(Self.section(formula: "C11H26Zz"))
        XCTAssertTrue(unknown.contains("bad.fml:") && unknown.contains("unknown element 'Zz'"), unknown)
        let few = error(Self.section(formula: "CH4"))
        XCTAssertTrue(few.contains("bad.fml:") && few.contains("fewer than the 2 traced"), few)
        let mixed = error(Self.section(formula: "C3H2", atoms: "3-4"))
        XCTAssertTrue(mixed.contains("bad.fml:") && mixed.contains("carbons and hydrogens"), mixed)
        let differs = error(Self.section(), Self.section(formula: "C11H26NO2Si"))
        XCTAssertTrue(differs.contains("give one formula in every configuration"), differs)
        let clash = error(Self.section(), Self.section(atoms: "1-2"))
        XCTAssertTrue(clash.contains("one name, one fragment"), clash)
        let badName = error(Self.section(name: "Ala 232"))
        XCTAssertTrue(badName.contains("bad.fml:") && badName.contains("name"), badName)
    }
}
