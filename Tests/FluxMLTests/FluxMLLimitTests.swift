import Foundation
import XCTest
import FluxML
import MLFluxCore
#if canImport(Glibc)
import Glibc
#endif

/// Sizes a hostile FluxML file can state are refused before they are used.
final class FluxMLLimitTests: XCTestCase {
    /// `C="9223372036854775807" H="1"` trapped on `carbons + hydrogens`.
    func testAtomCountsBeyondAnEMUMaskAreRefused() {
        for attrs in ["C=\"9223372036854775807\" H=\"1\"", "atoms=\"65\"", "C=\"40\" H=\"40\""] {
            let text = document(pools: "    <pool id=\"A\" \(attrs)/>\n    <pool id=\"B\" atoms=\"2\"/>")
            let e = parseError(text)
            XCTAssertTrue("\(e!)".hasPrefix("bad.fml:\(lineOf("<pool id=\"A\"", in: text)): "), "\(e!)")
            XCTAssertTrue("\(e!)".contains("at most 64 are supported"), "\(e!)")
        }
    }

    /// 8 MB of empty elements took 605 MB; now the element count is refused before libxml2 runs.
    func testElementFloodIsRefusedBeforeParsing() {
        let flood = "<fluxml>" + String(repeating: "<a/>", count: 2_000_000) + "</fluxml>"
        var before = rusage(), after = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &before)
        let e = parseError(flood)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &after)
        XCTAssertTrue("\(e!)".contains("more than 500000 elements"), "\(e!)")
        // CPU time, not wall time: a loaded machine must not fail the test.
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        let cpu = seconds(after.ru_utime) + seconds(after.ru_stime) - seconds(before.ru_utime) - seconds(before.ru_stime)
        XCTAssertLessThan(cpu, 5)
        // Peak RSS (kB on Linux) grew by less than 100 MB while refusing it.
        XCTAssertLessThan(after.ru_maxrss - before.ru_maxrss, 100_000)
    }

    /// Values quoted in errors are cut short.
    func testHugeValuesAreQuotedShort() {
        let big = String(repeating: "x", count: 100_000)
        let e = parseError(document(pools: "    <pool id=\"A\" atoms=\"\(big)\"/>\n    <pool id=\"B\" atoms=\"2\"/>"))
        XCTAssertLessThan("\(e!)".utf8.count, 300, "\("\(e!)".prefix(300))")
    }
}
