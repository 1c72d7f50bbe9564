import Foundation

/// The fields of an HTML form post: `multipart/form-data` (RFC 7578; a file field's content
/// as its value) or `application/x-www-form-urlencoded`. Field values are UTF-8 text; the
/// body was bounded before it got here.
struct FormData {
    /// Fields in order; a name may repeat (checkboxes).
    var fields: [(name: String, value: String)] = []

    func value(_ name: String) -> String? { fields.first { $0.name == name }?.value }
    func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    /// - Throws: `ServiceError` 400 naming what is malformed.
    static func multipart(_ body: [UInt8], boundary: String) throws -> FormData {
        guard !boundary.isEmpty, boundary.utf8.count <= 200 else { throw ServiceError.badRequest("multipart form: missing or too long boundary") }
        let delimiter = Array(("--" + boundary).utf8)
        var positions: [Int] = []
        var i = 0
        while let p = find(delimiter, in: body, from: i) {
            positions.append(p)
            i = p + delimiter.count
        }
        guard positions.count >= 2 else { throw ServiceError.badRequest("multipart form: no parts delimited by the boundary") }
        var form = FormData()
        for (a, b) in zip(positions, positions.dropFirst()) {
            var start = a + delimiter.count
            // "\r\n" after the delimiter; the part ends with "\r\n" before the next one.
            if start + 1 < body.count, body[start] == 13, body[start + 1] == 10 { start += 2 }
            var end = b
            if end >= 2, body[end - 2] == 13, body[end - 1] == 10 { end -= 2 }
            guard start <= end else { continue }
            let part = Array(body[start..<end])
            guard let split = find([13, 10, 13, 10], in: part, from: 0) else {
                throw ServiceError.badRequest("multipart form: a part has no blank line after its headers")
            }
            guard let headers = String(bytes: part[..<split], encoding: .utf8) else {
                throw ServiceError.badRequest("multipart form: part headers are not UTF-8")
            }
            var name: String?
            for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                name = parameter("name", in: String(line))
            }
            guard let name else { throw ServiceError.badRequest("multipart form: a part has no Content-Disposition name") }
            let content = part[(split + 4)...]
            guard let value = String(bytes: content, encoding: .utf8) else {
                throw ServiceError.badRequest("form field '\(name.prefix(60))' is not UTF-8 text (upload a CSV or TSV text table)")
            }
            form.fields.append((name, value))
        }
        return form
    }

    static func urlEncoded(_ body: [UInt8]) throws -> FormData {
        guard let text = String(bytes: body, encoding: .utf8) else { throw ServiceError.badRequest("form is not UTF-8 text") }
        var form = FormData()
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) throws -> String {
                guard let d = s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw ServiceError.badRequest("form: '\(s.prefix(40))' is not valid percent-encoding")
                }
                return d
            }
            form.fields.append((try decode(kv[0]), kv.count > 1 ? try decode(kv[1]) : ""))
        }
        return form
    }

    /// `key="value"` after the first `;` of a header value or line (quoted or bare; the key
    /// case-insensitive): a Content-Disposition `name`, a Content-Type `boundary`.
    static func parameter(_ key: String, in line: String) -> String? {
        for piece in line.split(separator: ";").dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, kv[0].lowercased() == key else { continue }
            var v = kv[1]
            if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
            return v
        }
        return nil
    }

    /// First index of `needle` in `haystack` at or after `from`.
    static func find<C: RandomAccessCollection>(_ needle: [UInt8], in haystack: C, from: Int) -> Int? where C.Element == UInt8, C.Index == Int {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        let base = haystack.startIndex
        var i = base + from
        let last = haystack.endIndex - needle.count
        while i <= last {
            if haystack[i] == needle[0] {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i - base }
            }
            i += 1
        }
        return nil
    }
}
