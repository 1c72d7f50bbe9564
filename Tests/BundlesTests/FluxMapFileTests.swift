@testable import Bundles
import Foundation
import MLFluxCore
import Prediction
import Testing
import TestSupport

/// A bundle's map file (`files.map`): coordinates that pin pools, validated with one line naming
/// the file and the field; and the Escher reaction data of a prediction.
@Suite struct FluxMapFileTests {
    /// A toy bundle whose manifest names `map.json` with `text` as its content.
    private func bundle(map text: String, in dir: TempDir) throws -> ModelBundle {
        let folder = makeToyBundle(in: dir, folder: "b", name: "b", ["files": ["map": "map.json"]])
        dir.write("b/map.json", text)
        return try ModelBundle.load(directory: folder, networkSearchPath: repoNetworks)
    }

    private func mapError(_ text: String) throws -> MapFileError? {
        let dir = TempDir()
        let b = try bundle(map: text, in: dir)
        do { _ = try b.mapCoordinates(); return nil } catch let e as MapFileError { return e }
    }

    @Test func pinnedPoolsKeepTheirCoordinates() throws {
        let dir = TempDir()
        let b = try bundle(map: #"{"pools": {"molA": [300, 20], "molF": [300, 520]}, "reactions": {"v4": [420, 300]}}"#, in: dir)
        let coordinates = try #require(try b.mapCoordinates())
        #expect(coordinates.pools["molA"] == MapPoint(x: 300, y: 20))
        let layout = try b.fluxMapLayout()
        let a = try #require(layout.node(pool: b.network.poolIndex["molA"]!)).center
        let f = try #require(layout.node(pool: b.network.poolIndex["molF"]!)).center
        let v4 = layout.nodes[try #require(layout.reactionNode[b.network.reactionIndex["v4"]!])].center
        // The layout is shifted to start at 0; distances between pinned nodes stay.
        #expect(f.x - a.x == 0 && f.y - a.y == 500)
        #expect(v4.x - a.x == 120 && v4.y - a.y == 280)
        for i in layout.nodes.indices { for k in layout.nodes.indices where k > i {
            #expect(!FluxMapLayout.overlap(layout.nodes[i], layout.nodes[k]))
        } }
    }

    @Test func noMapFileMeansAutomaticLayout() throws {
        let dir = TempDir()
        let folder = makeToyBundle(in: dir, folder: "b", name: "b")
        let b = try ModelBundle.load(directory: folder, networkSearchPath: repoNetworks)
        #expect(try b.mapCoordinates() == nil)
    }

    /// `bundle check` reads the map file too (drawing a map is not the first place to find out).
    @Test func bundleCheckReportsABadMapFile() throws {
        let dir = TempDir()
        _ = try bundle(map: #"{"pools": {"molZ": [1, 2]}}"#, in: dir)
        let problems = BundleCheck.problems(directory: dir.path + "/b", networkSearchPath: repoNetworks)
        #expect(problems.contains { $0.contains("map.json: field 'pools.molZ'") }, "\(problems)")
        let good = TempDir()
        _ = try bundle(map: #"{"pools": {"molA": [1, 2]}}"#, in: good)
        #expect(!BundleCheck.problems(directory: good.path + "/b", networkSearchPath: repoNetworks).contains { $0.contains("map.json") })
    }

    @Test func unknownPoolIsNamedWithTheFile() throws {
        let e = try #require(try mapError(#"{"pools": {"molA": [0, 0], "molZ": [10, 10]}}"#))
        #expect(e.file.hasSuffix("/b/map.json") && e.field == "pools.molZ")
        #expect(e.description.contains("map.json: field 'pools.molZ': unknown pool 'molZ'"), "\(e)")
        #expect(!e.description.contains("\n"))
    }

    @Test func badValuesAreNamed() throws {
        #expect(try mapError(#"{"pools": {"molA": [1, "x"]}}"#)?.field == "pools.molA")
        #expect(try mapError(#"{"pools": {"molA": [1]}}"#)?.field == "pools.molA")
        #expect(try mapError(#"{"pools": {"molA": [true, 2]}}"#)?.field == "pools.molA")
        #expect(try mapError(#"{"pools": {"molA": [1e300, 2]}}"#)?.field == "pools.molA")
        #expect(try mapError(#"{"reactions": {"v9": [1, 2]}}"#)?.field == "reactions.v9")
        #expect(try mapError(#"{"pool": {}}"#)?.field == "pool")
        #expect(try mapError(#"[1, 2]"#)?.field == nil)
        #expect(try mapError(#"{"pools": "#)?.reason == "not valid JSON")
    }

    @Test func escherDataRoundTripsToTheNetFluxes() throws {
        let net = try toyNetwork()
        let basis = try FreeFluxBasis(network: net, preferFree: ["v1.net", "v3.net", "v2.xch"])
        let p = FluxPrediction(free: [1, 0.2 / 3, 0.5], freeSE: [0, 0, 0], basis: basis, network: net)
        let text = EscherReactionData.json(network: net, net: p.net)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Double])
        #expect(object.count == net.reactions.count)
        // Foundation's JSON parser on Linux may be off by an ulp of the shortest decimal form.
        for (j, r) in net.reactions.enumerated() { #expect(abs(object[r.id]! - p.net[j]) <= 4 * p.net[j].ulp, "\(r.id)") }
        // Mass balance of molB survives the round trip: v1 = v2 + v3 + v4.
        #expect(abs(object["v1"]! - object["v2"]! - object["v3"]! - object["v4"]!) < 1e-12)
    }
}
