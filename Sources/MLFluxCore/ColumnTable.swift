import SafeIO

/// A small CSV or TSV table whose columns are found by name, in any order (a tab in the
/// header makes it tab-separated; fields may be wrapped in double quotes; blank lines are
/// skipped). Readers of the bundle side files (flux bounds, tracer lists) build on it so
/// that every problem is reported as one `LabelingTableError` naming the file and line.
public struct ColumnTable: Sendable {
    /// One data row: its 1-based line number and its fields (trimmed, unquoted).
    public struct Row: Sendable {
        public var line: Int
        public var fields: [String]
    }

    public let file: String
    /// Lower-cased header names, in file order.
    public let names: [String]
    /// Line number of the header.
    public let headerLine: Int
    public let rows: [Row]
    /// The column list shown when a column is missing, e.g. `reaction,kind,lower,upper`.
    private let expected: String

    /// Reads the table at `path` (a regular text file).
    public static func read(contentsOf path: String, expected: String, what: String) throws -> ColumnTable {
        let reader = try LineReader(path: path, what: what)
        return try parse(lines: reader.next, file: path, expected: expected)
    }

    /// Parses `text` as the table of `file`.
    public static func parse(_ text: String, file: String, expected: String) throws -> ColumnTable {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .makeIterator()
        return try parse(lines: { lines.next().map(String.init) }, file: file, expected: expected)
    }

    static func parse(lines next: () throws -> String?, file: String, expected: String) throws -> ColumnTable {
        var lineNumber = 0
        var header: String?
        while let l = try next() {
            lineNumber += 1
            if !l.trimmingSpaces.isEmpty { header = l; break }
        }
        guard let header else {
            throw LabelingTableError(file: file, line: nil, message: "empty file; expected a header with columns \(expected)")
        }
        let separator = Self.separator(of: header)
        let names = Self.fields(header, separator: separator).map { $0.lowercased() }
        let headerLine = lineNumber
        var rows: [Row] = []
        while let raw = try next() {
            lineNumber += 1
            if raw.trimmingSpaces.isEmpty { continue }
            let f = Self.fields(raw, separator: separator)
            guard f.count >= names.count else {
                throw LabelingTableError(file: file, line: lineNumber, message: "expected \(names.count) fields, found \(f.count)")
            }
            rows.append(Row(line: lineNumber, fields: f))
        }
        return ColumnTable(file: file, names: names, headerLine: headerLine, rows: rows, expected: expected)
    }

    private init(file: String, names: [String], headerLine: Int, rows: [Row], expected: String) {
        self.file = file; self.names = names; self.headerLine = headerLine; self.rows = rows; self.expected = expected
    }

    /// Index of the column named by one of `aliases` (the first alias names it in messages).
    /// - Throws: when it is given twice, or is absent and `required`.
    public func column(_ aliases: [String], required: Bool = true) throws -> Int? {
        try Self.column(aliases, in: names, required: required, expected: expected) { error(headerLine, $0) }
    }

    /// Index in the header `names` of the column named by one of `aliases` (the first alias
    /// names it in messages); `fail` makes the error of a column given twice, or absent and
    /// `required` (the message lists `expected`).
    public static func column(_ aliases: [String], in names: [String], required: Bool, expected: String,
                              fail: (String) -> any Error) throws -> Int? {
        let found = names.indices.filter { aliases.contains(names[$0]) }
        if found.count > 1 { throw fail("column '\(aliases[0])' is given \(found.count) times") }
        if found.isEmpty && required {
            throw fail("no '\(aliases[0])' column (columns: \(expected); found '\(Excerpt.quote(names.joined(separator: ",")))')")
        }
        return found.first
    }

    /// An error naming this table's file and `line`.
    public func error(_ line: Int?, _ message: String) -> LabelingTableError {
        LabelingTableError(file: file, line: line, message: message)
    }

    /// `field` as one CSV field: in double quotes (quotes doubled) when it holds a comma or a quote.
    public static func quoted(_ field: String) -> String {
        field.contains(",") || field.contains("\"") ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }

    /// Tab when the header has one, else comma.
    public static func separator(of header: String) -> Character { header.contains("\t") ? "\t" : "," }

    /// The fields of one line, trimmed and unquoted: a field in double quotes may hold the
    /// separator and doubled quotes (a quoted `a, ""b""` reads `a, "b"`), as spreadsheets write them.
    public static func fields(_ line: String, separator: Character) -> [String] {
        guard line.contains("\"") else { return line.split(separator: separator, omittingEmptySubsequences: false).map(unquoted) }
        var out: [String] = [], field = "", inQuotes = false, wasQuoted = false
        let chars = Array(line)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.append("\""); i += 1 } else { inQuotes = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" && field.trimmingSpaces.isEmpty && !wasQuoted {
                inQuotes = true
                wasQuoted = true
                field = ""
            } else if c == separator {
                out.append(wasQuoted ? field : field.trimmingSpaces)
                field = ""
                wasQuoted = false
            } else if !(wasQuoted && (c == " " || c == "\t")) {
                field.append(c)
            }
            i += 1
        }
        out.append(wasQuoted ? field : field.trimmingSpaces)
        return out
    }

    private static func unquoted(_ s: Substring) -> String {
        var t = String(s).trimmingSpaces
        if t.count >= 2, t.hasPrefix("\""), t.hasSuffix("\"") { t = String(t.dropFirst().dropLast()) }
        return t
    }
}
