import SafeIO
import EMU
import Foundation
import MLFluxCore
import Testing
import TestSupport
@testable import FluxSampling

// MARK: - Helpers

/// A fresh empty folder under the temporary directory.
func datasetScratch(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "mlflux-dataset-tests/\(name)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A dataset source from `Networks/<name>.fml`: all its experiments, every balanced pool
/// measured whole, the default free-flux basis.
func datasetSource(_ name: String) throws -> DatasetSource {
    let network = try loadNetwork(name)
    return DatasetSource(modelName: name, network: network, networkFile: networkPath(name),
                         basis: try FreeFluxBasis(network: network), experiments: network.experiments,
                         measured: network.balancedPools.map(MeasuredFragment.whole))
}

func datasetRequest(_ source: DatasetSource, samples: Int, seed: UInt64 = 7, threads: Int = 2,
                    shard: (Int, Int) = (0, 1)) -> DatasetRequest {
    var r = DatasetRequest(samples: samples, seed: seed, sampler: .automatic(for: source.basis))
    r.threads = threads
    (r.shardIndex, r.shardCount) = shard
    return r
}

func bytes(_ dir: String, _ file: String) -> Data {
    FileManager.default.contents(atPath: (dir as NSString).appendingPathComponent(file)) ?? Data()
}

/// Every file of a dataset folder (data files and sidecar) is byte-identical.
func sameDataset(_ a: String, _ b: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for f in DatasetDescription.dataFiles + [DatasetDescription.fileName] {
        let x = bytes(a, f), y = bytes(b, f)
        #expect(!x.isEmpty, "\(a)/\(f) missing", sourceLocation: sourceLocation)
        #expect(x == y, "\(f) differs between \(a) and \(b)", sourceLocation: sourceLocation)
    }
}

// MARK: - SHA-256, layout, .npy

@Suite struct DatasetFormatTests {
    @Test func sha256KnownVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1000)).count == 64)
    }

    @Test func layoutIndicesBothWays() throws {
        let l = LabelingLayout(experimentIDs: ["A", "B"], fragments: [("x", 4), ("y", 2), ("z", 3)])
        #expect(l.count == 18 && l.blockSize == 9 && l.rows == 6 && l.columns == 4)
        #expect(l.offsets == [0, 4, 6])
        for i in 0..<l.count {
            let e = l.entry(at: i)
            #expect(l.index(experiment: e.experiment, fragment: e.fragment, isotopologue: e.isotopologue) == i)
            let c = l.cell(of: i)
            #expect(l.index(row: c.row, column: c.column) == i)
        }
        #expect(l.index(experiment: "B", fragment: "y", isotopologue: 1) == 9 + 5)
        #expect(l.index(experiment: 0, fragment: 1, isotopologue: 2) == nil)
        #expect(l.index(row: 1, column: 3) == nil)
        #expect(l.mask.filter { $0 }.count == l.count)
        let flat = (0..<l.count).map(Double.init)
        let m = l.matrix(fromFlat: flat, fill: -1)
        #expect(m.count == 24 && m.filter { $0 == -1 }.count == 6)
        #expect(l.flat(fromMatrix: m) == flat)
        let json = try JSONEncoder().encode(l)
        #expect(try JSONDecoder().decode(LabelingLayout.self, from: json) == l)
    }

    @Test func layoutMatchesSimulatorOrder() throws {
        let s = try datasetSource("toy")
        let sim = try EMUSimulator(network: s.network, measured: s.measured, experiments: s.experiments)
        var rng = SplitMix64(seed: 1)
        let θ = try FluxSpaceSampler(network: s.network, basis: s.basis, settings: .automatic(for: s.basis))
            .sample(count: 1, using: &rng)[0]
        let state = s.basis.fluxState(free: θ)
        let l = try sim.simulate(state)
        #expect(s.layout.count == l.values.count)
        #expect(s.layout.offsets == l.offsets && s.layout.blockSize == l.blockSize)
        for e in l.experimentIDs.indices {
            for f in l.fragments.indices {
                #expect(Array(l.values[s.layout.range(experiment: e, fragment: f)]) == l.mid(experiment: e, fragment: f))
            }
        }
    }

    /// Parses a `.npy` header by hand (independently of `NPYHeader.decode`).
    func parseByHand(_ d: [UInt8]) -> (major: UInt8, dict: String, dataOffset: Int) {
        #expect(d[0] == 0x93 && String(decoding: d[1..<6], as: UTF8.self) == "NUMPY")
        let len = Int(d[8]) + 256 * Int(d[9])
        return (d[6], String(decoding: d[10 ..< 10 + len], as: UTF8.self), 10 + len)
    }

    @Test func npyStreamRoundTrip() throws {
        let dir = datasetScratch("npy")
        let path = dir + "/a.npy"
        let w = try NPYWriter(path: path, dtype: .float64, columns: 3)
        try w.append([1, 2, 3, 4, 5, 6] as [Double])
        try w.append([-0.5, .pi, 1e300] as [Double])
        try w.finish()
        let d = [UInt8](FileManager.default.contents(atPath: path)!)
        let h = parseByHand(d)
        #expect(h.major == 1)
        #expect(h.dict.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }"))
        #expect(h.dict.hasSuffix("\n") && h.dataOffset % 64 == 0)
        let values: [Double] = d[h.dataOffset...].withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        #expect(values == [1, 2, 3, 4, 5, 6, -0.5, .pi, 1e300])
        let a = try NPYArray(contentsOf: path, expecting: .float64)
        #expect(a.shape == [3, 3] && a.doubles == values)

        let f = NPYArray([Float(0.25), 1, 2, 3], shape: [2, 2])
        try f.write(to: dir + "/f.npy")
        let g = try NPYArray(contentsOf: dir + "/f.npy")
        #expect(g.dtype == .float32 && g.shape == [2, 2] && g.floats == [0.25, 1, 2, 3])
        #expect(parseByHand([UInt8](FileManager.default.contents(atPath: dir + "/f.npy")!)).dict.contains("'<f4'"))
    }

    @Test func npyErrorsNameTheFile() throws {
        let dir = datasetScratch("npy-errors")
        let path = dir + "/mids.npy"
        try NPYArray([Float](repeating: 1, count: 100), shape: [10, 10]).write(to: path)
        // Truncated.
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try h.truncate(atOffset: 128 + 150); try h.close()
        #expect(throws: NPYError.truncated(file: path, expectedBytes: 400, foundBytes: 150)) {
            try NPYArray(contentsOf: path)
        }
        let message = "\(NPYError.truncated(file: path, expectedBytes: 400, foundBytes: 150))"
        #expect(message.contains(path) && message.contains("truncated"))
        // Wrong dtype.
        try NPYArray([1.0, 2], shape: [1, 2]).write(to: path)
        #expect(throws: NPYError.wrongDType(file: path, expected: .float32, found: "<f8")) {
            try NPYArray(contentsOf: path, expecting: .float32)
        }
        // Bad header.
        try Data("not numpy at all".utf8).write(to: URL(fileURLWithPath: path))
        do { _ = try NPYArray(contentsOf: path); Issue.record("no error") }
        catch let e as NPYError { #expect("\(e)".contains(path) && "\(e)".contains("magic")) }
        #expect(throws: NPYError.self) { try NPYArray(contentsOf: dir + "/missing.npy") }
    }
}

// MARK: - Generation

@Suite struct DatasetGeneratorTests {
    @Test func sameSeedSameBytesAnyThreads() throws {
        let s = try datasetSource("toy")
        let root = datasetScratch("determinism")
        try DatasetGenerator(source: s, request: datasetRequest(s, samples: 2500, threads: 1)).run(into: root + "/a")
        try DatasetGenerator(source: s, request: datasetRequest(s, samples: 2500, threads: 2)).run(into: root + "/b")
        try DatasetGenerator(source: s, request: datasetRequest(s, samples: 2500, threads: 3)).run(into: root + "/c")
        sameDataset(root + "/a", root + "/b")
        sameDataset(root + "/a", root + "/c")
        try DatasetGenerator(source: s, request: datasetRequest(s, samples: 2500, seed: 8)).run(into: root + "/d")
        #expect(bytes(root + "/a", "mids.npy") != bytes(root + "/d", "mids.npy"))
        #expect(bytes(root + "/a", "free_fluxes.npy") != bytes(root + "/d", "free_fluxes.npy"))
        // A folder holding a dataset is not overwritten.
        #expect(throws: DatasetError.alreadyExists(directory: root + "/a")) {
            try DatasetGenerator(source: s, request: datasetRequest(s, samples: 10)).run(into: root + "/a")
        }
    }

    @Test func shardsMergedEqualUnshardedRun() throws {
        let s = try datasetSource("toy")
        let root = datasetScratch("shards")
        let samples = 3 * 1024 + 100  // 4 blocks, the last one short
        try DatasetGenerator(source: s, request: datasetRequest(s, samples: samples)).run(into: root + "/all")
        for i in 0..<3 {
            try DatasetGenerator(source: s, request: datasetRequest(s, samples: samples, shard: (i, 3))).run(into: root + "/s\(i)")
        }
        try DatasetMerger.merge([root + "/s2", root + "/s0", root + "/s1"], into: root + "/merged")
        sameDataset(root + "/all", root + "/merged")
        let d = try DatasetDescription.read(directory: root + "/merged")
        #expect(d.produced == samples && d.blockRows == [1024, 1024, 1024, 100])

        // More shards than blocks: some shards are empty and the merge still matches.
        for i in 0..<6 {
            try DatasetGenerator(source: s, request: datasetRequest(s, samples: samples, shard: (i, 6))).run(into: root + "/t\(i)")
        }
        try DatasetMerger.merge((0..<6).map { root + "/t\($0)" }, into: root + "/merged6")
        for f in DatasetDescription.dataFiles { #expect(bytes(root + "/all", f) == bytes(root + "/merged6", f)) }

        // Incomplete or foreign shard sets are refused.
        #expect(throws: DatasetError.self) { try DatasetMerger.merge([root + "/s0", root + "/s1"], into: root + "/bad") }
        try DatasetGenerator(source: s, request: datasetRequest(s, samples: samples, seed: 99, shard: (2, 3))).run(into: root + "/x2")
        do {
            try DatasetMerger.merge([root + "/s0", root + "/s1", root + "/x2"], into: root + "/bad2")
            Issue.record("merged shards of different seeds")
        } catch let e as DatasetError {
            #expect("\(e)".contains("seed"), "\(e)")
        }
    }

    @Test func storedStatesAreFeasibleAndTheirMIDsResimulate() throws {
        for model in ["toy", "glycolysis"] {
            let s = try datasetSource(model)
            let dir = datasetScratch("feasible-\(model)")
            try DatasetGenerator(source: s, request: datasetRequest(s, samples: 150)).run(into: dir)
            let d = try DatasetDescription.read(directory: dir)
            try d.checkFiles(in: dir)
            #expect(d.produced == 150)
            let free = try NPYArray(contentsOf: dir + "/free_fluxes.npy", expecting: .float64).doubles
            let net = try NPYArray(contentsOf: dir + "/net_fluxes.npy", expecting: .float64).doubles
            let xch = try NPYArray(contentsOf: dir + "/exchange_fluxes.npy", expecting: .float64).doubles
            let mids = try NPYArray(contentsOf: dir + "/mids.npy", expecting: .float32).floats
            let F = s.basis.count, R = s.basis.reactionCount, L = s.layout.count
            let sim = try EMUSimulator(network: s.network, measured: s.measured, experiments: s.experiments)
            for r in 0..<d.produced {
                let θ = Array(free[r * F ..< (r + 1) * F])
                let state = FluxState(net: Array(net[r * R ..< (r + 1) * R]), exchange: Array(xch[r * R ..< (r + 1) * R]))
                #expect(s.basis.fluxState(free: θ) == state)
                let v = s.basis.violations(of: state, in: s.network, tolerance: 1e-7)
                #expect(v.isEmpty, "\(model) row \(r): \(v)")
                let fresh = try sim.simulate(state).values
                let stored = mids[r * L ..< (r + 1) * L]
                #expect(zip(fresh, stored).allSatisfy { Float($0) == $1 }, "\(model) row \(r): stored MIDs differ from a fresh simulation")
                for e in s.layout.experimentIDs.indices {
                    for f in s.layout.fragmentNames.indices {
                        let sum = s.layout.range(experiment: e, fragment: f).reduce(0.0) { $0 + Double(mids[r * L + $1]) }
                        #expect(abs(sum - 1) < 1e-5, "\(model) row \(r): MID sums to \(sum)")
                    }
                }
            }
        }
    }

    @Test func resumeGivesTheUninterruptedBytes() throws {
        let s = try datasetSource("toy")
        let root = datasetScratch("resume")
        let samples = 4 * 1024
        try DatasetGenerator(source: s, request: datasetRequest(s, samples: samples)).run(into: root + "/full")

        var stop = datasetRequest(s, samples: samples)
        stop.blockLimit = 1
        let r1 = try DatasetGenerator(source: s, request: stop).run(into: root + "/cut")
        guard case .stopped(1, 4) = r1 else { Issue.record("expected a stop after 1 block, got \(r1)"); return }
        #expect(!FileManager.default.fileExists(atPath: root + "/cut/dataset.json"))
        #expect(!FileManager.default.fileExists(atPath: root + "/cut/mids.npy"))
        stop.resume = true
        let r2 = try DatasetGenerator(source: s, request: stop).run(into: root + "/cut")
        guard case .stopped(2, 4) = r2 else { Issue.record("expected a stop after 2 blocks, got \(r2)"); return }

        // Simulate a crash mid-block: half a row of garbage after the last complete block,
        // and a half-written progress line.
        let partial = root + "/cut/.partial-0-of-1"
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: partial + "/mids.npy"))
        try h.seekToEnd(); try h.write(contentsOf: Data(repeating: 0xAB, count: 333)); try h.close()
        let p = try FileHandle(forWritingTo: URL(fileURLWithPath: partial + "/progress.tsv"))
        try p.seekToEnd(); try p.write(contentsOf: Data("2\t10".utf8)); try p.close()

        // A machine crash can lose unsynced rows the progress file lists: resume must redo them.
        stop.blockLimit = 1
        let r25 = try DatasetGenerator(source: s, request: stop).run(into: root + "/cut")
        guard case .stopped(3, 4) = r25 else { Issue.record("expected a stop after 3 blocks, got \(r25)"); return }
        let t = try FileHandle(forUpdating: URL(fileURLWithPath: partial + "/net_fluxes.npy"))
        try t.truncate(atOffset: UInt64(128 + (2 * 1024 + 500) * s.basis.reactionCount * 8)); try t.close()

        var rest = datasetRequest(s, samples: samples, threads: 1)
        rest.resume = true
        let r3 = try DatasetGenerator(source: s, request: rest).run(into: root + "/cut")
        guard case .complete = r3 else { Issue.record("expected completion, got \(r3)"); return }
        sameDataset(root + "/full", root + "/cut")
        #expect(!FileManager.default.fileExists(atPath: partial))

        // Resuming with other settings is refused.
        var a = datasetRequest(s, samples: samples); a.blockLimit = 1
        try DatasetGenerator(source: s, request: a).run(into: root + "/other")
        var b = datasetRequest(s, samples: samples, seed: 1234); b.resume = true
        #expect(throws: DatasetError.resumeMismatch(directory: root + "/other/.partial-0-of-1", field: "seed")) {
            try DatasetGenerator(source: s, request: b).run(into: root + "/other")
        }
    }

    @Test func splitIsDisjointAndComplete() throws {
        let s = try datasetSource("toy")
        let root = datasetScratch("split")
        try DatasetGenerator(source: s, request: datasetRequest(s, samples: 1000)).run(into: root + "/all")
        let parts = try DatasetSplitter.split(root + "/all", into: root + "/split", seed: 3)
        #expect(parts.map(\.produced) == [800, 100, 100])
        #expect(DatasetSplitter.sizes(rows: 7, fractions: [0.8, 0.1, 0.1]).reduce(0, +) == 7)
        let all = try NPYArray(contentsOf: root + "/all/mids.npy").floats
        let free = try NPYArray(contentsOf: root + "/all/free_fluxes.npy").doubles
        let L = s.layout.count, F = s.basis.count
        var seen: [Int] = []
        for name in DatasetSplitter.partNames {
            let dir = root + "/split/" + name
            let d = try DatasetDescription.read(directory: dir)
            try d.checkFiles(in: dir)
            #expect(d.split?.name == name)
            let rows = try NPYArray(contentsOf: dir + "/rows.npy", expecting: .int64).integers.map { Int($0) }
            #expect(rows == rows.sorted())
            let m = try NPYArray(contentsOf: dir + "/mids.npy").floats
            let f = try NPYArray(contentsOf: dir + "/free_fluxes.npy").doubles
            for (k, r) in rows.enumerated() {
                #expect(Array(m[k * L ..< (k + 1) * L]) == Array(all[r * L ..< (r + 1) * L]))
                #expect(Array(f[k * F ..< (k + 1) * F]) == Array(free[r * F ..< (r + 1) * F]))
            }
            seen += rows
        }
        #expect(seen.count == 1000 && Set(seen) == Set(0..<1000))
        // Same seed, same split.
        try DatasetSplitter.split(root + "/all", into: root + "/split2", seed: 3)
        #expect(bytes(root + "/split/test", "rows.npy") == bytes(root + "/split2/test", "rows.npy"))
        #expect(throws: DatasetError.self) {
            try DatasetSplitter.split(root + "/all", into: root + "/split3", fractions: [0.5, 0.5, 0.5])
        }
    }

    @Test func filtersRecordTheirRejections() throws {
        let s = try datasetSource("toy")
        let root = datasetScratch("filters")
        var r = datasetRequest(s, samples: 2048)
        r.distanceWeighted = true
        r.flatten = ["v3"]
        let result = try DatasetGenerator(source: s, request: r).run(into: root + "/f")
        guard case .complete(let d) = result else { Issue.record("not complete"); return }
        #expect(d.produced + d.rejected.distanceWeighted + d.rejected.flattening == 2048)
        #expect(d.blockRows.reduce(0, +) == d.produced)
        try d.checkFiles(in: root + "/f")
        r.threads = 1
        try DatasetGenerator(source: s, request: r).run(into: root + "/g")
        sameDataset(root + "/f", root + "/g")
        r.flatten = ["nope"]
        #expect(throws: DatasetError.self) { try DatasetGenerator(source: s, request: r) }
    }
}
