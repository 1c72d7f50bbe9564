import Bundles
import Foundation
import NeuralNetworks
import Prediction
import Testing
import TestSupport

/// ANN weights files are checked against the bundle when loaded: a tampered file is refused
/// with its path and the bad field, instead of trapping or predicting NaN fluxes.
@Suite struct WeightsValidationTests {
    let bundle = try! BundleRegistry(searchPaths: SearchPaths(plugins: [repositoryRoot() + "/Plugins"])).load("toy")

    /// The toy weights with `edit` applied, written to a temporary file, then loaded.
    func load(_ edit: (inout SafeTensors) -> Void) throws -> Result<ANNPredictor, any Error> {
        var st = try SafeTensors(contentsOf: URL(fileURLWithPath: try bundle.file("ann")))
        edit(&st)
        let dir = TempDir()
        let url = URL(fileURLWithPath: dir.path + "/ann.safetensors")
        try Data(st.serialized()).write(to: url)
        return Result { try ANNWeightsFile.read(url, network: bundle.network, basis: bundle.basis, layout: bundle.layout) }
    }

    func expectRefused(_ r: Result<ANNPredictor, any Error>, _ fragment: String) {
        guard case .failure(let e) = r else { Issue.record("loaded although \(fragment)"); return }
        #expect("\(e)".contains("ann.safetensors") && "\(e)".contains(fragment), "\(e)")
    }

    @Test func untouchedWeightsLoad() throws {
        if case .failure(let e) = try load { _ in } { Issue.record("\(e)") }
    }

    @Test func transformIndexOutOfRangeIsRefused() throws {
        let r = try load { st in
            var t = try! JSONSerialization.jsonObject(with: Data(st.metadata["transform"]!.utf8)) as! [String: Any]
            var outputs = t["outputs"] as! [[String: Any]]
            outputs[0]["free"] = 99
            t["outputs"] = outputs
            st.metadata["transform"] = String(decoding: try! JSONSerialization.data(withJSONObject: t), as: UTF8.self)
        }
        expectRefused(r, "metadata 'transform': output 0 names free flux 99")
    }

    @Test func freeCountThatDisagreesWithTheBundleIsRefused() throws {
        let r = try load { st in
            var t = try! JSONSerialization.jsonObject(with: Data(st.metadata["transform"]!.utf8)) as! [String: Any]
            t["freeCount"] = 7
            st.metadata["transform"] = String(decoding: try! JSONSerialization.data(withJSONObject: t), as: UTF8.self)
        }
        expectRefused(r, "freeCount 7 differs from the bundle's \(bundle.basis.count) free fluxes")
    }

    @Test func nonFiniteWeightsAndZeroInputScalesAreRefused() throws {
        let nan = try load { st in
            var w = st.tensors["members.0.layers.0.weight"]!
            w.bytes.replaceSubrange(8..<12, with: withUnsafeBytes(of: Float.nan) { Array($0) })
            st.tensors["members.0.layers.0.weight"] = w
        }
        expectRefused(nan, "tensor 'members.0.layers.0.weight' entry 2 is nan")
        let zero = try load { st in
            var s = st.tensors["members.0.input.std"]!
            s.bytes.replaceSubrange(0..<4, with: withUnsafeBytes(of: Float(0)) { Array($0) })
            st.tensors["members.0.input.std"] = s
        }
        expectRefused(zero, "tensor 'members.0.input.std' entry 0 is 0.0; input scales must be positive")
    }
}
