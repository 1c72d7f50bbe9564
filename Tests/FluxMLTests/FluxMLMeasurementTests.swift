import Foundation
import XCTest
import FluxML
import MLFluxCore

/// A small network with a C+H pool and two configurations; `measurementA` / `measurementB`
/// are the configurations' `measurement` sections (empty: none).
func measuredDocument(measurementA: String = standardMeasurementA, measurementB: String = standardMeasurementB) -> String {
    """
    <?xml version="1.0" encoding="utf-8"?>
    <fluxml xmlns="http://www.13cflux.net/fluxml">
      <reactionnetwork>
        <metabolitepools>
          <pool id="Glc" C="3" H="2"/>
          <pool id="Pyr" C="3" H="2"/>
          <pool id="Ala" C="3" H="2"/>
        </metabolitepools>
        <reaction id="upt">
          <reduct cfg="abcde" id="Glc"/>
          <rproduct cfg="abcde" id="Pyr"/>
        </reaction>
        <reaction id="r2">
          <reduct cfg="abcde" id="Pyr"/>
          <rproduct cfg="abcde" id="Ala"/>
        </reaction>
        <reaction id="out">
          <reduct cfg="abcde" id="Ala"/>
        </reaction>
      </reactionnetwork>
      <constraints><net><textual>upt=1;</textual></net></constraints>
      <configuration name="A" stationary="true">
        <input pool="Glc" type="isotopomer">
          <label cfg="10000">1</label>
        </input>
    \(measurementA)
      </configuration>
      <configuration name="B" stationary="true">
        <input pool="Glc" type="isotopomer">
          <label cfg="01100">0.5</label>
        </input>
    \(measurementB)
      </configuration>
    </fluxml>
    """
}

let standardMeasurementA = """
    <measurement>
      <model>
        <labelingmeasurement>
          <group id="ms_Ala" scale="auto">
            <textual>Ala[1-3]#M0,1,2,3</textual>
          </group>
          <group id="ms_AlaH" scale="one"><textual>Ala[4-5]#M0,1</textual></group>
          <group id="ms_Pyr"><textual>Pyr[1,3]#M2,0,1</textual></group>
        </labelingmeasurement>
        <fluxmeasurement>
          <netflux id="fm_upt"><textual>upt</textual></netflux>
          <xchflux id="fx_r2"><textual>r2</textual></xchflux>
          <netflux id="fm_comb"><textual>2*r2 - out</textual></netflux>
        </fluxmeasurement>
        <poolsizemeasurement/>
      </model>
      <data>
        <datum id="ms_Ala" stddev="0.01" weight="0">0.52</datum>
        <datum id="ms_Ala" stddev="0.01" weight="1">0.30</datum>
        <datum id="ms_Ala" stddev="0.02" weight="2">.13</datum>
        <datum id="ms_Ala" stddev="0.02" weight="3">0.05</datum>
        <datum id="ms_AlaH" stddev="0.005" weight="1">0.011</datum>
        <datum id="ms_AlaH" stddev="0.005" weight="0">0.989</datum>
        <datum id="ms_Pyr" stddev="1e-2" weight="0">0.25</datum>
        <datum id="ms_Pyr" stddev="1e-2" weight="1">0.5</datum>
        <datum id="ms_Pyr" stddev="1e-2" weight="2">0.25</datum>
        <datum id="fm_upt" stddev="0.05">1.0</datum>
        <datum id="fx_r2" stddev="0.1">0.3</datum>
        <datum id="fm_comb" stddev="0.2">1.1</datum>
      </data>
    </measurement>
    """

let standardMeasurementB = """
    <measurement>
      <model>
        <labelingmeasurement>
          <group id="ms_Ala"><textual>Ala[1-3]#M0,1,2,3</textual></group>
        </labelingmeasurement>
        <fluxmeasurement>
          <netflux id="fm_upt"><textual>upt</textual></netflux>
        </fluxmeasurement>
      </model>
      <data>
        <datum id="ms_Ala" stddev="0.01" weight="0">0.6</datum>
        <datum id="ms_Ala" stddev="0.01" weight="1">0.1</datum>
        <datum id="ms_Ala" stddev="0.01" weight="2">0.2</datum>
        <datum id="ms_Ala" stddev="0.01" weight="3">0.1</datum>
        <datum id="fm_upt" stddev="0.05">1.0</datum>
      </data>
    </measurement>
    """

/// The error of `FluxMLReader.parseDocument` on `text` (named `bad.fml`), or nil after a failure.
func documentError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> (any Error)? {
    do {
        _ = try FluxMLReader.parseDocument(text, fileName: "bad.fml")
        XCTFail("expected an error", file: file, line: line)
        return nil
    } catch {
        return error
    }
}

/// Line of the `n`-th (1-based) line containing `needle`.
func lineOf(_ needle: String, in text: String, occurrence n: Int) -> Int {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    return lines.indices.filter { lines[$0].contains(needle) }[n - 1] + 1
}

final class FluxMLMeasurementTests: XCTestCase {
    func assertMessage(_ error: (any Error)?, line: Int, contains needles: String...,
                       file: StaticString = #filePath, testLine: UInt = #line) {
        guard let error else { return }
        XCTAssertTrue(error is FluxMLError, "\(type(of: error)): \(error)", file: file, line: testLine)
        let text = String(describing: error)
        if ProcessInfo.processInfo.environment["MLFLUX_SHOW_MESSAGES"] != nil { print("message: \(text)") }
        XCTAssertTrue(text.hasPrefix("bad.fml:\(line): "), "message '\(text)' does not start with bad.fml:\(line):",
                      file: file, line: testLine)
        for n in needles {
            XCTAssertTrue(text.contains(n), "message '\(text)' lacks '\(n)'", file: file, line: testLine)
        }
        XCTAssertFalse(text.contains("\n"), "message spans lines: '\(text)'", file: file, line: testLine)
    }

    // MARK: - Values

    func testMeasurementsParse() throws {
        let text = measuredDocument()
        let doc = try FluxMLReader.parseDocument(text, fileName: "ok.fml")
        let m = doc.measurements

        // fm_upt appears in both configurations with the same value: merged.
        XCTAssertEqual(m.fluxes.map(\.id), ["fm_upt", "fx_r2", "fm_comb"])
        let upt = m.fluxes[0]
        XCTAssertEqual(upt.kind, .net)
        XCTAssertEqual(upt.reaction, "upt")
        XCTAssertEqual(upt.value, 1.0)
        XCTAssertEqual(upt.stddev, 0.05)
        XCTAssertEqual(upt.line, lineOf("<netflux id=\"fm_upt\">", in: text, occurrence: 1))
        XCTAssertEqual(upt.dataLine, lineOf("<datum id=\"fm_upt\"", in: text, occurrence: 1))
        XCTAssertEqual(m.fluxes[1].kind, .exchange)
        XCTAssertEqual(m.fluxes[1].value, 0.3)
        XCTAssertEqual(m.fluxes[2].terms, [.init(reaction: "r2", coefficient: 2), .init(reaction: "out", coefficient: -1)])
        XCTAssertNil(m.fluxes[2].reaction)
        XCTAssertEqual(m.fluxes[2].expression, "2*r2-out")

        XCTAssertEqual(m.labeling.map { "\($0.experiment)/\($0.id)" }, ["A/ms_Ala", "A/ms_AlaH", "A/ms_Pyr", "B/ms_Ala"])
        let ala = m.labeling[0]
        XCTAssertEqual(ala.fragment, MeasuredFragment(name: "Ala_1:2:3", pool: "Ala", atoms: [0, 1, 2]))
        XCTAssertEqual(ala.isotopologues, [0, 1, 2, 3])
        XCTAssertEqual(ala.values, [0.52, 0.30, 0.13, 0.05])
        XCTAssertEqual(ala.stddevs, [0.01, 0.01, 0.02, 0.02])
        XCTAssertEqual(ala.scale, .auto)
        XCTAssertFalse(ala.isPartial)
        XCTAssertEqual(ala.line, lineOf("<group id=\"ms_Ala\"", in: text, occurrence: 1))

        // Hydrogens 4-5 of a C3H2 pool are 0-based atoms 3, 4; only M0,1 of M0…2 are given.
        let h = m.labeling[1]
        XCTAssertEqual(h.fragment, MeasuredFragment(name: "Ala_4:5", pool: "Ala", atoms: [3, 4]))
        XCTAssertEqual(h.isotopologues, [0, 1])
        XCTAssertEqual(h.values, [0.989, 0.011])
        XCTAssertEqual(h.stddevs, [0.005, 0.005])
        XCTAssertEqual(h.scale, .one)
        XCTAssertTrue(h.isPartial)
        XCTAssertEqual(h.midLength, 3)

        // M list given out of order is sorted; the default scale is auto.
        let pyr = m.labeling[2]
        XCTAssertEqual(pyr.fragment.atoms, [0, 2])
        XCTAssertEqual(pyr.isotopologues, [0, 1, 2])
        XCTAssertEqual(pyr.values, [0.25, 0.5, 0.25])
        XCTAssertEqual(pyr.scale, .auto)

        XCTAssertEqual(m.labeling[3].values, [0.6, 0.1, 0.2, 0.1])
        XCTAssertEqual(m.experimentIDs, ["A", "B"])
        XCTAssertEqual(m.fragments.map(\.name), ["Ala_1:2:3", "Ala_4:5", "Pyr_1:3"])
    }

    func testPlacementInLayout() throws {
        let m = try FluxMLReader.parseDocument(measuredDocument(), fileName: "ok.fml").measurements
        let layout = m.layout()
        XCTAssertEqual(layout.experimentIDs, ["A", "B"])
        XCTAssertEqual(layout.isotopologues, [4, 3, 3])
        XCTAssertEqual(layout.count, 20)
        let ml = try m.measuredLabeling(in: layout)
        // A: 4 + 2 + 3 measured; B: 4.
        XCTAssertEqual(ml.mask.filter { $0 }.count, 13)
        XCTAssertEqual(ml.values[layout.index(experiment: "A", fragment: "Ala_1:2:3", isotopologue: 2)!], 0.13)
        XCTAssertEqual(ml.stddev[layout.index(experiment: "A", fragment: "Ala_1:2:3", isotopologue: 2)!], 0.02)
        XCTAssertEqual(ml.values[layout.index(experiment: "A", fragment: "Ala_4:5", isotopologue: 1)!], 0.011)
        let missing = layout.index(experiment: "A", fragment: "Ala_4:5", isotopologue: 2)!
        XCTAssertFalse(ml.mask[missing])
        XCTAssertTrue(ml.values[missing].isNaN)
        XCTAssertEqual(ml.values[layout.index(experiment: "B", fragment: "Ala_1:2:3", isotopologue: 0)!], 0.6)
        XCTAssertFalse(ml.mask[layout.index(experiment: "B", fragment: "Pyr_1:3", isotopologue: 0)!])
        XCTAssertEqual(ml.notes.count, 1)
        XCTAssertTrue(ml.notes[0].contains("Ala_4:5"), ml.notes[0])

        // A layout lacking a measured fragment is refused; one without experiment B leaves B out.
        let small = LabelingLayout(experimentIDs: ["A"], fragments: [("Ala_1:2:3", 4)])
        XCTAssertThrowsError(try m.measuredLabeling(in: small)) { e in
            XCTAssertTrue("\(e)".contains("Ala_4:5"), "\(e)")
        }
        let onlyA = try m.measuredLabeling(in: m.layout(experimentIDs: ["A"]))
        XCTAssertEqual(onlyA.mask.filter { $0 }.count, 9)
    }

    func testFluxRows() throws {
        let doc = try FluxMLReader.parseDocument(measuredDocument(), fileName: "ok.fml")
        let rows = try doc.measurements.fluxRows(in: doc.network)
        XCTAssertEqual(rows.map(\.terms), [[IndexedFluxTerm(reaction: 0, coefficient: 1)],
                                           [IndexedFluxTerm(reaction: 1, coefficient: 1)],
                                           [IndexedFluxTerm(reaction: 1, coefficient: 2), IndexedFluxTerm(reaction: 2, coefficient: -1)]])
        let state = FluxState(net: [1, 1, 1], exchange: [0, 0.5, 0])
        XCTAssertEqual(rows.map { $0.simulated(state) }, [1, 0.5, 1])
        XCTAssertEqual(rows[1].residual(state), (0.5 - 0.3) / 0.1, accuracy: 1e-12)
    }

    func testNetworkReaderStillIgnoresMeasurements() throws {
        // The plain reader gives the same network and does not look at the measurement section.
        let bad = measuredDocument(measurementB: "<measurement><model/></measurement>")
        XCTAssertNoThrow(try FluxMLReader.parse(bad, fileName: "x.fml"))
        let net = try FluxMLReader.parse(measuredDocument(), fileName: "x.fml")
        XCTAssertEqual(net.experiments.map(\.id), ["A", "B"])
    }

    func testNoMeasurementSection() throws {
        let doc = try FluxMLReader.parseDocument(measuredDocument(measurementA: "", measurementB: ""), fileName: "x.fml")
        XCTAssertTrue(doc.measurements.isEmpty)
    }

    func testReadFromFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlflux-meas-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.fml").path
        try measuredDocument().write(toFile: path, atomically: true, encoding: .utf8)
        let doc = try FluxMLReader.readDocument(contentsOf: path)
        XCTAssertEqual(doc.measurements.labeling.count, 4)
        let again = try FluxMLReader.readMeasurements(contentsOf: path, network: doc.network)
        XCTAssertEqual(again, doc.measurements)
    }

    // MARK: - Writer

    func testRoundTripThroughWriter() throws {
        let doc = try FluxMLReader.parseDocument(measuredDocument(), fileName: "ok.fml")
        let text = try FluxMLWriter.write(doc.network, measurements: doc.measurements)
        let back = try FluxMLReader.parseDocument(text, fileName: "back.fml")
        func strip(_ s: MeasurementSet) -> MeasurementSet {
            try! MeasurementSet(
                fluxes: s.fluxes.map { var f = $0; f.line = nil; f.dataLine = nil; return f },
                labeling: s.labeling.map { var l = $0; l.line = nil; return l })
        }
        XCTAssertEqual(strip(back.measurements), strip(doc.measurements))
        XCTAssertTrue(text.contains("<textual>Ala[1-3]#M0,1,2,3</textual>"), text)
        XCTAssertTrue(text.contains("<textual>Pyr[1,3]#M0,1,2</textual>"), text)
        XCTAssertTrue(text.contains("<xchflux id=\"fx_r2\">"), text)
        XCTAssertTrue(text.contains("<datum id=\"ms_AlaH\" stddev=\"0.005\" weight=\"1\">0.011</datum>"), text)
        // Flux measurements are written in each configuration.
        XCTAssertEqual(text.components(separatedBy: "<netflux id=\"fm_upt\">").count - 1, 2)
        // The network-only writer is unchanged.
        XCTAssertFalse(FluxMLWriter.write(doc.network).contains("<measurement>"))
    }

    func testWholePoolSpecWrittenWithoutRange() throws {
        let net = try FluxMLReader.parse(measuredDocument(measurementA: "", measurementB: ""), fileName: "x.fml")
        let m = try MeasurementSet(fluxes: [], labeling: [
            LabelingMeasurement(id: "ms_Pyr", experiment: "A", fragment: .whole(net.pool("Pyr")!),
                                isotopologues: [0, 5], values: [0.9, 0.1], stddevs: [0.01, 0.01])])
        let text = try FluxMLWriter.write(net, measurements: m)
        XCTAssertTrue(text.contains("<textual>Pyr#M0,5</textual>"), text)
        let back = try FluxMLReader.parseDocument(text, fileName: "x.fml").measurements
        XCTAssertEqual(back.labeling[0].fragment, .whole(net.pool("Pyr")!))
        XCTAssertEqual(back.labeling[0].values, [0.9, 0.1])

        let stray = try MeasurementSet(fluxes: [], labeling: [
            LabelingMeasurement(id: "x", experiment: "Z", fragment: .whole(net.pool("Pyr")!),
                                isotopologues: [0], values: [1], stddevs: [0.1])])
        XCTAssertThrowsError(try FluxMLWriter.write(net, measurements: stray)) { e in
            XCTAssertTrue("\(e)".contains("'Z'"), "\(e)")
        }
    }

    // MARK: - Bad input

    /// `standardMeasurementA` with `old` replaced by `new`, in a document.
    func variantA(_ old: String, _ new: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertTrue(standardMeasurementA.contains(old), "'\(old)' not in the standard section", file: file, line: line)
        return measuredDocument(measurementA: standardMeasurementA.replacingOccurrences(of: old, with: new))
    }

    func testUnknownPool() {
        let text = variantA("Ala[1-3]#M0,1,2,3", "Alanine[1-3]#M0,1,2,3")
        assertMessage(documentError(text), line: lineOf("Alanine", in: text), contains: "ms_Ala", "unknown pool 'Alanine'")
    }

    func testUnknownReaction() {
        let text = variantA("<textual>upt</textual>", "<textual>uptake</textual>")
        assertMessage(documentError(text), line: lineOf("uptake", in: text), contains: "fm_upt", "unknown reaction 'uptake'")
    }

    func testDatumWithoutGroup() {
        let text = variantA("<datum id=\"fx_r2\"", "<datum id=\"fx_r3\"")
        assertMessage(documentError(text), line: lineOf("fx_r3", in: text), contains: "'fx_r3'", "names no measurement group")
    }

    func testGroupWithoutData() {
        let text = variantA("<datum id=\"fm_comb\" stddev=\"0.2\">1.1</datum>", "")
        assertMessage(documentError(text), line: lineOf("<netflux id=\"fm_comb\"", in: text), contains: "fm_comb", "no <datum>")
        let ms = variantA("<datum id=\"ms_AlaH\" stddev=\"0.005\" weight=\"0\">0.989</datum>", "")
        assertMessage(documentError(ms), line: lineOf("<group id=\"ms_AlaH\"", in: ms), contains: "ms_AlaH", "M+0")
        let none = measuredDocument(measurementA: """
            <measurement><model><fluxmeasurement>
              <netflux id="fm_upt"><textual>upt</textual></netflux>
            </fluxmeasurement></model></measurement>
            """)
        assertMessage(documentError(none), line: lineOf("<netflux id=\"fm_upt\"><textual>", in: none), contains: "no <data>")
    }

    func testAtomOutOfRange() {
        let text = variantA("Ala[4-5]#M0,1", "Ala[4-6]#M0,1")
        assertMessage(documentError(text), line: lineOf("Ala[4-6]", in: text),
                      contains: "ms_AlaH", "atoms 4-6 outside 1...5", "3 C + 2 H")
        let zero = variantA("Pyr[1,3]#M2,0,1", "Pyr[0,3]#M2,0,1")
        assertMessage(documentError(zero), line: lineOf("Pyr[0,3]", in: zero), contains: "atom 0 outside")
        let twice = variantA("Pyr[1,3]#M2,0,1", "Pyr[1,1-3]#M2,0,1")
        assertMessage(documentError(twice), line: lineOf("Pyr[1,1-3]", in: twice), contains: "listed twice")
        let huge = variantA("Pyr[1,3]#M2,0,1", "Pyr[1-99999999999999]#M2,0,1")
        assertMessage(documentError(huge), line: lineOf("Pyr[1-9", in: huge), contains: "outside")
        let m = variantA("Pyr[1,3]#M2,0,1", "Pyr[1,3]#M3,0,1")
        assertMessage(documentError(m), line: lineOf("Pyr[1,3]#M3", in: m), contains: "M+3 is impossible")
    }

    func testDuplicateDatum() {
        let dup = "<datum id=\"ms_Pyr\" stddev=\"1e-2\" weight=\"1\">0.5</datum>"
        let text = variantA(dup, dup + "\n" + dup.replacingOccurrences(of: "0.5", with: "0.4"))
        assertMessage(documentError(text), line: lineOf(dup, in: text) + 1,
                      contains: "ms_Pyr", "duplicate datum for M+1", "line \(lineOf(dup, in: text))")
        let f = "<datum id=\"fx_r2\" stddev=\"0.1\">0.3</datum>"
        let ftext = variantA(f, f + "\n" + f)
        assertMessage(documentError(ftext), line: lineOf(f, in: ftext) + 1, contains: "fx_r2", "duplicate datum (first")
    }

    func testNonFiniteValueAndStddev() {
        for bad in ["nan", "1e999", "inf", "0x10", "", "abc"] {
            let text = variantA(">0.3</datum>", ">\(bad)</datum>")
            assertMessage(documentError(text), line: lineOf("<datum id=\"fx_r2\"", in: text), contains: "fx_r2", "not a finite number")
        }
        for bad in ["0", "-0.1", "nan", "inf", "x"] {
            let text = variantA("stddev=\"0.1\"", "stddev=\"\(bad)\"")
            assertMessage(documentError(text), line: lineOf("<datum id=\"fx_r2\"", in: text), contains: "stddev", "> 0")
        }
        let negative = variantA(">0.52</datum>", ">-0.52</datum>")
        assertMessage(documentError(negative), line: lineOf("-0.52", in: negative), contains: "negative")
    }

    func testMissingStddevAndWeight() {
        let text = variantA("<datum id=\"fx_r2\" stddev=\"0.1\">", "<datum id=\"fx_r2\">")
        assertMessage(documentError(text), line: lineOf("<datum id=\"fx_r2\">", in: text), contains: "fx_r2", "'stddev'")
        let w = variantA("stddev=\"0.005\" weight=\"1\"", "stddev=\"0.005\"")
        assertMessage(documentError(w), line: lineOf("<datum id=\"ms_AlaH\" stddev=\"0.005\">", in: w), contains: "'weight'")
        let notListed = variantA("stddev=\"0.005\" weight=\"1\"", "stddev=\"0.005\" weight=\"2\"")
        assertMessage(documentError(notListed), line: lineOf("weight=\"2\">0.011", in: notListed),
                      contains: "weight=\"2\"", "M0,1")
        let fluxWeight = variantA("<datum id=\"fx_r2\" stddev=\"0.1\">", "<datum id=\"fx_r2\" stddev=\"0.1\" weight=\"0\">")
        assertMessage(documentError(fluxWeight), line: lineOf("<datum id=\"fx_r2\"", in: fluxWeight), contains: "not allowed for a flux")
    }

    func testNonStationaryRefused() {
        let text = variantA("<datum id=\"fx_r2\" stddev=\"0.1\">", "<datum id=\"fx_r2\" stddev=\"0.1\" time=\"0.5\">")
        assertMessage(documentError(text), line: lineOf("time=\"0.5\"", in: text), contains: "non-stationary", "steady state")
        let times = variantA("<group id=\"ms_Pyr\">", "<group id=\"ms_Pyr\" times=\"0.1 0.2\">")
        assertMessage(documentError(times), line: lineOf("times=", in: times), contains: "ms_Pyr", "'times'")
    }

    func testOtherGroupKindsRefused() {
        let cases: [(String, String)] = [
            ("Ala[1-3:2-3]#M(1,0),(1,1)", "MS/MS"),
            ("Ala[1-3]#M(1,0),(2,0)", "MS/MS"),
            ("Ala#P1,2", "1H-NMR"),
            ("Ala#S1,DL2", "13C-NMR"),
            ("Ala#1x0xx", "cumomer"),
            ("Ala[1-3]", "not an MS spec"),
            ("Ala#M0,1;Pyr#M0,1", "several specs"),
            ("0.5*Ala#1xxxx+Pyr#x1xxx", "not supported"),
        ]
        for (spec, needle) in cases {
            let text = variantA("Ala[1-3]#M0,1,2,3", spec)
            assertMessage(documentError(text), line: lineOf(spec, in: text), contains: "ms_Ala", needle)
        }
        let math = variantA("<textual>Ala[4-5]#M0,1</textual>", "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"/>")
        assertMessage(documentError(math), line: lineOf("<math", in: math), contains: "MathML")
        let ratio = variantA("<poolsizemeasurement/>", "<fluxratios><netratio id=\"q\"><textual>r2/upt</textual></netratio></fluxratios>")
        assertMessage(documentError(ratio), line: lineOf("<netratio", in: ratio), contains: "flux ratio")
        let pools = variantA("<poolsizemeasurement/>", "<poolsizemeasurement>\n<poolsize id=\"p\"><textual>Ala</textual></poolsize></poolsizemeasurement>")
        assertMessage(documentError(pools), line: lineOf("<poolsize id", in: pools), contains: "pool size")
        let scale = variantA("scale=\"one\"", "scale=\"none\"")
        assertMessage(documentError(scale), line: lineOf("scale=\"none\"", in: scale), contains: "scale", "\"auto\" or \"one\"")
    }

    func testFluxFormulas() {
        let ratio = variantA("2*r2 - out", "r2/out")
        assertMessage(documentError(ratio), line: lineOf("r2/out", in: ratio), contains: "fm_comb", "linear combination")
        let product = variantA("2*r2 - out", "r2*out")
        assertMessage(documentError(product), line: lineOf("r2*out", in: product), contains: "not linear")
        let constant = variantA("2*r2 - out", "r2 + 1")
        assertMessage(documentError(constant), line: lineOf("r2 + 1", in: constant), contains: "constant")
        let oneWay = variantA("<xchflux id=\"fx_r2\"><textual>r2</textual>", "<xchflux id=\"fx_r2\"><textual>out</textual>")
        assertMessage(documentError(oneWay), line: lineOf("<xchflux id=\"fx_r2\"><textual>out", in: oneWay),
                      contains: "fx_r2", "one-way")
    }

    func testConflictingFluxMeasurementsNameBothLines() {
        let b = standardMeasurementB.replacingOccurrences(of: "<datum id=\"fm_upt\" stddev=\"0.05\">1.0</datum>",
                                                          with: "<datum id=\"fm_upt\" stddev=\"0.05\">1.2</datum>")
        let text = measuredDocument(measurementB: b)
        let first = lineOf("<datum id=\"fm_upt\"", in: text, occurrence: 1)
        let second = lineOf("<datum id=\"fm_upt\"", in: text, occurrence: 2)
        assertMessage(documentError(text), line: second, contains: "'fm_upt'", "conflicts", "line \(first)", "1.2")
    }

    func testConflictingLabelingInOneExperiment() {
        let text = variantA("Pyr[1,3]#M2,0,1", "Ala[1-3]#M0,1,2")
        assertMessage(documentError(text), line: lineOf("<group id=\"ms_Pyr\"", in: text),
                      contains: "ms_Pyr", "again", "ms_Ala", "line \(lineOf("<group id=\"ms_Ala\"", in: text))")
    }

    func testDuplicateGroupId() {
        let text = variantA("<netflux id=\"fm_comb\">", "<netflux id=\"ms_Ala\">")
        assertMessage(documentError(text), line: lineOf("<netflux id=\"ms_Ala\"", in: text), contains: "duplicate measurement id")
    }

    func testLongIdsAreQuotedShort() {
        let long = String(repeating: "x", count: 5000)
        let text = variantA("<datum id=\"fx_r2\"", "<datum id=\"\(long)\"")
        let e = documentError(text)
        XCTAssertLessThan("\(e!)".count, 1200, "\(e!)")
    }
}
