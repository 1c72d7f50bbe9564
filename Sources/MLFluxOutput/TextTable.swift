/// Plain aligned text tables for terminal output.
public enum TextTable {
    /// Columns separated by two spaces; the first row is the header. Columns listed in
    /// `rightAligned` are padded on the left (numbers).
    public static func render(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                if rightAligned.contains(i) { return pad + c }
                return i == r.count - 1 ? c : c + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }
}

/// Output formats shared by the commands.
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, csv, json
}

extension String {
    public func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
