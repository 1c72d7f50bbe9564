import Bundles
import Foundation
import MLFluxCore

/// What the targets need besides the input: the shipped toy bundle (network, free-flux
/// basis, labeling layout) and a private scratch folder for the readers that take paths.
/// Built once per process; a failure here is a broken checkout, not a finding.
enum Fixtures {
    /// The repository root: `MLFLUX_REPO`, else three levels above this source file.
    static let repositoryRoot: String = {
        if let r = ProcessInfo.processInfo.environment["MLFLUX_REPO"], !r.isEmpty { return r }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `Plugins/toy` of the repository, loaded and validated.
    static let toy: ModelBundle = {
        let dir = (repositoryRoot as NSString).appendingPathComponent("Plugins/toy")
        do { return try ModelBundle.load(directory: dir) } catch {
            FuzzMain.fail("mlflux-fuzz: cannot load the toy bundle at \(dir) (set MLFLUX_REPO): \(error)")
        }
    }()

    static let toyLayout: LabelingLayout = toy.layout

    /// A per-process folder under `TMPDIR`:
    ///
    ///     scratch/Networks/toy.fml          network found by name from the fuzzed manifest
    ///     scratch/plugins/bundle/           the fuzzed manifest.json, fluxes.json, network.fml
    ///     scratch/dataset/                  the fuzzed dataset.json (+ generated .npy files)
    ///     scratch/file                      single-file inputs (.npy, .safetensors)
    static let scratch: String = {
        let fm = FileManager.default
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("mlflux-fuzz-\(getpid())")
        let root = repositoryRoot as NSString
        do {
            try? fm.removeItem(atPath: base)
            for sub in ["Networks", "plugins/bundle", "dataset"] {
                try fm.createDirectory(atPath: (base as NSString).appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            let toyFML = try Data(contentsOf: URL(fileURLWithPath: root.appendingPathComponent("Networks/toy.fml")))
            try toyFML.write(to: URL(fileURLWithPath: (base as NSString).appendingPathComponent("Networks/toy.fml")))
            try toyFML.write(to: URL(fileURLWithPath: (base as NSString).appendingPathComponent("plugins/bundle/network.fml")))
            let fluxes = try Data(contentsOf: URL(fileURLWithPath: root.appendingPathComponent("Plugins/toy/fluxes.json")))
            try fluxes.write(to: URL(fileURLWithPath: (base as NSString).appendingPathComponent("plugins/bundle/fluxes.json")))
        } catch {
            FuzzMain.fail("mlflux-fuzz: cannot set up \(base): \(error)")
        }
        atexit { try? FileManager.default.removeItem(atPath: Fixtures.scratch) }
        return base
    }()

    static func path(_ relative: String) -> String { (scratch as NSString).appendingPathComponent(relative) }

    /// Writes `bytes` to `scratch/relative` (replacing what was there) and returns the path.
    @discardableResult
    static func write(_ bytes: [UInt8], to relative: String) -> String {
        let p = path(relative)
        guard FileManager.default.createFile(atPath: p, contents: Data(bytes)) else {
            FuzzMain.fail("mlflux-fuzz: cannot write \(p)")
        }
        return p
    }
}
