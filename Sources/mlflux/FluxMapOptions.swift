import ArgumentParser
import Bundles
import Foundation
import MLFluxCore
import Prediction
import SafeIO

/// `--map FILE.svg` and `--escher FILE.json`: a prediction drawn on its network (`FluxMap`) and
/// as Escher reaction data (`EscherReactionData`).
///
/// With several samples (a MID table with a `sample` column) each sample gets its own files, the
/// sample name put before the extension: `--map out.svg` writes `out-S1.svg`, `out-S2.svg`, …
/// (characters other than letters, digits, `-`, `_` and `.` become `_`). Names that collide
/// after this are refused. Every file is checked before any work: an existing one is replaced only
/// with `--force`, an input never.
struct FluxMapOptions: ParsableArguments {
    @Option(help: "Write the flux map of the prediction (SVG: arrow width ∝ |net flux|, colour ΔG) to this file; with several samples one file per sample, FILE-<sample>.svg.") var map: String?
    @Option(help: "Write Escher reaction data (JSON {\"REACTION\": net flux}, Escher's Data → Load reaction data) to this file; with several samples FILE-<sample>.json.") var escher: String?

    /// The map and Escher files of `sample` (one of `samples`).
    func paths(sample: String, samples: [String]) -> (map: String?, escher: String?) {
        (map.map { Self.path($0, sample: sample, several: samples.count > 1) },
         escher.map { Self.path($0, sample: sample, several: samples.count > 1) })
    }

    /// Refuses, before any work, outputs that exist (without `force`), are an input, repeat
    /// another output, or collide after sanitising sample names; checks the bundle's map file.
    func check(samples: [String], force: Bool, inputs: [String], otherOutputs: [String], bundle: ModelBundle) throws {
        if map != nil { _ = try bundle.mapCoordinates() }
        var seen = Set(otherOutputs.map { ($0 as NSString).standardizingPath })
        for s in samples {
            let (m, e) = paths(sample: s, samples: samples)
            for (path, option) in [(m, "--map"), (e, "--escher")] {
                guard let path else { continue }
                guard seen.insert((path as NSString).standardizingPath).inserted else {
                    throw CLIError("\(option) \(path) is written twice (another output, or two sample names alike after replacing characters other than letters, digits, '-', '_' and '.'); choose another file name")
                }
                try OutputFile.check(path, force: force, inputs: inputs)
            }
        }
    }

    /// Writes the map and the Escher data of `prediction` for `sample`.
    func write(_ prediction: FluxPrediction, sample: String, samples: [String], network: MetabolicNetwork,
               layout: @autoclosure () throws -> FluxMapLayout, title: String) throws {
        let (m, e) = paths(sample: sample, samples: samples)
        if let m {
            try OutputFile.write(FluxMap.svg(network: network, prediction: prediction, layout: try layout(), title: title), to: m)
        }
        if let e { try OutputFile.write(EscherReactionData.json(network: network, net: prediction.net), to: e) }
    }

    /// `base` with `-<sample>` before its extension when there are several samples.
    static func path(_ base: String, sample: String, several: Bool) -> String {
        guard several else { return base }
        var name = String(sample.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
        if name.isEmpty { name = "sample" }
        let ns = base as NSString, ext = ns.pathExtension
        let stem = ext.isEmpty ? base : ns.deletingPathExtension
        return ext.isEmpty ? "\(stem)-\(name)" : "\(stem)-\(name).\(ext)"
    }
}
