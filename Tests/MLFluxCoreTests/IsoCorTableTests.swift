import XCTest
@testable import MLFluxCore
import TestSupport

/// IsoCor's result table (fixtures written in IsoCor 2.x's column layout) read into a
/// bundle's layout: MIDs by column name, metabolites by name or map, samples by map.
final class IsoCorTableTests: XCTestCase {
    let two = LabelingLayout(experimentIDs: ["A_100", "A_010"], fragments: [("molB", 4), ("molE", 2)])
    let one = LabelingLayout(experimentIDs: ["A_100"], fragments: [("molB", 4), ("molE", 2)])

    func fixture(_ name: String) -> String { repositoryRoot() + "/Tests/MLFluxCoreTests/Fixtures/" + name }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    /// A one-experiment model takes every IsoCor sample as its own measurement; names match
    /// beyond letter case and IsoCor's trailing spaces; an unknown metabolite and a failed
    /// correction (empty fractions) are left out with notes.
    func testOneExperimentOneMeasurementPerSample() throws {
        let samples = try LabelingTable.readSamples(contentsOf: fixture("isocor_result.tsv"), layout: one)
        XCTAssertEqual(samples.map(\.sample), ["S1", "S2"])
        let s1 = samples[0].labeling, s2 = samples[1].labeling
        XCTAssertEqual(Array(s1.values[0..<4]), [0.45, 0.25, 0.2, 0.1])
        XCTAssertEqual(Array(s1.values[4..<6]), [0.6, 0.4])
        XCTAssertTrue(s1.isComplete)
        XCTAssertEqual(Array(s2.mask[0..<4]), [false, false, false, false])
        XCTAssertEqual(Array(s2.values[4..<6]), [0.3, 0.7])
        let notes = s1.notes.joined(separator: "\n")
        XCTAssertTrue(notes.contains("'Glc' (line 8)"), notes)
        XCTAssertTrue(notes.contains("S2 molB (lines 10–13)"), notes)
        // One measurement per call (`read`): the table's two samples are an error at S2's first line.
        XCTAssertTrue(message { try LabelingTable.read(contentsOf: self.fixture("isocor_result.tsv"), layout: self.one) }
            .contains("isocor_result.tsv:10: sample 'S2' differs from 'S1'"))
    }

    /// Without `isotopologue_fraction`, corrected areas 30 and 90 are the MID 0.25, 0.75.
    func testCorrectedAreasAreNormalised() throws {
        let m = try LabelingTable.read(contentsOf: fixture("isocor_areas.tsv"), layout: one)
        XCTAssertEqual(m.values[4], 0.25, accuracy: 1e-15)
        XCTAssertEqual(m.values[5], 0.75, accuracy: 1e-15)
        XCTAssertEqual(m.mask.filter { $0 }.count, 2)
    }

    /// A sample map places samples in experiments and replicates; a metabolite map names
    /// "Mol E" (derivative TBDMS) molE. Averaged: M+0 of A_100 is (0.2 + 0.4)/2 = 0.3 with
    /// σ = SD/√2 = 0.1414…/1.414… = 0.1; of A_010 (0.5 + 0.7)/2 = 0.6, σ 0.1. Split: replicate 1
    /// is a1 and b1.
    func testSampleAndMetaboliteMaps() throws {
        let maps = IsoCorMaps(samples: try SampleMap.read(contentsOf: fixture("sample_map.csv")),
                              metabolites: try MetaboliteMap.read(contentsOf: fixture("metabolite_map.csv")))
        let file = fixture("isocor_replicates.tsv")
        let averaged = try LabelingTable.read(contentsOf: file, layout: two, maps: maps)
        XCTAssertEqual(averaged.values[4], 0.3, accuracy: 1e-12)
        XCTAssertEqual(averaged.stddev[4], 0.1, accuracy: 1e-12)
        XCTAssertEqual(averaged.values[10], 0.6, accuracy: 1e-12)
        XCTAssertEqual(averaged.stddev[10], 0.1, accuracy: 1e-12)
        XCTAssertTrue(averaged.notes.contains { $0.contains("left out 1 sample(s)") && $0.contains("'blank' (line 10)") }, "\(averaged.notes)")
        let split = try LabelingTable.readReplicates(contentsOf: file, layout: two, maps: maps)
        XCTAssertEqual(split.count, 1)
        XCTAssertEqual(split[0].replicates.map(\.replicate), ["1", "2"])
        let r1 = split[0].replicates[0].labeling, r2 = split[0].replicates[1].labeling
        XCTAssertEqual([r1.values[4], r1.values[5], r1.values[10], r1.values[11]], [0.2, 0.8, 0.5, 0.5])
        XCTAssertEqual([r2.values[4], r2.values[10]], [0.4, 0.7])
        XCTAssertTrue(r1.stddev[4].isNaN)
        // Without the metabolite map "Mol E" matches nothing: left out, so nothing is measured.
        let unmapped = try LabelingTable.read(contentsOf: file, layout: two, maps: IsoCorMaps(samples: maps.samples))
        XCTAssertFalse(unmapped.mask.contains(true))
        XCTAssertTrue(unmapped.notes.contains { $0.contains("'Mol E (TBDMS)' (line 2)") }, "\(unmapped.notes)")
    }

    /// A `condition` column groups samples into measurements: X is a1 (A_100) with b1 (A_010).
    func testConditionsAreSeparateMeasurements() throws {
        let map = try SampleMap.parse("sample,experiment,condition\na1,A_100,X\na2,A_100,Y\nb1,A_010,X\nb2,A_010,Y\n", file: "c.csv")
        let maps = IsoCorMaps(samples: map, metabolites: try MetaboliteMap.read(contentsOf: fixture("metabolite_map.csv")))
        let samples = try LabelingTable.readSamples(contentsOf: fixture("isocor_replicates.tsv"), layout: two, maps: maps)
        XCTAssertEqual(samples.map(\.sample), ["X", "Y"])
        XCTAssertEqual([samples[0].labeling.values[4], samples[0].labeling.values[10]], [0.2, 0.5])
        XCTAssertEqual([samples[1].labeling.values[4], samples[1].labeling.values[10]], [0.4, 0.7])
    }

    /// Every error names its file, line and column.
    func testErrorsNameFileLineAndColumn() throws {
        let file = fixture("isocor_replicates.tsv")
        XCTAssertTrue(message { try LabelingTable.read(contentsOf: file, layout: self.two) }
            .hasSuffix("isocor_replicates.tsv:2: column 'sample': the model has experiments A_100, A_010; give --sample-map FILE.csv (columns sample, experiment [, replicate] [, condition]) to say which one sample 'a1' is"))
        let badExperiment = try SampleMap.parse("sample,experiment\na1,A_100\na2,A_999\n", file: "map.csv")
        XCTAssertTrue(message { try LabelingTable.read(contentsOf: file, layout: self.two, maps: IsoCorMaps(samples: badExperiment)) }
            .hasPrefix("map.csv:3: column 'experiment': unknown experiment 'A_999'"))
        let badTarget = try MetaboliteMap.parse("name,metabolite\nMol E,molQ\n", file: "mm.csv")
        XCTAssertTrue(message { try LabelingTable.read(contentsOf: self.fixture("isocor_areas.tsv"), layout: self.one, maps: IsoCorMaps(metabolites: badTarget)) }
            .hasPrefix("mm.csv:2: column 'metabolite': 'molQ' is not a measured metabolite"))
        XCTAssertTrue(message { try SampleMap.parse("sample,experiment\na1,A_100\na1,A_010\n", file: "m.csv") }
            .hasPrefix("m.csv:3: column 'sample': 'a1' is mapped twice (first on line 2)"))
        XCTAssertTrue(message { try SampleMap.parse("sample,experiment\na1,A_100\na2,A_100\n", file: "m.csv") }
            .hasPrefix("m.csv:3: column 'experiment': samples 'a2' and 'a1' (line 2) are both experiment A_100"))
        XCTAssertTrue(message { try SampleMap.parse("sample,experiment,replicate\na1,A_100,1\na2,A_100,1\n", file: "m.csv") }
            .hasPrefix("m.csv:3: column 'replicate': samples 'a2' and 'a1' (line 2) are both experiment A_100 replicate 1"))
        XCTAssertTrue(message { try SampleMap.parse("sample,exp\n", file: "m.csv") }.hasPrefix("m.csv:1: no 'experiment' column"))
        XCTAssertTrue(message { try MetaboliteMap.parse("name,metabolite\nAla,Ala232\nala,Ala232\n", file: "mm.csv") }
            .hasPrefix("mm.csv:3: column 'name': 'ala' is mapped twice (first on line 2)"))
        let areas = "sample\tmetabolite\tisotopologue\tcorrected_area\nS1\tmolE\t0\t30\nS1\tmolE\t1\tlots\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("areas-\(UUID().uuidString).tsv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try areas.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(message { try LabelingTable.read(contentsOf: path, layout: self.one) },
                       "\(path):3: column 'corrected_area': 'lots' is not a finite number ≥ 0")
        // Maps are for IsoCor tables only.
        try "experiment,metabolite,isotopologue,fraction\nA_100,molE,0,1\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertTrue(message { try LabelingTable.read(contentsOf: path, layout: self.one, maps: IsoCorMaps(metabolites: badTarget)) }
            .hasPrefix("\(path):1: --sample-map and --metabolite-map apply to IsoCor's result table"))
    }
}
