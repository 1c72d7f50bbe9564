import FluxSampling
import Foundation
import MLFluxCore
import SafeIO

extension ModelBundle {
    /// `network` with the manifest's side files applied: the flux bounds of `constraints`
    /// (in place of the network's bounds on the same fluxes) and the tracer experiments of
    /// `tracers` (on top of the network's configurations).
    /// - Throws: `BundleError` naming the manifest field and, in its reason, the file and line.
    static func applyingSideFiles(_ manifest: BundleManifest, to network: MetabolicNetwork, directory: String,
                                  manifestPath m: String) throws -> MetabolicNetwork {
        var out = network
        if let relative = manifest.constraints {
            let path = try BundlePath.resolve(relative, in: directory, manifest: m, field: "constraints")
            do { out = try out.applyingBounds(FluxBoundsTable.read(contentsOf: path)) }
            catch { throw BundleError.networkFailed(manifest: m, field: "constraints", reason: String(describing: error)) }
        }
        if let relative = manifest.tracers {
            let path = try BundlePath.resolve(relative, in: directory, manifest: m, field: "tracers")
            do { out = try out.with(experiments: TracerTable.merged(TracerTable.read(contentsOf: path, network: out),
                                                                    into: out.experiments)) }
            catch { throw BundleError.networkFailed(manifest: m, field: "tracers", reason: String(describing: error)) }
        }
        return out
    }

    /// Paths of the side files the manifest names (`constraints`, `tracers`), by field.
    public var sideFilePaths: [(field: String, path: String)] {
        [("constraints", manifest.constraints), ("tracers", manifest.tracers)].compactMap { field, relative in
            relative.map { (field, (directory as NSString).appendingPathComponent($0)) }
        }
    }

    /// SHA-256 (hex) of what defines the bundle's network: the FluxML file's bytes alone when
    /// the bundle has no side files (the value `dataset generate` has always recorded), else of
    /// the FluxML bytes followed by each side file and the fragments' formulas
    /// (`DatasetDescription.networkHash`).
    /// - Throws: `DatasetError.io` when a file cannot be read.
    public func networkHash() throws -> String {
        try DatasetDescription.networkHash(networkFile: networkPath, sideFiles: sideFilePaths.map(\.path),
                                           formulas: naturalAbundance.mapValues { "\($0.formula)" })
    }
}
