import Bundles
import Foundation
import TestSupport

/// A temporary folder removed when the value is dropped.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "mlflux-bundles-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `relative` (creating folders) and returns the full path.
    @discardableResult
    func write(_ relative: String, _ text: String) -> String {
        let full = path + "/" + relative
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        try! text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }
}

/// The toy manifest as a JSON object, with `overrides` applied (`nil` value removes the field).
func toyManifest(name: String = "toy", _ overrides: [String: Any?] = [:]) -> String {
    var m: [String: Any] = [
        "name": name,
        "description": "test bundle",
        "network": "toy",
        "experiments": ["A_100", "A_010"],
        "measured": ["molF", "molD[1-3]", "molB[1,3]"],
        "freeFluxes": ["v1.net", "v3.net", "v2.xch"],
        "exampleFluxes": "fluxes.json",
    ]
    for (k, v) in overrides {
        if let v { m[k] = v } else { m.removeValue(forKey: k) }
    }
    let data = try! JSONSerialization.data(withJSONObject: m, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}

let toyFluxes = """
    {"v1": {"net": 1}, "v2": {"net": 0.6, "xch": 0.5}, "v3": {"net": 0.2}, "v4": {"net": 0.2},
     "v5": {"net": 0.8}, "EX_molE": {"net": 0.6}, "EX_molF": {"net": 0.8}}
    """

/// A bundle folder `plugins/<folder>` with a toy manifest and fluxes; returns the bundle folder.
@discardableResult
func makeToyBundle(in dir: TempDir, folder: String, name: String? = nil,
                   _ overrides: [String: Any?] = [:]) -> String {
    dir.write("\(folder)/manifest.json", toyManifest(name: name ?? folder, overrides))
    dir.write("\(folder)/fluxes.json", toyFluxes)
    return dir.path + "/" + folder
}

/// The repository's networks folder, so temporary bundles can name `"toy"`.
var repoNetworks: [String] { [repositoryRoot() + "/Networks"] }
