import Foundation

/// One-line wording of a `DecodingError` for a JSON file: the field path and what was
/// wrong (`field 'layout.isotopologues[2]': expected a number`), never the full dump.
public enum DecodingErrorText {
    public static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { k in k.intValue.map { "[\($0)]" } ?? k.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        func field(_ keys: [any CodingKey]) -> String { keys.isEmpty ? "the top level" : "field '\(path(keys))'" }
        switch error {
        case .keyNotFound(let key, let ctx):
            return "field '\(path(ctx.codingPath + [key]))' is missing"
        case .valueNotFound(let type, let ctx):
            return "\(field(ctx.codingPath)) is null, expected \(word(type))"
        case .typeMismatch(let type, let ctx):
            return "\(field(ctx.codingPath)) must be \(word(type))"
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty {
                let detail = (ctx.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return "not valid JSON (\(Excerpt.quote(detail ?? ctx.debugDescription, limit: 120)))"
            }
            return "\(field(ctx.codingPath)): \(Excerpt.quote(ctx.debugDescription, limit: 120))"
        @unknown default:
            return Excerpt.quote(String(describing: error), limit: 120)
        }
    }

    /// A reader's word for a Swift type ("a string", "a number", "a list").
    static func word(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is UInt64.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default:
            let t = String(describing: type)
            if t.hasPrefix("Array") { return "a list" }
            if t.hasPrefix("Dictionary") { return "an object" }
            return "a \(t)"
        }
    }
}
