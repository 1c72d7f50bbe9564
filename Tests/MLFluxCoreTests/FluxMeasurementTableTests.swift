import Testing
import MLFluxCore

/// Measured-flux tables: columns by name in any order, CSV or TSV, quoted fields, and one
/// clear line (file:line) for every defect.
struct FluxMeasurementTableTests {
    @Test func columnsByNameInAnyOrder() throws {
        let text = "comment,stddev,Kind,reaction,value\nuptake,0.1,net,GLC_IN,2.5\n,0.02,xch,\"PGI\",0.4\n\n"
        let m = try FluxMeasurementTable.parse(text, file: "r.csv")
        #expect(m.count == 2)
        #expect(m[0].reaction == "GLC_IN" && m[0].kind == .net && m[0].value == 2.5 && m[0].stddev == 0.1 && m[0].line == 2)
        #expect(m[1].reaction == "PGI" && m[1].kind == .exchange && m[1].id == "PGI.xch" && m[1].line == 3)
    }

    @Test func tabSeparatedWithAliases() throws {
        let m = try FluxMeasurementTable.parse("flux\trate\tsd\nLAC_OUT\t3.9\t0.2\n", file: "r.tsv")
        #expect(m == [FluxMeasurement(id: "LAC_OUT", kind: .net, reaction: "LAC_OUT", value: 3.9, stddev: 0.2, line: 2, dataLine: 2)])
    }

    @Test(arguments: [
        ("reaction,value\nA,1\n", "r.csv:1:", "no 'stddev' column"),
        ("reaction,value,stddev\nA,x,1\n", "r.csv:2:", "not a finite number"),
        ("reaction,value,stddev\nA,1,0\n", "r.csv:2:", "finite number > 0"),
        ("reaction,value,stddev\nA,1,nan\n", "r.csv:2:", "finite number > 0"),
        ("reaction,value,stddev,kind\nA,1,1,gross\n", "r.csv:2:", "net or xch"),
        ("reaction,value,stddev\nA,1,1\nA,2,1\n", "r.csv:3:", "measured twice (first on line 2)"),
        ("reaction,value,stddev\nA,1\n", "r.csv:2:", "expected 3 fields"),
        ("reaction,value,stddev\n", "r.csv:", "no measured flux"),
        ("", "r.csv:", "empty file"),
    ])
    func defectsAreNamed(text: String, prefix: String, message: String) {
        #expect {
            _ = try FluxMeasurementTable.parse(text, file: "r.csv")
        } throws: { e in
            "\(e)".hasPrefix(prefix) && "\(e)".contains(message)
        }
    }
}
