import SafeIO

/// A bundle that cannot be loaded. Every case names the manifest (or data file) it
/// came from and, for manifest problems, the field, so a message reads
/// `Plugins/toy/manifest.json: field 'experiments': unknown experiment 'A_111' (known: A_100, A_010)`.
public enum BundleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The manifest file does not exist or cannot be read.
    case unreadableManifest(manifest: String, reason: String)
    /// The manifest is not valid JSON or not an object.
    case invalidJSON(manifest: String, reason: String)
    /// A required field is absent.
    case missingField(manifest: String, field: String)
    /// A field has the wrong JSON type (e.g. a number where a list of strings belongs).
    case wrongType(manifest: String, field: String, expected: String)
    /// A field has a value that does not fit the bundle or its network.
    case invalidField(manifest: String, field: String, reason: String)
    /// `network` names neither a file inside the bundle nor a known network.
    case unknownNetwork(manifest: String, field: String, name: String, searched: [String])
    /// A file named in the manifest is absolute or leaves its bundle (`..`, a symlink).
    case fileOutsideBundle(manifest: String, field: String, path: String)
    /// A file named in the manifest does not exist.
    case missingFile(manifest: String, field: String, path: String)
    /// The network file failed to load (its own error, already naming the file).
    case networkFailed(manifest: String, field: String, reason: String)

    /// The manifest (or data file) path the error is about.
    public var manifest: String {
        switch self {
        case .unreadableManifest(let m, _), .invalidJSON(let m, _), .missingField(let m, _),
             .wrongType(let m, _, _), .invalidField(let m, _, _), .unknownNetwork(let m, _, _, _),
             .fileOutsideBundle(let m, _, _), .missingFile(let m, _, _), .networkFailed(let m, _, _):
            return m
        }
    }

    /// The manifest field the error is about, when there is one.
    public var field: String? {
        switch self {
        case .unreadableManifest, .invalidJSON: return nil
        case .missingField(_, let f), .wrongType(_, let f, _), .invalidField(_, let f, _),
             .unknownNetwork(_, let f, _, _), .fileOutsideBundle(_, let f, _), .missingFile(_, let f, _),
             .networkFailed(_, let f, _):
            return f
        }
    }

    public var description: String {
        switch self {
        case .unreadableManifest(let m, let why): return "manifest \(m): cannot be read (\(Excerpt.quote(why, limit: 300)))"
        case .invalidJSON(let m, let why): return "manifest \(m): not valid JSON (\(Excerpt.quote(why, limit: 300)))"
        case .missingField(let m, let f): return "manifest \(m): field '\(f)' is missing"
        case .wrongType(let m, let f, let e): return "manifest \(m): field '\(f)' must be \(e)"
        case .invalidField(let m, let f, let why): return "manifest \(m): field '\(f)': \(Excerpt.quote(why, limit: 300))"
        case .unknownNetwork(let m, let f, let n, let searched):
            let where_ = searched.isEmpty ? "no Networks/ folder found" : "searched " + searched.joined(separator: ", ")
            return "manifest \(m): field '\(f)': unknown network '\(Excerpt.quote(n))' (not a file in the bundle; \(where_))"
        case .fileOutsideBundle(let m, let f, let p):
            return "manifest \(m): field '\(f)': file '\(Excerpt.quote(p))' must be a relative path inside the bundle (no absolute paths, no '..', no symlinks leaving it)"
        case .missingFile(let m, let f, let p): return "manifest \(m): field '\(f)': file '\(Excerpt.quote(p))' does not exist"
        case .networkFailed(let m, let f, let why): return "manifest \(m): field '\(f)': \(Excerpt.quote(why, limit: 400))"
        }
    }
}

/// A flux file (`fluxes.json`) that cannot be turned into a `FluxState`.
public struct FluxFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Path of the flux file.
    public var file: String
    /// The reaction the problem is about, when there is one.
    public var reaction: String?
    public var reason: String

    public init(file: String, reaction: String? = nil, reason: String) {
        self.file = file
        self.reaction = reaction
        self.reason = reason
    }

    public var description: String {
        if let r = reaction { return "\(file): reaction '\(r)': \(reason)" }
        return "\(file): \(reason)"
    }
}
