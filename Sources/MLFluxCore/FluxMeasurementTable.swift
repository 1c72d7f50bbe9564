import SafeIO

/// Reads measured fluxes (uptake, secretion, growth rates) from a CSV or TSV table whose
/// columns are found by name, in any order:
///
///     reaction,value,stddev[,kind]
///     GLC_IN,2.31,0.12
///     LAC_OUT,3.9,0.2,net
///
/// `reaction` (alias `flux`) is a reaction id of the network; `value` (alias `rate`) and
/// `stddev` (alias `sd`) are in the lab's flux unit (e.g. mmol/gDW/h) — a bundle's fit then
/// reports every flux in that unit; `kind` is `net` (default) or `xch`. Extra columns are
/// ignored; a tab in the header makes the table tab-separated. Each row becomes a
/// `FluxMeasurement` with id `reaction` (or `reaction.xch`) and its line.
public enum FluxMeasurementTable {
    /// - Throws: `LabelingTableError` naming the file and line (same shape as MID tables);
    ///   `InputFileError` for a file that is not a regular text file.
    public static func read(contentsOf path: String) throws -> [FluxMeasurement] {
        let reader = try LineReader(path: path, what: "flux measurement table")
        return try parse(lines: reader.next, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> [FluxMeasurement] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .makeIterator()
        return try parse(lines: { lines.next().map(String.init) }, file: file)
    }

    static func parse(lines next: () throws -> String?, file: String) throws -> [FluxMeasurement] {
        func fail(_ line: Int?, _ msg: String) -> LabelingTableError { LabelingTableError(file: file, line: line, message: msg) }
        var lineNumber = 0
        var header: String?
        while let l = try next() {
            lineNumber += 1
            if !l.trimmingSpaces.isEmpty { header = l; break }
        }
        guard let header else { throw fail(nil, "empty file; expected a header with columns reaction,value,stddev[,kind]") }
        let separator: Character = header.contains("\t") ? "\t" : ","
        let names = header.split(separator: separator, omittingEmptySubsequences: false).map { unquoted($0).lowercased() }
        func column(_ aliases: [String], required: Bool) throws -> Int? {
            let found = names.indices.filter { aliases.contains(names[$0]) }
            if found.count > 1 { throw fail(lineNumber, "column '\(aliases[0])' is given \(found.count) times") }
            if found.isEmpty && required {
                throw fail(lineNumber, "no '\(aliases[0])' column (columns: reaction,value,stddev[,kind]; found '\(Excerpt.quote(header))')")
            }
            return found.first
        }
        let reactionColumn = try column(["reaction", "flux"], required: true)!
        let valueColumn = try column(["value", "rate"], required: true)!
        let sdColumn = try column(["stddev", "sd"], required: true)!
        let kindColumn = try column(["kind"], required: false)
        var out: [FluxMeasurement] = []
        var firstLine: [String: Int] = [:]
        while let raw = try next() {
            lineNumber += 1
            if raw.trimmingSpaces.isEmpty { continue }
            let f = raw.split(separator: separator, omittingEmptySubsequences: false).map(unquoted)
            guard f.count >= names.count else { throw fail(lineNumber, "expected \(names.count) fields, found \(f.count)") }
            let reaction = f[reactionColumn]
            guard !reaction.isEmpty else { throw fail(lineNumber, "empty reaction id") }
            guard let value = Double(f[valueColumn]), value.isFinite else {
                throw fail(lineNumber, "value '\(Excerpt.quote(f[valueColumn]))' of '\(Excerpt.quote(reaction))' is not a finite number")
            }
            guard let sd = Double(f[sdColumn]), sd.isFinite, sd > 0 else {
                throw fail(lineNumber, "stddev '\(Excerpt.quote(f[sdColumn]))' of '\(Excerpt.quote(reaction))' must be a finite number > 0")
            }
            var kind = FluxKind.net
            if let kc = kindColumn, !f[kc].isEmpty {
                switch f[kc].lowercased() {
                case "net": kind = .net
                case "xch", "exchange": kind = .exchange
                default: throw fail(lineNumber, "kind '\(Excerpt.quote(f[kc]))' must be net or xch")
                }
            }
            let id = kind == .net ? reaction : reaction + ".xch"
            if let first = firstLine[id] {
                throw fail(lineNumber, "\(kind.rawValue) flux of '\(Excerpt.quote(reaction))' measured twice (first on line \(first)); give one row with the mean and its σ")
            }
            firstLine[id] = lineNumber
            out.append(FluxMeasurement(id: id, kind: kind, reaction: reaction, value: value, stddev: sd,
                                       line: lineNumber, dataLine: lineNumber))
        }
        guard !out.isEmpty else { throw fail(nil, "no measured flux (the table has a header only)") }
        return out
    }

    private static func unquoted(_ s: Substring) -> String {
        var t = String(s).trimmingSpaces
        if t.count >= 2, t.hasPrefix("\""), t.hasSuffix("\"") { t = String(t.dropFirst().dropLast()) }
        return t
    }
}
