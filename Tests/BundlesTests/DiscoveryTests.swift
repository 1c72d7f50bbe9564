import Bundles
import Foundation
import Testing
import TestSupport

@Suite struct DiscoveryTests {
    @Test func searchOrderAndShadowing() throws {
        let first = TempDir(), second = TempDir()
        makeToyBundle(in: first, folder: "a", name: "alpha")
        makeToyBundle(in: first, folder: "b", name: "shared")
        makeToyBundle(in: second, folder: "c", name: "shared")
        makeToyBundle(in: second, folder: "d", name: "delta")
        let registry = BundleRegistry(searchPaths: SearchPaths(plugins: [first.path, second.path], networks: repoNetworks))
        #expect(registry.names == ["alpha", "shared", "delta"])
        #expect(registry.candidate(named: "shared")?.directory == first.path + "/b")
        let shadowed = registry.candidates.filter { $0.shadowedBy != nil }
        #expect(shadowed.map(\.directory) == [second.path + "/c"])
        #expect(shadowed.first?.shadowedBy == first.path + "/b")

        // Reversed search path: the other one wins.
        let reversed = BundleRegistry(searchPaths: SearchPaths(plugins: [second.path, first.path], networks: repoNetworks))
        #expect(reversed.candidate(named: "shared")?.directory == second.path + "/c")
    }

    @Test func brokenBundleHidesNothing() throws {
        let dir = TempDir()
        dir.write("aaa/manifest.json", "{ not json")
        makeToyBundle(in: dir, folder: "bbb", name: "good")
        let registry = BundleRegistry(searchPaths: SearchPaths(plugins: [dir.path], networks: repoNetworks))
        #expect(registry.names == ["good"])
        let statuses = registry.loadAll()
        #expect(statuses.count == 2)
        guard case .failed(let c, let error) = statuses[0] else { Issue.record("expected a failure"); return }
        #expect(c.directory == dir.path + "/aaa")
        #expect("\(error)".contains(dir.path + "/aaa/manifest.json"))
        guard case .loaded(let b) = statuses[1] else { Issue.record("expected a loaded bundle: \(statuses[1])"); return }
        #expect(b.name == "good")
    }

    @Test func folderThatIsABundleAndMissingFolders() {
        let dir = TempDir()
        let bundle = makeToyBundle(in: dir, folder: "single", name: "single")
        let registry = BundleRegistry(searchPaths: SearchPaths(plugins: ["/nonexistent/mlflux", bundle]))
        #expect(registry.names == ["single"])
    }

    @Test func unknownModelListsKnownNames() {
        let dir = TempDir()
        makeToyBundle(in: dir, folder: "x", name: "xray")
        let registry = BundleRegistry(searchPaths: SearchPaths(plugins: [dir.path], networks: repoNetworks))
        #expect(throws: UnknownModelError.self) { try registry.load("nope") }
        do { _ = try registry.load("nope") } catch { #expect("\(error)".contains("xray")) }
    }

    @Test func standardSearchPath() {
        let env = ["MLFLUX_PLUGIN_PATH": "/p1:/p2", "HOME": "/home/u", "XDG_DATA_HOME": "/xdg",
                   "MLFLUX_NETWORK_PATH": "/n1"]
        let paths = SearchPaths.standard(environment: env, currentDirectory: repositoryRoot())
        #if os(macOS)
        #expect(paths.plugins == ["/p1", "/p2", repositoryRoot() + "/Plugins", "/home/u/Library/Application Support/mlflux/plugins"])
        #else
        #expect(paths.plugins == ["/p1", "/p2", repositoryRoot() + "/Plugins", "/xdg/mlflux/plugins"])
        #expect(SearchPaths.userPluginFolder(environment: ["HOME": "/home/u"]) == "/home/u/.local/share/mlflux/plugins")
        #endif
        #expect(paths.networks == [repositoryRoot() + "/Networks", "/n1"])
    }

    @Test func networkBesidePluginFolderWins() throws {
        let dir = TempDir()
        // <root>/Networks/mini.fml beside <root>/Plugins/
        let toy = try String(contentsOfFile: networkPath("toy"), encoding: .utf8)
        dir.write("Networks/mini.fml", toy)
        makeToyBundle(in: dir, folder: "Plugins/m", name: "m", ["network": "mini"])
        let registry = BundleRegistry(searchPaths: SearchPaths(plugins: [dir.path + "/Plugins"]))
        let b = try registry.load("m")
        #expect(b.networkPath == dir.path + "/Networks/mini.fml")
    }

    @Test func networkFileInsideBundle() throws {
        let dir = TempDir()
        let toy = try String(contentsOfFile: networkPath("toy"), encoding: .utf8)
        dir.write("b/network.fml", toy)
        makeToyBundle(in: dir, folder: "b", name: "b", ["network": "network.fml"])
        let b = try ModelBundle.load(directory: dir.path + "/b")
        #expect(b.networkPath == dir.path + "/b/network.fml")
    }
}
