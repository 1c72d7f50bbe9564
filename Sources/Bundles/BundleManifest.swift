import Foundation
import SafeIO

/// The `manifest.json` of a model bundle: what a model is made of, as data.
///
/// ```json
/// {
///   "name": "toy",
///   "description": "Antoniewicz toy network",
///   "network": "toy",
///   "experiments": ["A_100", "A_010"],
///   "measured": ["molB", "molF[1-3]"],
///   "freeFluxes": ["v2.net", "v2.xch"],
///   "exampleFluxes": "fluxes.json",
///   "files": {"imputer.knn": "imputers/knn.safetensors"},
///   "defaultImputer": "knn"
/// }
/// ```
///
/// Decoding checks only the JSON shape; `ModelBundle.load` checks the values
/// against the bundle folder and the network (see `Guides/Bundles.md`).
public struct BundleManifest: Codable, Hashable, Sendable {
    /// Model name used on the command line (`--model toy`); the first bundle of a name wins.
    public var name: String
    /// One-line human description.
    public var description: String
    /// A FluxML file inside the bundle (`"network.fml"`) or the name of a network in a
    /// `Networks/` folder (`"toy"` → `Networks/toy.fml`).
    public var network: String
    /// Ids of the network's tracer configurations to use, in order.
    public var experiments: [String]
    /// Measured fragments: `"POOL"` (whole molecule), `"POOL[1,2,3]"` or `"POOL[1-3]"` (1-based atoms).
    public var measured: [String]
    /// Free flux names as `FreeFluxBasis.names` (`"v2.net"`, `"v2.xch"`).
    public var freeFluxes: [String]
    /// A flux state file inside the bundle (`fluxes.json`), feasible for the network.
    public var exampleFluxes: String
    /// Further files by key (weights, reference sets, reports), each inside the bundle.
    public var files: [String: String]?
    /// The imputer `predict` uses for incomplete input when none is named (`--imputer`); when
    /// absent, the first imputer of the registry whose file the bundle has.
    public var defaultImputer: String?
    /// Optional flux bounds file inside the bundle (`constraints.csv`, see `FluxBoundsTable`),
    /// put in place of the network's own bounds on the same fluxes.
    public var constraints: String?
    /// Optional tracer list file inside the bundle (`tracers.csv`, see `TracerTable`), applied
    /// on top of the network's configurations (same id: replaced; new id: added).
    public var tracers: String?
    /// Measured fragments as labs name them: aliases with atom subsets and elemental formulas
    /// (natural abundance), keyed by their `measured` entry (see `FragmentDefinition`).
    public var fragments: [String: FragmentDefinition]?
    /// `true` when the network's fixed fluxes (e.g. biomass drains) are already in the unit of
    /// the measured fluxes (mmol/gDW/h, or per 100 glucose): measured fluxes are then compared
    /// as they are, never through a fitted scale, even though a fixed flux is non-zero.
    public var absoluteFluxes: Bool?

    public init(name: String, description: String, network: String, experiments: [String],
                measured: [String], freeFluxes: [String], exampleFluxes: String, files: [String: String]? = nil) {
        self.name = name
        self.description = description
        self.network = network
        self.experiments = experiments
        self.measured = measured
        self.freeFluxes = freeFluxes
        self.exampleFluxes = exampleFluxes
        self.files = files
    }

    /// Decodes a manifest, turning `DecodingError`s into `BundleError`s that name
    /// `path` and the field (`manifest X: field 'y' is missing`).
    public static func decode(_ data: Data, path: String) throws -> BundleManifest {
        do {
            return try JSONDecoder().decode(BundleManifest.self, from: data)
        } catch let error as DecodingError {
            throw Self.translate(error, path: path)
        }
    }

    /// Reads and decodes the manifest file at `path`.
    public static func read(contentsOf path: String) throws -> BundleManifest {
        let data: Data
        do {
            data = try InputFile.read(path, limit: 16 << 20, what: "manifest")
        } catch let e as InputFileError {
            throw BundleError.unreadableManifest(manifest: path, reason: e.reason)
        }
        return try decode(data, path: path)
    }

    private static func fieldName(_ path: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
        let keys = path + (last.map { [$0] } ?? [])
        return keys.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    private static func translate(_ error: DecodingError, path: String) -> BundleError {
        switch error {
        case .keyNotFound(let key, let ctx):
            return .missingField(manifest: path, field: fieldName(ctx.codingPath, key))
        case .valueNotFound(let type, let ctx):
            if ctx.codingPath.isEmpty { return .invalidJSON(manifest: path, reason: "the manifest is empty") }
            return .wrongType(manifest: path, field: fieldName(ctx.codingPath), expected: typeWord(type))
        case .typeMismatch(let type, let ctx):
            if ctx.codingPath.isEmpty { return .invalidJSON(manifest: path, reason: "the top level must be an object") }
            return .wrongType(manifest: path, field: fieldName(ctx.codingPath), expected: typeWord(type))
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty {
                let detail = (ctx.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return .invalidJSON(manifest: path, reason: detail ?? ctx.debugDescription)
            }
            return .invalidField(manifest: path, field: fieldName(ctx.codingPath), reason: ctx.debugDescription)
        @unknown default:
            return .invalidJSON(manifest: path, reason: String(describing: error))
        }
    }

    private static func typeWord(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is [String].Type: return "a list of strings"
        case is [String: String].Type: return "an object of strings"
        default:
            let t = String(describing: type)
            if t.hasPrefix("Array") { return "a list" }
            if t.hasPrefix("Dictionary") { return "an object" }
            return "a \(t)"
        }
    }
}
