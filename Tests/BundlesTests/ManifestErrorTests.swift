import Bundles
import Foundation
import Testing
import TestSupport

/// Loads a toy bundle with `overrides` and returns the error it throws.
private func loadError(_ overrides: [String: Any?], setup: (TempDir) -> Void = { _ in }) -> (BundleError?, String) {
    let dir = TempDir()
    let folder = makeToyBundle(in: dir, folder: "b", name: "b", overrides)
    setup(dir)
    do {
        _ = try ModelBundle.load(directory: folder, networkSearchPath: repoNetworks)
        return (nil, folder + "/manifest.json")
    } catch let e as BundleError {
        return (e, folder + "/manifest.json")
    } catch {
        Issue.record("unexpected error type: \(error)")
        return (nil, folder + "/manifest.json")
    }
}

@Suite struct ManifestErrorTests {
    @Test(arguments: ["name", "description", "network", "experiments", "measured", "freeFluxes", "exampleFluxes"])
    func missingField(_ field: String) {
        let (error, manifest) = loadError([field: nil])
        #expect(error == .missingField(manifest: manifest, field: field))
        #expect(error?.description == "manifest \(manifest): field '\(field)' is missing")
    }

    @Test func wrongType() {
        let (error, manifest) = loadError(["experiments": "A_100"])
        #expect(error == .wrongType(manifest: manifest, field: "experiments", expected: "a list"))
        #expect(error?.description.contains("field 'experiments'") == true)
    }

    @Test func invalidJSON() throws {
        let dir = TempDir()
        let path = dir.write("b/manifest.json", "{\"name\": ")
        #expect(throws: BundleError.self) { try BundleManifest.read(contentsOf: path) }
        do { _ = try BundleManifest.read(contentsOf: path) } catch { #expect("\(error)".contains(path)) }
    }

    @Test func unknownNetwork() {
        let (error, manifest) = loadError(["network": "nosuchnet"])
        #expect(error?.manifest == manifest)
        #expect(error?.field == "network")
        #expect(error?.description.contains("unknown network 'nosuchnet'") == true)
    }

    @Test func absolutePaths() {
        for (field, value) in [("network", "/etc/toy.fml"), ("exampleFluxes", "/tmp/fluxes.json")] {
            let (error, manifest) = loadError([field: value])
            #expect(error == .fileOutsideBundle(manifest: manifest, field: field, path: value))
        }
        let (error, manifest) = loadError(["files": ["weights": "/etc/passwd"]])
        #expect(error == .fileOutsideBundle(manifest: manifest, field: "files.weights", path: "/etc/passwd"))
    }

    @Test func dotDotPaths() {
        for (field, value) in [("network", "../toy.fml"), ("exampleFluxes", "../b/fluxes.json")] {
            let (error, manifest) = loadError([field: value])
            #expect(error == .fileOutsideBundle(manifest: manifest, field: field, path: value))
        }
    }

    @Test func symlinkLeavingBundle() throws {
        let (error, manifest) = loadError(["exampleFluxes": "link.json"]) { dir in
            dir.write("outside.json", toyFluxes)
            try! FileManager.default.createSymbolicLink(atPath: dir.path + "/b/link.json",
                                                        withDestinationPath: dir.path + "/outside.json")
        }
        #expect(error == .fileOutsideBundle(manifest: manifest, field: "exampleFluxes", path: "link.json"))
    }

    @Test func missingFile() {
        let (error, manifest) = loadError(["exampleFluxes": "nope.json"])
        #expect(error == .missingFile(manifest: manifest, field: "exampleFluxes", path: "nope.json"))
    }

    @Test func unknownExperiment() {
        let (error, manifest) = loadError(["experiments": ["A_100", "A_111"]])
        #expect(error?.manifest == manifest)
        #expect(error?.field == "experiments[1]")
        #expect(error?.description.contains("unknown experiment 'A_111'") == true)
    }

    @Test func unknownMetabolite() {
        let (error, manifest) = loadError(["measured": ["molF", "molZ"]])
        #expect(error?.manifest == manifest)
        #expect(error?.field == "measured[1]")
        #expect(error?.description.contains("unknown metabolite 'molZ'") == true)
    }

    @Test func atomOutOfRange() {
        let (error, _) = loadError(["measured": ["molF[1-4]"]])
        #expect(error?.field == "measured[0]")
    }

    @Test func freeFluxesMustBeAChoiceOfTheNetwork() {
        let (error, _) = loadError(["freeFluxes": ["v1.net", "v3.net"]])
        #expect(error?.field == "freeFluxes")
        let (unknown, _) = loadError(["freeFluxes": ["v1.net", "v9.net", "v2.xch"]])
        #expect(unknown?.field == "freeFluxes[1]")
    }

    @Test func validBundleLoads() throws {
        let dir = TempDir()
        let folder = makeToyBundle(in: dir, folder: "b", name: "b")
        let b = try ModelBundle.load(directory: folder, networkSearchPath: repoNetworks)
        #expect(b.experiments.map(\.id) == ["A_100", "A_010"])
        #expect(b.network.experiments.map(\.id) == ["A_100", "A_010"])
        #expect(b.measured.map(\.name) == ["molF", "molD", "molB_1:3"])
        #expect(b.measured[2].atoms == [0, 2])
        let s = try b.exampleFluxState()
        #expect(b.basis.violations(of: s, in: b.network, tolerance: 1e-9).isEmpty)
    }
}
