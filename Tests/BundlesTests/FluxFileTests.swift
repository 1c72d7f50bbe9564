import Bundles
import Foundation
import MLFluxCore
import Testing
import TestSupport

@Suite struct FluxFileTests {
    let network: MetabolicNetwork
    init() throws { network = try toyNetwork() }

    private func error(_ json: String) -> FluxFileError? {
        do {
            _ = try FluxStateFile.decode(Data(json.utf8), path: "f.json", network: network)
            return nil
        } catch let e as FluxFileError { return e } catch { return nil }
    }

    @Test func readsNetAndExchangeAndFillsZeros() throws {
        let s = try FluxStateFile.decode(Data(#"{"v1": {"net": 1}, "v2": {"net": 0.6, "xch": 0.5}}"#.utf8),
                                         path: "f.json", network: network)
        #expect(s.net == [1, 0.6, 0, 0, 0, 0, 0])
        #expect(s.exchange == [0, 0.5, 0, 0, 0, 0, 0])
    }

    @Test func errorsNameFileAndReaction() {
        #expect(error(#"{"v9": {"net": 1}}"#) == FluxFileError(file: "f.json", reaction: "v9", reason: "not a reaction of network 'toy'"))
        #expect(error(#"{"v2": {"xch": 1}}"#)?.reaction == "v2")
        #expect(error(#"{"v2": {"net": "x"}}"#)?.reaction == "v2")
        #expect(error(#"{"v2": {"net": 1, "xch": -1}}"#)?.reaction == "v2")
        #expect(error(#"{"v1": {"net": 1, "xch": 1}}"#)?.reaction == "v1")
        #expect(error(#"{"v2": {"net": 1, "nett": 1}}"#)?.reaction == "v2")
        #expect(error("[1, 2]")?.file == "f.json")
        #expect(error("{")?.description.hasPrefix("f.json: ") == true)
    }

    @Test func encodeRoundTrips() throws {
        let s = FluxState(net: [1, 0.6, 0.2, 0.2, 0.8, 0.6, 0.8], exchange: [0, 0.5, 0, 0, 0, 0, 0])
        let text = FluxStateFile.encode(s, network: network)
        #expect(try FluxStateFile.decode(Data(text.utf8), path: "x", network: network) == s)
    }
}

@Suite struct SpecTests {
    @Test func measuredSpecs() throws {
        let n = try toyNetwork()
        #expect(try MeasuredSpec.parse("molF", in: n) == MeasuredFragment(name: "molF", pool: "molF", atoms: [0, 1, 2]))
        #expect(try MeasuredSpec.parse("molF[1-3]", in: n).name == "molF")
        #expect(try MeasuredSpec.parse("molF[1,3]", in: n) == MeasuredFragment(name: "molF_1:3", pool: "molF", atoms: [0, 2]))
        #expect(try MeasuredSpec.parse("molD[2-3]", in: n).atoms == [1, 2])
        for bad in ["molQ", "molF[0]", "molF[1-4]", "molF[", "molF[a]", "molF[1,1]", "[1]"] {
            #expect(throws: MeasuredSpec.ParseError.self) { try MeasuredSpec.parse(bad, in: n) }
        }
    }

    @Test func tracerSpecs() throws {
        let n = try toyNetwork()
        let e = try TracerSpec.experiment(id: "x", specs: ["molA=100:0.3", "molA=010:0.2"], network: n)
        #expect(e.inputs.count == 1)
        #expect(e.inputs[0].components.map(\.fraction) == [0.3, 0.2])
        #expect(abs(e.inputs[0].unlabeledFraction - 0.5) < 1e-12)
        #expect(try TracerSpec.experiment(id: "x", specs: ["molA=111"], network: n).inputs[0].components[0].fraction == 1)
        for bad in [["molA"], ["molB=100"], ["molA=10"], ["molA=1x0"], ["molA=100:2"], ["molA=100:0.6", "molA=010:0.6"], ["molQ=1"]] {
            #expect(throws: TracerSpec.ParseError.self) { try TracerSpec.experiment(id: "x", specs: bad, network: n) }
        }
    }
}
