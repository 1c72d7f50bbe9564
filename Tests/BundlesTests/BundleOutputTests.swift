import Bundles
import Foundation
import Testing
import TestSupport

/// Writes into a bundle: manifest rewrites keep unknown fields, outputs stay inside the bundle.
@Suite struct BundleOutputTests {
    @Test func registerKeepsUnknownFieldsAndEarlierFiles() throws {
        let dir = TempDir()
        let folder = makeToyBundle(in: dir, folder: "b", name: "b",
                                   ["files": ["old": "fluxes.json"], "zzFuture": ["nested": [1, "two/3"]], "aNote": "kept"])
        dir.write("b/w.bin", "weights")
        let bundle = try ModelBundle.load(directory: folder, networkSearchPath: repoNetworks)
        try bundle.register(files: ["w": "w.bin"])
        let data = try #require(FileManager.default.contents(atPath: folder + "/manifest.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["aNote"] as? String == "kept")
        let future = json["zzFuture"] as? [String: Any]
        #expect((future?["nested"] as? [Any])?.count == 2 && (future?["nested"] as? [Any])?.last as? String == "two/3")
        #expect(json["files"] as? [String: String] == ["old": "fluxes.json", "w": "w.bin"])
        #expect(json["name"] as? String == "b")
        // Still a loadable bundle, and the manifest is not left as a temporary file.
        #expect(try ModelBundle.load(directory: folder, networkSearchPath: repoNetworks).manifest.files?["w"] == "w.bin")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".tmp-") }.isEmpty)
    }

    @Test func outputsLeavingTheBundleAreRefused() throws {
        let dir = TempDir()
        let folder = makeToyBundle(in: dir, folder: "b", name: "b")
        let outside = dir.write("outside/evaluation-test.json", "precious")
        try FileManager.default.createSymbolicLink(atPath: folder + "/reports",
                                                   withDestinationPath: (outside as NSString).deletingLastPathComponent)
        let bundle = try ModelBundle.load(directory: folder, networkSearchPath: repoNetworks)
        #expect { try bundle.outputPath("reports/evaluation-test.json") } throws: { e in
            "\(e)".hasPrefix(folder + "/reports: is a symlink leaving the bundle")
        }
        #expect(String(decoding: FileManager.default.contents(atPath: outside) ?? Data(), as: UTF8.self) == "precious")
        #expect(try bundle.outputPath("ann.safetensors") == folder + "/ann.safetensors")
        #expect(throws: (any Error).self) { try bundle.outputPath("../elsewhere.json") }
    }
}
