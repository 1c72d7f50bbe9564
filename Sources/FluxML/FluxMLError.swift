import SafeIO

/// An error found while reading a FluxML document. Every case carries the file
/// name and, where known, the line, so its description reads
/// `toy.fml:12: pool 'molA': attribute 'atoms' is not a non-negative integer: 'x'`.
///
/// Semantic errors found by `MetabolicNetwork.init` (`NetworkError`) are not
/// wrapped in this type but in `SourceLocatedError`.
public enum FluxMLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// libxml2 rejected the document as not well-formed XML.
    case malformedXML(file: String, line: Int?, message: String)
    /// The document has a DOCTYPE that declares entities or names an external DTD.
    case forbiddenDoctype(file: String, line: Int?, reason: String)
    /// The root element is not `<fluxml>`.
    case notFluxML(file: String, line: Int?, root: String)
    /// An element lacks a required attribute.
    case missingAttribute(file: String, line: Int?, element: String, attribute: String)
    /// An attribute value is not acceptable (e.g. a non-integer atom count).
    case invalidAttribute(file: String, line: Int?, element: String, attribute: String, value: String, reason: String)
    /// A required element is missing, or an element is not supported.
    case invalidElement(file: String, line: Int?, element: String, reason: String)
    /// A constraint statement could not be parsed.
    case invalidConstraint(file: String, line: Int?, statement: String, reason: String)
    /// A tracer label (`<label cfg=… purity=…>fraction</label>`) is not acceptable.
    case invalidLabel(file: String, line: Int?, cfg: String, reason: String)
    /// A measurement (`configuration/measurement`: a labeling or flux group, or a datum)
    /// is not acceptable; `id` is the group or datum id (empty when it has none).
    case invalidMeasurement(file: String, line: Int?, id: String, reason: String)

    public var file: String {
        switch self {
        case .unreadable(let f, _), .malformedXML(let f, _, _), .forbiddenDoctype(let f, _, _),
             .notFluxML(let f, _, _), .missingAttribute(let f, _, _, _),
             .invalidAttribute(let f, _, _, _, _, _), .invalidElement(let f, _, _, _),
             .invalidConstraint(let f, _, _, _), .invalidLabel(let f, _, _, _),
             .invalidMeasurement(let f, _, _, _):
            return f
        }
    }

    public var line: Int? {
        switch self {
        case .unreadable: return nil
        case .malformedXML(_, let l, _), .forbiddenDoctype(_, let l, _), .notFluxML(_, let l, _),
             .missingAttribute(_, let l, _, _), .invalidAttribute(_, let l, _, _, _, _),
             .invalidElement(_, let l, _, _), .invalidConstraint(_, let l, _, _), .invalidLabel(_, let l, _, _),
             .invalidMeasurement(_, let l, _, _):
            return l
        }
    }

    /// The message without the `file:line: ` prefix.
    public var message: String {
        switch self {
        case .unreadable(_, let why): return "cannot read file: \(why)"
        case .malformedXML(_, _, let m): return "malformed XML: \(Excerpt.quote(m, limit: 200))"
        case .forbiddenDoctype(_, _, let why): return "rejected DOCTYPE: \(why)"
        case .notFluxML(_, _, let root): return "root element is <\(Excerpt.quote(root))>, expected <fluxml>"
        case .missingAttribute(_, _, let el, let a): return "<\(el)> lacks the required attribute '\(a)'"
        case .invalidAttribute(_, _, let el, let a, let v, let why):
            return "<\(el)> attribute \(Excerpt.quote(a))=\"\(Excerpt.quote(v))\": \(why)"
        case .invalidElement(_, _, let el, let why): return "<\(el)>: \(why)"
        case .invalidConstraint(_, _, let s, let why): return "cannot parse constraint '\(Excerpt.quote(s))': \(why)"
        case .invalidLabel(_, _, let cfg, let why): return "bad tracer label cfg=\"\(Excerpt.quote(cfg))\": \(why)"
        case .invalidMeasurement(_, _, let id, let why):
            return id.isEmpty ? "measurement: \(why)" : "measurement '\(Excerpt.quote(id))': \(why)"
        }
    }

    public var description: String {
        let loc = line.map { "\(file):\($0)" } ?? file
        return "\(loc): \(message)"
    }
}

/// Several defects of one FluxML file, in document order, one per line (at most `limit`;
/// `truncated` when reading stopped there).
public struct FluxMLErrors: Error, CustomStringConvertible, Sendable {
    public static let limit = 20
    public var file: String
    public var errors: [any Error]
    public var truncated: Bool
    public init(file: String, errors: [any Error], truncated: Bool) {
        self.file = file
        self.errors = errors
        self.truncated = truncated
    }
    public var description: String {
        "\(file): \(errors.count)\(truncated ? " or more" : "") problems:\n" + errors.map { "  \($0)" }.joined(separator: "\n")
            + (truncated ? "\n  (stopped after \(Self.limit))" : "")
    }
}
