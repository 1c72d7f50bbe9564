import IsotopeCorrection
import XCTest

final class ElementalFormulaTests: XCTestCase {
    func testParsesTBDMSFragmentAndRepeats() throws {
        let ala232 = try ElementalFormula(parsing: "C11H26NO2Si2")
        XCTAssertEqual(ala232.count(of: .carbon), 11)
        XCTAssertEqual(ala232.count(of: .hydrogen), 26)
        XCTAssertEqual(ala232.count(of: .nitrogen), 1)
        XCTAssertEqual(ala232.count(of: .oxygen), 2)
        XCTAssertEqual(ala232.count(of: .silicon), 2)
        XCTAssertEqual(ala232.count(of: .sulfur), 0)
        XCTAssertEqual(ala232.description, "C11H26NO2Si2")
        // Repeated symbols add up: ethanol.
        XCTAssertEqual(try ElementalFormula(parsing: "CH3CH2OH"), try ElementalFormula(parsing: "C2H6O"))
        XCTAssertEqual(ala232.removing(2, of: .carbon)?.description, "C9H26NO2Si2")
        XCTAssertNil(ala232.removing(12, of: .carbon))
    }

    func testRejectsBadFormulasWithOneClearReason() {
        func reason(_ s: String) -> String {
            do { _ = try ElementalFormula(parsing: s); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(reason(""), "formula '': is empty")
        XCTAssertTrue(reason("C3Xe2").contains("unknown element 'Xe'"), reason("C3Xe2"))
        XCTAssertTrue(reason("c3h8").contains("unexpected 'c' at character 1"), reason("c3h8"))
        XCTAssertTrue(reason("C3 H8").contains("unexpected ' ' at character 3"), reason("C3 H8"))
        XCTAssertTrue(reason("C0H4").contains("count '0' of C"), reason("C0H4"))
        XCTAssertTrue(reason("C99999999999").contains("count '99999999999' of C"), reason("C99999999999"))
        XCTAssertTrue(reason("C-2").contains("unexpected '-'"), reason("C-2"))
    }
}
