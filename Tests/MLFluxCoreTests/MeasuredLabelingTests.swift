import XCTest
@testable import MLFluxCore

final class MeasuredLabelingTests: XCTestCase {
    let layout = LabelingLayout(experimentIDs: ["A_100", "A_010"], fragments: [("molB", 4), ("molE", 2)])

    func parse(_ body: String, normalize: Bool = false) throws -> MeasuredLabeling {
        try LabelingTable.parse("experiment,metabolite,isotopologue,fraction,stddev\n" + body,
                                file: "in.csv", layout: layout, normalize: normalize)
    }

    func message(_ body: String) -> String {
        do { _ = try parse(body); return "no error" } catch { return "\(error)" }
    }

    func testPlacesValuesInLayoutOrder() throws {
        let m = try parse("A_010,molE,M+0,0.25,0.01\nA_010,molE,M+1,0.75,\nA_100,molB,0,0.1,\nA_100,molB,M1,0.2,\nA_100,molB,2,0.3,\nA_100,molB,M+3,0.4,\n")
        // A_010 block starts at 6; molE offset 4 → indices 10, 11
        XCTAssertEqual(m.values[10], 0.25)
        XCTAssertEqual(m.values[11], 0.75)
        XCTAssertEqual(m.stddev[10], 0.01)
        XCTAssertTrue(m.stddev[11].isNaN)
        XCTAssertEqual(Array(m.values[0..<4]), [0.1, 0.2, 0.3, 0.4])
        XCTAssertEqual(m.mask.filter { $0 }.count, 6)
        XCTAssertFalse(m.isComplete)
    }

    func testErrorsNameTheRow() {
        XCTAssertTrue(message("A_999,molE,0,0.5,\n").hasPrefix("in.csv:2: unknown experiment 'A_999'"))
        XCTAssertTrue(message("A_100,molX,0,0.5,\n").hasPrefix("in.csv:2: unknown metabolite 'molX'"))
        XCTAssertTrue(message("A_100,molE,2,0.5,\n").contains("in.csv:2: isotopologue"))
        XCTAssertTrue(message("A_100,molE,0,nan,\nA_100,molE,1,0.5,\n").hasPrefix("in.csv:2: fraction"))
        XCTAssertTrue(message("A_100,molE,0,-0.1,\nA_100,molE,1,1.1,\n").hasPrefix("in.csv:2: fraction -0.1 is negative"))
        XCTAssertTrue(message("A_100,molE,0,0.5,\nA_100,molE,0,0.5,\n").hasPrefix("in.csv:3: duplicate row"))
        XCTAssertTrue(message("A_100,molE,0,0.5,\n").contains("incomplete"))
        XCTAssertTrue(message("A_100,molE,0,0.5,\nA_100,molE,1,0.6,\n").contains("sums to 1.1"))
        XCTAssertTrue(message("A_100,molE,0,0.5\n").hasPrefix("in.csv:2: expected 5 fields"))
    }

    /// Columns by name in any order, extra columns ignored, tab-separated, quoted fields; one
    /// sample per table.
    func testColumnsByNameTabsQuotesAndOneSample() throws {
        let tsv = "\"fraction\"\tnote\tmetabolite\texperiment\tisotopologue\tsd\n0.25\tx\tmolE\t\"A_010\"\tM+0\t0.01\n0.75\t\tmolE\tA_010\t1\t\n"
        let m = try LabelingTable.parse(tsv, file: "t.tsv", layout: layout)
        XCTAssertEqual(m.values[10], 0.25)
        XCTAssertEqual(m.values[11], 0.75)
        XCTAssertEqual(m.stddev[10], 0.01)
        let two = "sample,experiment,metabolite,isotopologue,fraction\ns1,A_010,molE,0,0.5\ns2,A_010,molE,1,0.5\n"
        XCTAssertThrowsError(try LabelingTable.parse(two, file: "s.csv", layout: layout)) {
            XCTAssertTrue("\($0)".hasPrefix("s.csv:3: sample 's2' differs from 's1' (line 2)"), "\($0)")
        }
        XCTAssertThrowsError(try LabelingTable.parse("experiment,metabolite,fraction\n", file: "h.csv", layout: layout)) {
            XCTAssertTrue("\($0)".hasPrefix("h.csv:1: no 'isotopologue' column"), "\($0)")
        }
    }

    /// A wide table (one column per isotopologue) reads as its long form; a value in a column
    /// beyond a MID's length is an error.
    func testWideTableEqualsLongForm() throws {
        let wide = try LabelingTable.parse("experiment,metabolite,M+0,M+1,M+2,M+3\nA_100,molB,0.1,0.2,0.3,0.4\nA_010,molE,0.25,0.75,,\n",
                                           file: "w.csv", layout: layout)
        let long = try parse("A_100,molB,0,0.1,\nA_100,molB,1,0.2,\nA_100,molB,2,0.3,\nA_100,molB,3,0.4,\nA_010,molE,0,0.25,\nA_010,molE,1,0.75,\n")
        XCTAssertEqual(wide.mask, long.mask)
        XCTAssertEqual(wide.values.filter { !$0.isNaN }, long.values.filter { !$0.isNaN })
        XCTAssertThrowsError(try LabelingTable.parse("experiment,metabolite,M0,M1,M2\nA_010,molE,0.25,0.7,0.05\n", file: "w.csv", layout: layout)) {
            XCTAssertTrue("\($0)".hasPrefix("w.csv:2: column M+2 of 'molE' must be empty"), "\($0)")
        }
    }

    /// Replicates are averaged; without a stated σ an entry's σ is the standard error of its
    /// mean (by hand: M+0 of 0.2, 0.3, 0.4 → mean 0.3, SD 0.1, SEM 0.1/√3).
    func testReplicatesAverageWithTheirStandardError() throws {
        let t = "experiment,metabolite,isotopologue,fraction,replicate\n" + ["r1": 0.2, "r2": 0.3, "r3": 0.4].sorted { $0.key < $1.key }
            .map { "A_010,molE,0,\($0.value),\($0.key)\nA_010,molE,1,\(1 - $0.value),\($0.key)\n" }.joined()
        let m = try LabelingTable.parse(t, file: "r.csv", layout: layout)
        XCTAssertEqual(m.values[10], 0.3, accuracy: 1e-12)
        XCTAssertEqual(m.values[11], 0.7, accuracy: 1e-12)
        XCTAssertEqual(m.stddev[10], 0.1 / 3.0.squareRoot(), accuracy: 1e-12)
        XCTAssertTrue(m.notes.contains { $0.contains("averaged 2 entries") })
        // The same replicate twice, or replicates without a replicate column: errors.
        XCTAssertThrowsError(try LabelingTable.parse(t + "A_010,molE,0,0.5,r1\n", file: "r.csv", layout: layout)) {
            XCTAssertTrue("\($0)".contains("duplicate row"), "\($0)")
        }
        XCTAssertTrue(message("A_010,molE,0,0.5,\nA_010,molE,0,0.5,\n").contains("replicates need a 'replicate' column"))
    }

    /// Round-off below zero (a corrected MID's −5.8e-16) reads as 0; a real negative is an error.
    func testRoundOffNegativeIsZero() throws {
        let m = try parse("A_100,molE,0,-5.8e-16,\nA_100,molE,1,1,\n")
        XCTAssertEqual(m.values[4], 0)
        XCTAssertEqual(m.values[5], 1)
        XCTAssertTrue(message("A_100,molE,0,-1e-6,\nA_100,molE,1,1,\n").contains("is negative"))
    }

    /// The template numbers isotopologues as `simulate` writes them, and reads back.
    func testTemplateReadsBack() throws {
        let t = LabelingTable.template(layout)
        XCTAssertTrue(t.contains("\nA_100,molB,0,,\n") && !t.contains("M+"))
        XCTAssertEqual(try LabelingTable.parse(t, file: "t.csv", layout: layout).mask.filter { $0 }.count, 0)
    }

    func testNormalizeRescalesAndNotes() throws {
        let m = try parse("A_100,molE,0,0.5,\nA_100,molE,1,0.6,\n", normalize: true)
        XCTAssertEqual(m.values[4] + m.values[5], 1, accuracy: 1e-15)
        XCTAssertEqual(m.values[4], 0.5 / 1.1, accuracy: 1e-15)
        XCTAssertEqual(m.notes.count, 1)
    }

    func testTemplateRoundTripsAsEmpty() throws {
        let t = LabelingTable.template(layout)
        XCTAssertEqual(t.split(separator: "\n").count, 1 + layout.count)
        let m = try LabelingTable.parse(t, file: "t.csv", layout: layout)
        XCTAssertFalse(m.mask.contains(true))
    }
}

/// Quoted fields as spreadsheets write them, and tables of several samples.
final class SampleTableTests: XCTestCase {
    let layout = LabelingLayout(experimentIDs: ["A_100", "A_010"], fragments: [("molB", 4), ("molE", 2)])

    func testQuotedFieldsKeepSeparatorsAndQuotes() {
        XCTAssertEqual(ColumnTable.fields("\"a, b\",c,\"say \"\"hi\"\"\", d ", separator: ","), ["a, b", "c", "say \"hi\"", "d"])
        XCTAssertEqual(ColumnTable.fields("x\t\"y\tz\"", separator: "\t"), ["x", "y\tz"])
    }

    func testSamplesSplitWithTheirOwnLineNumbers() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("samples-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = "sample,experiment,metabolite,isotopologue,fraction\n\"s, 1\",A_010,molE,0,0.25\n\"s, 1\",A_010,molE,1,0.75\ns2,A_010,molE,0,0.4\ns2,A_010,molE,1,0.6\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let samples = try LabelingTable.readSamples(contentsOf: path, layout: layout)
        XCTAssertEqual(samples.map(\.sample), ["s, 1", "s2"])
        XCTAssertEqual(samples[0].labeling.values[10], 0.25)
        XCTAssertEqual(samples[1].labeling.values[10], 0.4)
        // A defect in the second sample names its line in the file (5), not in the sample.
        try text.replacingOccurrences(of: "s2,A_010,molE,1,0.6", with: "s2,A_010,molE,1,0.7").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LabelingTable.readSamples(contentsOf: path, layout: layout)) {
            XCTAssertTrue("\($0)".hasPrefix("\(path):4: MID of A_010 molE sums to"), "\($0)")
        }
    }
}
