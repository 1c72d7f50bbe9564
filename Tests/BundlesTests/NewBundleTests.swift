import Bundles
import FluxSampling
import Foundation
import MLFluxCore
import Prediction
import Testing
import TestSupport

/// Every constraint and mass balance of `network` checked by hand on `state` (independent of
/// `FreeFluxBasis.violations`).
private func handChecked(_ state: FluxState, _ network: MetabolicNetwork, tolerance: Double = 1e-8) -> [String] {
    var out: [String] = []
    for (k, row) in network.stoichiometry.enumerated() {
        let r = zip(row, state.net).reduce(0) { $0 + $1.0 * $1.1 }
        if abs(r) > tolerance { out.append("pool \(network.balancedPools[k].id): S·v = \(r)") }
    }
    for c in network.constraints {
        let v = c.kind == .net ? state.net : state.exchange
        let lhs = c.terms.reduce(0) { $0 + $1.coefficient * v[network.reactionIndex[$1.reaction]!] }
        let ok: Bool
        switch c.relation {
        case .equal: ok = abs(lhs - c.constant) <= tolerance
        case .lessOrEqual: ok = lhs <= c.constant + tolerance
        case .greaterOrEqual: ok = lhs >= c.constant - tolerance
        }
        if !ok { out.append("\(c): lhs \(lhs)") }
    }
    for j in network.reactions.indices {
        if network.isBidirectional[j] { if state.exchange[j] < -tolerance { out.append("\(network.reactions[j].id) xch < 0") } }
        else if state.net[j] < -tolerance || abs(state.exchange[j]) > tolerance { out.append("\(network.reactions[j].id) one-way") }
    }
    return out
}

/// A random small network: input `IN` (2 C) taken up at rate 1 into P0; pools P0…P(n-1) (2 C)
/// joined by random reversible reactions Pi → Pj (i < j) with random net and exchange bounds,
/// and an efflux from every pool.
private func randomNetwork(seed: UInt64, pools n: Int) throws -> MetabolicNetwork {
    var rng = SplitMix64(seed: seed)
    func s(_ p: String) -> ReactionParticipant { ReactionParticipant(pool: p, atomMap: "ab") }
    var pools = [Pool(id: "IN", carbons: 2)]
    var reactions = [Reaction(id: "up", substrates: [s("IN")], products: [s("P0")])]
    var constraints = [FluxConstraint(kind: .net, reaction: "up", .equal, 1)]
    for i in 0..<n {
        pools.append(Pool(id: "P\(i)", carbons: 2))
        reactions.append(Reaction(id: "out\(i)", substrates: [s("P\(i)")], products: []))
    }
    for i in 0..<n {
        for j in (i + 1)..<max(i + 1, n) where j == i + 1 || Double.random(in: 0..<1, using: &rng) < 0.4 {
            let id = "r\(i)_\(j)"
            reactions.append(Reaction(id: id, substrates: [s("P\(i)")], products: [s("P\(j)")]))
            let u = Double.random(in: 0.2...2, using: &rng)
            constraints.append(FluxConstraint(kind: .net, reaction: id, .lessOrEqual, u))
            constraints.append(FluxConstraint(kind: .net, reaction: id, .greaterOrEqual, -u / 2))
            constraints.append(FluxConstraint(kind: .exchange, reaction: id, .lessOrEqual, Double.random(in: 1...50, using: &rng)))
        }
    }
    return try MetabolicNetwork(name: "random\(seed)", pools: pools, reactions: reactions, constraints: constraints,
                                experiments: [TracerExperiment(id: "IN_10", inputs: [TracerInput(pool: "IN", components: [TracerComponent(pattern: "10", fraction: 1)!])])])
}

@Suite struct NewBundleTests {
    @Test(arguments: ["toy", "glycolysis", "glyppp", "ccm"])
    func exampleStateOfEveryShippedNetworkIsFeasible(_ name: String) throws {
        let dir = TempDir()
        var request = NewBundleRequest(name: "n-\(name)", networkFile: networkPath(name))
        request.exampleSamples = 64
        let bundle = try NewBundle.create(request, at: dir.path + "/b")
        let state = try bundle.exampleFluxState()
        #expect(handChecked(state, bundle.network).isEmpty, "\(handChecked(state, bundle.network))")
        // Strictly inside every inequality that does not hold with equality everywhere: the mean
        // of sampled states, not a vertex.
        #expect(bundle.basis.names.count == bundle.manifest.freeFluxes.count)
        #expect(bundle.network.experiments.count == (try loadNetwork(name)).experiments.count)
        #expect(bundle.networkPath == dir.path + "/b/\(name).fml", "the network is copied into the bundle")
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func exampleStateOfRandomNetworkIsFeasible(_ seed: UInt64) throws {
        let network = try randomNetwork(seed: seed, pools: 5)
        let basis = try FreeFluxBasis(network: network)
        let state = try NewBundle.exampleState(network: network, basis: basis, samples: 32, seed: seed)
        #expect(handChecked(state, network).isEmpty, "\(handChecked(state, network))")
        #expect(abs(state.net[network.reactionIndex["up"]!] - 1) < 1e-12)
        // Total efflux equals the uptake (carbon conservation of the whole network).
        let efflux = (0..<5).reduce(0.0) { $0 + state.net[network.reactionIndex["out\($1)"]!] }
        #expect(abs(efflux - 1) < 1e-9)
    }

    @Test func partialPreferenceIsHonouredAndCompleted() throws {
        let dir = TempDir()
        var request = NewBundleRequest(name: "p", networkFile: networkPath("toy"))
        request.preferFree = ["v4.net"]
        let bundle = try NewBundle.create(request, at: dir.path + "/b")
        // toy has 2 free net fluxes (v1 fixed) and 1 free exchange (v2): v4 replaces v3.
        #expect(bundle.manifest.freeFluxes == ["v1.net", "v4.net", "v2.xch"])
    }

    @Test func refusesAnExistingFolderAndLeavesItAlone() throws {
        let dir = TempDir()
        dir.write("b/mine.txt", "user data")
        do {
            _ = try NewBundle.create(NewBundleRequest(name: "x", networkFile: networkPath("toy")), at: dir.path + "/b")
            Issue.record("an existing folder was accepted")
        } catch {
            #expect("\(error)".hasPrefix(dir.path + "/b: exists; bundle new makes a new folder and overwrites nothing"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/b") == ["mine.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["b"], "no staging folder left behind")
    }

    @Test func tracersAndBoundsBesideTheNetwork() throws {
        let dir = TempDir()
        let bounds = dir.write("bounds.csv", "reaction,kind,lower,upper\nv3,net,,0.25\n\"v2\",xch,2,10\n")
        var request = NewBundleRequest(name: "side", networkFile: networkPath("toy"))
        request.tracers = ["molA=100:0.5+molA=111:0.25", "molA=010"]
        request.constraintsFile = bounds
        let bundle = try NewBundle.create(request, at: dir.path + "/b")
        #expect(bundle.manifest.experiments == ["molA_100x0.5+molA_111x0.25", "molA_010"])
        #expect(bundle.experiments[0].inputs[0].unlabeledFraction == 0.25)
        // The flux space follows the table, not the FluxML's xch v2 <= 100: v3 in [0, 0.25], v2.xch in [2, 10].
        let sampler = try FluxSpaceSampler(network: bundle.network, basis: bundle.basis, settings: .automatic(for: bundle.basis))
        let k3 = bundle.basis.names.firstIndex(of: "v3.net")!, k2 = bundle.basis.names.firstIndex(of: "v2.xch")!
        #expect(abs(sampler.bounds[k3].upper - 0.25) < 1e-9 && abs(sampler.bounds[k3].lower) < 1e-9)
        #expect(abs(sampler.bounds[k2].lower - 2) < 1e-9 && abs(sampler.bounds[k2].upper - 10) < 1e-9)
        // The copied folder, moved elsewhere, loads on its own with the same network hash.
        let moved = TempDir()
        try FileManager.default.copyItem(atPath: bundle.directory, toPath: moved.path + "/Plugins/side")
        let registry = BundleRegistry(searchPaths: SearchPaths(plugins: ["/nonexistent", moved.path + "/Plugins"]))
        let again = try registry.load("side")
        #expect(again.manifest.experiments == bundle.manifest.experiments)
        #expect(try again.networkHash() == bundle.networkHash())
        #expect(try again.networkHash() != DatasetDescription.networkHash(networkFile: networkPath("toy")))
    }

    @Test func boundsTableErrorsNameTheLine() {
        func error(_ text: String) -> String {
            do { _ = try FluxBoundsTable.parse(text, file: "b.csv"); return "" } catch { return "\(error)" }
        }
        #expect(error("reaction,kind,lower,upper\nv1,net,1,x\n") .hasPrefix("b.csv:2: upper 'x'"))
        #expect(error("reaction,kind,lower,upper\nv1,net,2,1\n").hasPrefix("b.csv:2: lower 2.0"))
        #expect(error("reaction,kind,lower,upper\nv1,fwd,0,1\n").contains("must be net or xch"))
        #expect(error("reaction,kind,lower,upper\nv1,net,0,1\nv1,net,0,2\n").hasPrefix("b.csv:3: bounds of 'v1' (net) given twice (first on line 2)"))
        #expect(error("reaction,lower,upper\nv1,0,1\n").hasPrefix("b.csv:1: no 'kind' column"))
        let ok = try? FluxBoundsTable.parse("upper,lower,kind,reaction\n1,1,net,v1\n,0.5,xch,v2\n", file: "b.csv")
        #expect(ok == [FluxConstraint(kind: .net, reaction: "v1", .equal, 1, line: 2),
                       FluxConstraint(kind: .exchange, reaction: "v2", .greaterOrEqual, 0.5, line: 3)])
    }

    @Test func tracerTableErrorsNameTheLine() throws {
        let network = try loadNetwork("toy")
        func error(_ text: String) -> String {
            do { _ = try TracerTable.parse(text, file: "t.csv", network: network); return "" } catch { return "\(error)" }
        }
        #expect(error("experiment,pool,pattern\nE1,molA,10\n").hasPrefix("t.csv:2: pattern '10' must be 3 characters"))
        #expect(error("experiment,pool,pattern\nE1,molB,100\n").hasPrefix("t.csv:2: 'molB' is not an input pool"))
        #expect(error("experiment,pool,pattern,fraction\nE1,molA,100,0.7\nE1,molA,111,0.7\n").hasPrefix("t.csv:2: experiment 'E1': fractions of 'molA' sum to"))
        let e = try TracerTable.parse("experiment,pool,pattern,fraction\nA_100,molA,110,1\nNEW,molA,001,0.5\n", file: "t.csv", network: network)
        let merged = TracerTable.merged(e, into: network.experiments)
        #expect(merged.count == network.experiments.count + 1)
        #expect(merged[0].id == "A_100" && merged[0].inputs[0].components[0].patternString == "110", "same id: replaced")
        #expect(merged.last?.id == "NEW")
        #expect(try TracerTable.parse(TracerTable.format(e), file: "t.csv", network: network) == e)
    }

    @Test func aBundleWithSeveralDefectsReportsEachOfThem() throws {
        let dir = TempDir()
        let folder = makeToyBundle(in: dir, folder: "b", name: "b", [
            "description": nil,
            "experiments": ["A_100", "A_999", "A_010"],
            "measured": ["molB", "molZ", "molF[1-9]"],
            "freeFluxes": ["v1.net", "v9.net", "v3.net", "v2.xch"],
            "files": ["ann": "ann.safetensors", "imputer.knn": "../outside.safetensors"],
            "tracers": "missing.csv",
        ])
        dir.write("b/fluxes.json", toyFluxes.replacingOccurrences(of: "\"v3\": {\"net\": 0.2}", with: "\"v3\": {\"net\": 0.3}"))
        let problems = BundleCheck.problems(directory: folder, networkSearchPath: repoNetworks)
        let expected = ["field 'description' is missing", "field 'tracers': file 'missing.csv' does not exist",
                        "field 'experiments[1]': unknown experiment 'A_999'", "field 'measured[1]': unknown metabolite 'molZ'",
                        "field 'measured[2]': 'molF[1-9]': atom 4 is outside", "field 'freeFluxes[1]': unknown reaction 'v9'",
                        "field 'files.imputer.knn': file '../outside.safetensors' must be a relative path",
                        "fluxes.json: not a feasible state: pool 'molB' is not balanced",
                        "field 'files.ann': file 'ann.safetensors' does not exist"]
        for text in expected { #expect(problems.contains { $0.contains(text) }, "missing '\(text)' in\n\(problems.joined(separator: "\n"))") }
        #expect(problems.count == expected.count + 2, "\(problems.joined(separator: "\n"))") // molC and molE are unbalanced too
        #expect(BundleCheck.problems(directory: makeToyBundle(in: dir, folder: "good", name: "good"), networkSearchPath: repoNetworks).isEmpty)
    }

    @Test func weightsOfAnotherLayoutAreReported() throws {
        // The shipped toy ANN was trained on 6 experiments × 5 whole molecules; this bundle
        // measures 2 experiments × 3 fragments, so the weights cannot serve it.
        let dir = TempDir()
        let folder = makeToyBundle(in: dir, folder: "b", name: "b", ["files": ["ann": "ann.safetensors"]])
        try FileManager.default.copyItem(atPath: repositoryRoot() + "/Plugins/toy/ann.safetensors", toPath: folder + "/ann.safetensors")
        let problems = BundleCheck.problems(directory: folder, networkSearchPath: repoNetworks)
        #expect(problems.count == 2 && problems.allSatisfy { $0.hasPrefix("predictor 'ann' (files.ann = ann.safetensors)") || $0.hasPrefix("predictor 'hybrid' (files.ann = ann.safetensors)") },
                "\(problems.joined(separator: "\n"))")
    }

    @Test func shippedToyBundleHasNoProblems() {
        for name in ["toy"] {
            let problems = BundleCheck.problems(directory: repositoryRoot() + "/Plugins/" + name)
            #expect(problems.isEmpty, "\(name): \(problems)")
        }
    }

    @Test func resolvabilityOfAnUnlabeledTracerIsZero() throws {
        // With an unlabeled input every MID is M+0 = 1 whatever the fluxes: nothing is visible.
        let dir = TempDir()
        var request = NewBundleRequest(name: "u", networkFile: networkPath("toy"))
        request.tracers = ["molA=000"]
        let bundle = try NewBundle.create(request, at: dir.path + "/b")
        let survey = try BundleSurvey.survey(bundle, states: 4)
        let r = try #require(survey.resolvability)
        #expect(r.fluxes == ["v3.net", "v2.xch"])
        #expect(r.visible.values.allSatisfy { $0 == 0 })
        // The toy's only inequality (xch v2 <= 100) is reached by the flux space; the others are equalities.
        #expect(survey.constraints.map(\.status) == ["equality", "equality", "equality", "equality", "binds"])
        #expect(survey.dimensions.freeNet == 2 && survey.dimensions.freeExchange == 1 && survey.dimensions.fixed == 1)
    }

    @Test func resolvabilityOfANetFluxThatChangesTheMIDs() throws {
        // A_100 labels carbon 1 of B. With v2 forward only (net ≥ 0, no exchange), D (and F)
        // gets it only through v2 (v4 passes carbon 1 to E), so F's M+1 fraction is
        // v2/(v2 + v4) = (1 − 2·v3)/(1 − v3) (v1 = 1 = v2 + v3 + v4, v3 = v4), whose slope is
        // −1/(1 − v3)² ≤ −1: a move of v3 by 0.1 of its range [0, 0.5] moves M+1 by ≥ 0.05 ≫
        // 2 × 0.001, in every state.
        let dir = TempDir()
        var request = NewBundleRequest(name: "l", networkFile: networkPath("toy"))
        request.tracers = ["molA=100"]
        request.measured = ["molF"]
        request.constraintsFile = dir.write("bounds.csv", "reaction,kind,lower,upper\nv2,xch,0,0\nv2,net,0,\n")
        request.preferFree = ["v3.net"]
        let bundle = try NewBundle.create(request, at: dir.path + "/b")
        let r = try #require(try BundleSurvey.survey(bundle, states: 6).resolvability)
        #expect(r.fluxes == ["v3.net"])
        #expect(r.visible["v3.net"] == 1)
    }
}

@Suite struct DatasetNetworkHashTests {
    /// A 40-state dataset of `bundle` in `directory`.
    private func generate(_ bundle: ModelBundle, into directory: String) throws {
        var source = DatasetSource(modelName: bundle.name, network: bundle.network, networkFile: bundle.networkPath,
                                   basis: bundle.basis, experiments: bundle.experiments, measured: bundle.measured)
        source.sideFiles = bundle.sideFilePaths.map(\.path)
        var request = DatasetRequest(samples: 40, seed: 3, sampler: .automatic(for: bundle.basis))
        request.threads = 1
        _ = try DatasetGenerator(source: source, request: request).run(into: directory)
    }

    @Test func aDatasetOfAnotherNetworkIsRefusedNamingBothHashes() throws {
        let dir = TempDir()
        let plain = try NewBundle.create(NewBundleRequest(name: "a", networkFile: networkPath("toy")), at: dir.path + "/a")
        var request = NewBundleRequest(name: "b", networkFile: networkPath("toy"))
        request.constraintsFile = dir.write("bounds.csv", "reaction,kind,lower,upper\nv2,xch,0,10\n")
        let bounded = try NewBundle.create(request, at: dir.path + "/b")
        // Same layout, free fluxes and reactions: only the network hash tells them apart.
        #expect(plain.layout == bounded.layout && plain.basis.names == bounded.basis.names)
        try generate(plain, into: dir.path + "/data")
        let recorded = try DatasetDescription.read(directory: dir.path + "/data").network.sha256
        // The recorded hash is SHA-256 of the FluxML bytes (no side files), as sha256sum computes it.
        #expect(recorded == SHA256Reference.fileHex(networkPath("toy")))
        #expect(try LoadedDataset.load(dir.path + "/data", for: plain).count == 40)
        do {
            _ = try LoadedDataset.load(dir.path + "/data", for: bounded)
            Issue.record("a dataset of another network was accepted")
        } catch {
            let text = "\(error)", other = try bounded.networkHash()
            #expect(text.contains("made for another network"))
            #expect(text.contains(recorded ?? "?") && text.contains(other), "\(text)")
        }
    }

    @Test func aDatasetWithoutHashIsAcceptedWithAWarning() throws {
        let dir = TempDir()
        let bundle = try NewBundle.create(NewBundleRequest(name: "a", networkFile: networkPath("toy")), at: dir.path + "/a")
        try generate(bundle, into: dir.path + "/data")
        let sidecar = dir.path + "/data/dataset.json"
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sidecar))) as! [String: Any]
        var network = object["network"] as! [String: Any]
        network.removeValue(forKey: "sha256")
        object["network"] = network
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: sidecar))
        let loaded = try LoadedDataset.load(dir.path + "/data", for: bundle)
        #expect(loaded.count == 40)
        #expect(loaded.warnings.count == 1 && loaded.warnings[0].contains("records no network hash"))
    }
}

/// SHA-256 by the system's `sha256sum`, an implementation independent of SafeIO's.
enum SHA256Reference {
    static func fileHex(_ path: String) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sha256sum", path]
        let out = Pipe()
        p.standardOutput = out
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init)
    }
}

@Suite struct InstalledPluginFolderTests {
    @Test func installationAndRepositoryLayouts() throws {
        let dir = TempDir()
        dir.write("prefix/bin/mlflux", "")
        dir.write("prefix/share/mlflux/plugins/toy/manifest.json", "{}")
        #expect(SearchPaths.installedPluginFolder(executable: dir.path + "/prefix/bin/mlflux")
                == BundlePath_canonical(dir.path) + "/prefix/share/mlflux/plugins")
        dir.write("repo/Plugins/toy/manifest.json", "{}")
        dir.write("repo/.build/x86_64-unknown-linux-gnu/release/mlflux", "")
        #expect(SearchPaths.installedPluginFolder(executable: dir.path + "/repo/.build/x86_64-unknown-linux-gnu/release/mlflux")
                == BundlePath_canonical(dir.path) + "/repo/Plugins")
        dir.write("lonely/a/b/c/d/e/f/mlflux", "")
        #expect(SearchPaths.installedPluginFolder(executable: dir.path + "/lonely/a/b/c/d/e/f/mlflux") == nil)
        #if !os(macOS)
        // Appended after the other folders, once.
        let paths = SearchPaths.standard(environment: ["HOME": "/h", "MLFLUX_PLUGINS": "/q1:/q2"], currentDirectory: dir.path,
                                         executable: dir.path + "/prefix/bin/mlflux")
        #expect(paths.plugins == ["/q1", "/q2", dir.path + "/Plugins", "/h/.local/share/mlflux/plugins",
                                  BundlePath_canonical(dir.path) + "/prefix/share/mlflux/plugins"])
        #endif
    }
}

/// `realpath` of a folder (the temporary folder may sit behind a symlink).
private func BundlePath_canonical(_ path: String) -> String {
    URL(fileURLWithPath: path).resolvingSymlinksInPath().path
}
