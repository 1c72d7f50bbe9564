import XCTest
@testable import MLFluxCore
import TestSupport

/// INCA's MS table in INCAWrapper's column layout (biosustain/incawrapper,
/// `incawrapper/core/dataschemas.py`, `MSMeasurementsSchema`) read into a bundle's layout.
final class INCATableTests: XCTestCase {
    let two = LabelingLayout(experimentIDs: ["A_100", "A_010"], fragments: [("molB", 4), ("molE", 2)])
    let one = LabelingLayout(experimentIDs: ["A_100"], fragments: [("molB", 4), ("molE", 2)])

    func fixture(_ name: String) -> String { repositoryRoot() + "/Tests/MLFluxCoreTests/Fixtures/" + name }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    /// Writes `text` to a temporary file and reads it into `layout`.
    func read(_ text: String, layout: LabelingLayout, maps: IsoCorMaps = IsoCorMaps()) throws -> MeasuredLabeling {
        let path = NSTemporaryDirectory() + "inca-\(UUID().uuidString).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try LabelingTable.read(contentsOf: path, layout: layout, maps: maps)
    }

    let header = "experiment_id,met_id,ms_id,measurement_replicate,labelled_atom_ids,unlabelled_atoms,mass_isotope,intensity,intensity_std_error,time\n"

    /// Intensities 2, 4, 1, 1 (sum 8) are the MID 0.25, 0.5, 0.125, 0.125 with standard
    /// errors 0.2/8 …; `MOLE` is molE but for letter case; glc_301 is not a fragment of the
    /// model (left out, noted); unlabelled_atoms is noted as unused.
    func testIntensitiesNormalisedPerMID() throws {
        let m = try LabelingTable.read(contentsOf: fixture("inca_ms.csv"), layout: two)
        XCTAssertEqual(Array(m.values[0..<4]), [0.25, 0.5, 0.125, 0.125])
        XCTAssertEqual(Array(m.stddev[0..<4]), [0.025, 0.05, 0.0125, 0.0125])
        XCTAssertEqual(Array(m.values[4..<6]), [0.3, 0.7])
        XCTAssertEqual(m.values[10], 0.6, accuracy: 1e-15)
        XCTAssertEqual(m.stddev[10], 0.02, accuracy: 1e-15)
        XCTAssertFalse(m.mask[6])  // molB in A_010: not measured
        let notes = m.notes.joined(separator: "\n")
        XCTAssertTrue(notes.contains("'glc_301' (line 10)"), notes)
        XCTAssertTrue(notes.contains("normalised to sum 1") && notes.contains("molB in A_100 (line 2, sum 8.0)"), notes)
        XCTAssertTrue(notes.contains("'unlabelled_atoms' not used"), notes)
    }

    /// One experiment_id on a one-experiment model is that experiment; with two model
    /// experiments an unknown experiment_id is an error that points to --sample-map, which
    /// then places it.
    func testExperimentIDs() throws {
        let text = header + "exp1,E,molE,1,[1],,0,0.3,0.01,0\nexp1,E,molE,1,[1],,1,0.7,0.01,0\n"
        let m = try read(text, layout: one)
        XCTAssertEqual(Array(m.values[4..<6]), [0.3, 0.7])
        XCTAssertTrue(m.notes.contains { $0.contains("experiment_id 'exp1' read as the model's one experiment A_100") }, "\(m.notes)")
        XCTAssertTrue(message { try self.read(text, layout: self.two) }.contains(":2: column 'experiment_id': 'exp1' is not an experiment of the model (A_100, A_010); give --sample-map"))
        let map = try SampleMap.parse("sample,experiment\nexp1,A_010\n", file: "map.csv")
        let placed = try read(text, layout: two, maps: IsoCorMaps(samples: map))
        XCTAssertEqual(Array(placed.values[10..<12]), [0.3, 0.7])
        XCTAssertFalse(placed.mask[4])
    }

    /// Replicates 1 and 2 of M+0 (0.2 and 0.4 after normalisation) average to 0.3.
    func testReplicatesAverage() throws {
        let text = header + "A_100,E,molE,1,[1],,0,0.2,,0\nA_100,E,molE,1,[1],,1,0.8,,0\nA_100,E,molE,2,[1],,0,0.4,,0\nA_100,E,molE,2,[1],,1,0.6,,0\n"
        let m = try read(text, layout: two)
        XCTAssertEqual(m.values[4], 0.3, accuracy: 1e-12)
        XCTAssertEqual(m.values[5], 0.7, accuracy: 1e-12)
    }

    /// Each defect is one line naming the file, the line and the column.
    func testErrorsNameLineAndColumn() {
        func error(_ rows: String, layout: LabelingLayout? = nil) -> String { message { try self.read(self.header + rows, layout: layout ?? self.two) } }
        XCTAssertTrue(error("A_100,E,molE,1,[1],,0,0.3,0.01,0\nA_100,E,molE,1,[1],,1,0.7,0.01,5\n")
            .contains(":3: column 'time': time 5 differs from 0 (line 2)"))
        XCTAssertTrue(error("A_100,B,molB,1,\"[1,2,3]\",,0,0.5,0.01,0\nA_100,B,molB,1,\"[1,2,3]\",,1,0.5,0.01,0\n")
            .contains(":2: A_100 molB replicate 1: no intensity for M+2, M+3"))
        XCTAssertTrue(error("A_100,E,molE,1,\"[1, 2]\",,0,0.3,0.01,0\n")
            .contains(":2: column 'labelled_atom_ids': 2 atom(s), but the model's fragment molE has 1 traced atom(s)"))
        XCTAssertTrue(error("A_100,E,molE,1,[1],,0 1,0.3 0.7,0.01 0.01,0\n")
            .contains(":2: column 'mass_isotope': several values in one cell"))
        XCTAssertTrue(error("A_100,E,molE,1,[1],,0,abc,0.01,0\n").contains(":2: column 'intensity': 'abc' is not a finite number"))
        XCTAssertTrue(error("A_100,E,molE,1,[1],,2,0.3,0.01,0\n").contains(":2: column 'mass_isotope': '2' of molE must be 0…1"))
        XCTAssertTrue(error("A_100,E,molE,1,[1],,0,0.3,-1,0\n").contains(":2: column 'intensity_std_error': '-1' is not a positive number"))
    }
}
