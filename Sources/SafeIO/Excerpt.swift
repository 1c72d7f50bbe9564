import Foundation

/// Short, printable quotations of user input for error messages: a 100 MB field or a file
/// with only carriage returns must not be echoed whole into a one-line error.
public enum Excerpt {
    /// `text` with control characters shown as `\n`, `\r`, `\t` or `\u{…}` and cut to
    /// `limit` characters (`…` and the full length appended when cut).
    public static func quote<S: StringProtocol>(_ text: S, limit: Int = 60) -> String {
        var out = ""
        var shown = 0
        var total = 0
        for ch in text {
            total += 1
            guard shown < limit else { continue }
            shown += 1
            switch ch {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\r\n": out += "\\r\\n"
            case "\t": out += "\\t"
            default:
                if ch.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                    out += ch.unicodeScalars.map { "\\u{\(String($0.value, radix: 16))}" }.joined()
                } else {
                    out.append(ch)
                }
            }
        }
        if total > limit { out += "… (\(total) characters)" }
        return out
    }

    /// A short reason for a Foundation / POSIX error: its underlying error's description,
    /// without the `Error Domain=… Code=… UserInfo={…}` dump.
    public static func reason(_ error: any Error) -> String {
        if let e = error as? CustomStringConvertible, !(error is NSError) || type(of: error) != NSError.self {
            let s = e.description
            if !s.hasPrefix("Error Domain=") { return quote(s, limit: 200) }
        }
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError {
            return quote(underlying.localizedDescription, limit: 200)
        }
        if ns.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(ns.code)) {
            return quote(String(cString: strerror(code.rawValue)), limit: 200)
        }
        return quote(ns.localizedDescription, limit: 200)
    }
}
