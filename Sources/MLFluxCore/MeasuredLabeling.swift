import SafeIO

/// Measured MIDs placed in a `LabelingLayout`: values, standard deviations and a mask
/// of what was measured. Missing entries are NaN with `mask == false`.
public struct MeasuredLabeling: Sendable, Equatable {
    public let layout: LabelingLayout
    /// Fractions in layout order (NaN where not measured).
    public var values: [Double]
    /// Standard deviations in layout order (NaN where not given).
    public var stddev: [Double]
    /// `true` where a value was measured.
    public var mask: [Bool]
    /// Notes for the user (e.g. MIDs that were renormalised).
    public var notes: [String] = []

    public init(layout: LabelingLayout, values: [Double], stddev: [Double], mask: [Bool]) {
        self.layout = layout
        self.values = values
        self.stddev = stddev
        self.mask = mask
    }

    /// Smallest standard deviation accepted for a MID entry (from a table or an option).
    /// Below it the weights 1/σ² of a least-squares fit overflow or lose all precision
    /// (σ = 1e-155 gives 1/σ² = inf); simulated Float32 data are exact to ~6e-8 · value.
    public static let minimumStddev = 1e-12

    /// `true` when every entry of the layout was measured.
    public var isComplete: Bool { !mask.contains(false) }
}

/// Problems in a long-form labeling CSV; each names the file and line.
public struct LabelingTableError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String
    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

/// Reads measured MIDs in long form:
///
///     experiment,metabolite,isotopologue,fraction[,stddev]
///     A_100,molB,0,0.0714
///     A_100,molB,M+1,0.9286
///
/// Columns are found by name in any order (extra columns ignored; aliases `tracer`,
/// `fragment`, `isotopomer`/`mass`, `isotopologue_fraction`/`abundance`, `sd`/`sigma`),
/// comma- or tab-separated (a tab in the header), fields optionally in double quotes; a
/// `sample` column may name one sample only (`readSamples` splits a table of several). Wide tables — `experiment,metabolite,M+0,M+1,…`
/// (or `M0`, `m+0`), one row per MID, cells beyond a MID's length empty — read the same.
/// With a `replicate` column, rows of the same entry in different replicates are averaged;
/// without a stated stddev an entry's σ is the standard error of its mean.
/// `isotopologue` is `k`, `Mk` or `M+k`. Experiments and metabolites are the ids of the
/// bundle's layout (`mlflux describe`). A metabolite's MID in an experiment is either
/// given completely or not at all; fractions must be finite, non-negative and sum to 1
/// within `tolerance` (or, with `normalize`, are rescaled to sum to 1 and noted). Rows
/// with an empty fraction (a blank template row) count as not measured.
///
/// IsoCor's result table (`IsoCorTable`) and INCA's MS table (`INCATable`) are recognised by
/// their headers and read line for line as this long form, their samples placed by an optional
/// `SampleMap`, their metabolites by name or an optional `MetaboliteMap` (`IsoCorMaps`).
public enum LabelingTable {
    public static func parse(_ text: String, file: String, layout: LabelingLayout,
                             tolerance: Double = 0.01, normalize: Bool = false) throws -> MeasuredLabeling {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .makeIterator()
        return try parse(lines: { lines.next().map(String.init) }, file: file, layout: layout,
                         tolerance: tolerance, normalize: normalize)
    }

    /// Reads the table at `path` line by line: a file of any size is rejected at its first bad
    /// line (and a valid table has at most one row per layout entry, so memory stays small).
    /// IsoCor's result table (`IsoCorTable`) is recognised by its header and read with `maps`.
    /// - Throws: `LabelingTableError` naming the file and line; `InputFileError` for a file
    ///   that is not a regular text file.
    public static func read(contentsOf path: String, layout: LabelingLayout,
                            tolerance: Double = 0.01, normalize: Bool = false,
                            maps: IsoCorMaps = IsoCorMaps()) throws -> MeasuredLabeling {
        let reader = try LineReader(path: path, what: "MID table")
        var head: [String] = []
        while let l = try reader.next() {
            head.append(l)
            if !l.trimmingSpaces.isEmpty { break }
        }
        if let header = head.last, isTranslated(header) || !maps.isEmpty {
            while let l = try reader.next() { head.append(l) }
            let t = try translated(head, file: path, layout: layout, maps: maps, tolerance: tolerance)
            var it = t.lines.makeIterator()
            var m = try parse(lines: { it.next() }, file: path, layout: layout, tolerance: tolerance, normalize: normalize)
            m.notes = t.notes + m.notes
            return m
        }
        var it = head.makeIterator()
        return try parse(lines: { try it.next() ?? reader.next() }, file: path, layout: layout, tolerance: tolerance, normalize: normalize)
    }

    /// The table at `path` split by its `sample` column: one measurement per sample, in order of
    /// first appearance (errors still name the file's own line numbers); a table without a
    /// `sample` column is one measurement named "". Replicates of a sample are averaged.
    public static func readSamples(contentsOf path: String, layout: LabelingLayout,
                                   tolerance: Double = 0.01, normalize: Bool = false,
                                   maps: IsoCorMaps = IsoCorMaps()) throws -> [(sample: String, labeling: MeasuredLabeling)] {
        try split(path, layout: layout, tolerance: tolerance, normalize: normalize, maps: maps, replicates: false)
            .map { ($0.sample, $0.replicates[0].labeling) }
    }

    /// The table at `path` split by its `sample` column and, within a sample, by its
    /// `replicate` column: each replicate its own measurement (replicates in order of first
    /// appearance; a sample without a `replicate` column is one replicate named "").
    public static func readReplicates(contentsOf path: String, layout: LabelingLayout,
                                      tolerance: Double = 0.01, normalize: Bool = false,
                                      maps: IsoCorMaps = IsoCorMaps()) throws
        -> [(sample: String, replicates: [(replicate: String, labeling: MeasuredLabeling)])] {
        try split(path, layout: layout, tolerance: tolerance, normalize: normalize, maps: maps, replicates: true)
    }

    /// The lower-cased column names of `header`.
    private static func names(_ header: String) -> [String] {
        ColumnTable.fields(header, separator: ColumnTable.separator(of: header)).map { $0.lowercased() }
    }

    /// `true` when `header` is IsoCor's result table's or INCA's MS table's.
    private static func isTranslated(_ header: String) -> Bool {
        IsoCorTable.recognizes(names(header)) || INCATable.recognizes(names(header))
    }

    /// `lines` as MLFlux long form: an IsoCor result table or an INCA MS table translated line
    /// for line, any other table as it is (an error when `maps` are given for it).
    private static func translated(_ lines: [String], file: String, layout: LabelingLayout,
                                   maps: IsoCorMaps, tolerance: Double) throws -> (lines: [String], notes: [String]) {
        guard let h = lines.firstIndex(where: { !$0.trimmingSpaces.isEmpty }) else { return (lines, []) }
        if IsoCorTable.recognizes(names(lines[h])) {
            return try IsoCorTable.translate(lines, header: h, file: file, layout: layout, maps: maps)
        }
        if INCATable.recognizes(names(lines[h])) {
            return try INCATable.translate(lines, header: h, file: file, layout: layout, maps: maps, tolerance: tolerance)
        }
        guard maps.isEmpty else {
            throw LabelingTableError(file: file, line: h + 1, message: "--sample-map and --metabolite-map apply to IsoCor's result table (columns \(IsoCorTable.header(replicates: false)) … with isotopologue_fraction or corrected_area, no experiment column) and INCA's MS table (experiment_id, ms_id, mass_isotope, intensity, …); this table is MLFlux's own")
        }
        return (lines, [])
    }

    /// The table split by sample and, with `replicates`, by replicate; each part is parsed with
    /// the other parts' lines blank (so errors name the file's own lines). Notes of the
    /// translation go with the first part.
    private static func split(_ path: String, layout: LabelingLayout, tolerance: Double, normalize: Bool,
                              maps: IsoCorMaps, replicates: Bool) throws
        -> [(sample: String, replicates: [(replicate: String, labeling: MeasuredLabeling)])] {
        let reader = try LineReader(path: path, what: "MID table")
        var raw: [String] = []
        while let l = try reader.next() { raw.append(l) }
        let (lines, notes) = try translated(raw, file: path, layout: layout, maps: maps, tolerance: tolerance)
        func parsed(keeping keep: (Int) -> Bool) throws -> MeasuredLabeling {
            var i = 0
            return try parse(lines: {
                defer { i += 1 }
                guard i < lines.count else { return nil }
                return keep(i) ? lines[i] : ""
            }, file: path, layout: layout, tolerance: tolerance, normalize: normalize)
        }
        guard let h = lines.firstIndex(where: { !$0.trimmingSpaces.isEmpty }) else {
            return [("", [("", try parsed { _ in true })])]
        }
        let separator = ColumnTable.separator(of: lines[h])
        let names = ColumnTable.fields(lines[h], separator: separator).map { $0.lowercased() }
        // The value of a column on each data line (nil: the header, blank or short lines), and its values in order.
        func values(_ name: [String]) -> (of: [String?], order: [String]) {
            guard let c = names.firstIndex(where: name.contains) else {
                return (lines.indices.map { $0 > h && !lines[$0].trimmingSpaces.isEmpty ? "" : nil }, [""])
            }
            let of: [String?] = lines.indices.map { i in
                guard i > h, !lines[i].trimmingSpaces.isEmpty else { return nil }
                let f = ColumnTable.fields(lines[i], separator: separator)
                return c < f.count ? f[c] : nil
            }
            var order: [String] = [], seen = Set<String>()
            for case let s? in of where !seen.contains(s) { seen.insert(s); order.append(s) }
            return (of, order.isEmpty ? [""] : order)
        }
        let samples = values(["sample"])
        let reps: (of: [String?], order: [String]) = replicates ? values(["replicate", "rep"]) : (lines.indices.map { _ in nil }, [""])
        var out: [(sample: String, replicates: [(replicate: String, labeling: MeasuredLabeling)])] = []
        for sample in samples.order {
            // A line of no sample (a short line) goes with every part, to be reported there.
            func inSample(_ i: Int) -> Bool { i <= h || samples.of[i] == nil || samples.of[i] == sample || samples.order.count == 1 }
            let names = replicates ? reps.order.filter { r in lines.indices.contains { inSample($0) && $0 > h && reps.of[$0] == r } } : [""]
            var parts: [(replicate: String, labeling: MeasuredLabeling)] = []
            for r in names.isEmpty ? [""] : names {
                var m = try parsed { i in inSample(i) && (!replicates || reps.of[i] == nil || reps.of[i] == r || reps.order.count == 1) }
                if out.isEmpty && parts.isEmpty { m.notes = notes + m.notes }
                parts.append((r, m))
            }
            out.append((sample, parts))
        }
        return out
    }

    /// The parser over a source of lines (`nil` at the end).
    static func parse(lines next: () throws -> String?, file: String, layout: LabelingLayout,
                      tolerance: Double, normalize: Bool) throws -> MeasuredLabeling {
        func fail(_ line: Int?, _ msg: String) -> LabelingTableError { LabelingTableError(file: file, line: line, message: msg) }
        guard tolerance.isFinite, tolerance >= 0 else { throw fail(nil, "tolerance \(tolerance) must be a finite number ≥ 0") }
        var lineNumber = 1
        var header: String? = nil
        while let l = try next() {
            if !l.trimmingSpaces.isEmpty { header = l; break }
            lineNumber += 1
        }
        guard let header else { throw fail(nil, "empty file; expected header experiment,metabolite,isotopologue,fraction[,stddev]") }
        let separator = ColumnTable.separator(of: header)
        let names = ColumnTable.fields(header, separator: separator).map { $0.lowercased() }
        func column(_ aliases: [String], required: Bool = true) throws -> Int? {
            try ColumnTable.column(aliases, in: names, required: required,
                                   expected: "experiment, metabolite, isotopologue, fraction [, stddev] in any order") { fail(lineNumber, $0) }
        }
        let experimentColumn = try column(["experiment", "tracer"])!, metaboliteColumn = try column(["metabolite", "fragment"])!
        // Wide tables: one column per isotopologue (`M+0`, `M0` or `m+0` …), no isotopologue/fraction columns.
        let wide: [(k: Int, column: Int)] = names.indices.compactMap { c in
            var n = names[c].uppercased()
            guard n.hasPrefix("M") else { return nil }
            n.removeFirst()
            if n.hasPrefix("+") { n.removeFirst() }
            return Int(n).flatMap { $0 >= 0 ? ($0, c) : nil }
        }
        let long = names.contains { ["isotopologue", "isotopomer", "mass"].contains($0) } || wide.isEmpty
        let isotopologueColumn = long ? try column(["isotopologue", "isotopomer", "mass"]) : nil
        let fractionColumn = long ? try column(["fraction", "isotopologue_fraction", "abundance"]) : nil
        let stddevColumn = try column(["stddev", "sd", "sigma"], required: false)
        let sampleColumn = try column(["sample"], required: false)
        let replicateColumn = try column(["replicate", "rep"], required: false)
        // Replicates: per entry the sum, sum of squares and replicate names seen.
        var sum = [Double](repeating: 0, count: layout.count), sumSquares = sum
        var replicates = [[String]](repeating: [], count: layout.count)
        var sample: (name: String, line: Int)?
        var values = [Double](repeating: .nan, count: layout.count)
        var sd = values
        var mask = [Bool](repeating: false, count: layout.count)
        var rowOf = [Int](repeating: 0, count: layout.count)
        var experimentIndex: [String: Int] = [:], fragmentIndex: [String: Int] = [:]
        for (i, id) in layout.experimentIDs.enumerated() where experimentIndex[id] == nil { experimentIndex[id] = i }
        for (i, id) in layout.fragmentNames.enumerated() where fragmentIndex[id] == nil { fragmentIndex[id] = i }
        while let raw = try next() {
            lineNumber += 1
            let line = lineNumber
            if raw.trimmingSpaces.isEmpty { continue }
            let all = ColumnTable.fields(raw, separator: separator)
            guard all.count >= names.count else {
                throw fail(line, "expected \(names.count) fields, found \(all.count)")
            }
            // One measurement per call: a table of several samples is filtered first.
            if let c = sampleColumn {
                if let first = sample, first.name != all[c] {
                    throw fail(line, "sample '\(Excerpt.quote(all[c]))' differs from '\(Excerpt.quote(first.name))' (line \(first.line)); one sample per table: keep its rows only")
                }
                if sample == nil { sample = (all[c], line) }
            }
            let cells: [(iso: String, fraction: String)] = long
                ? [(all[isotopologueColumn!], all[fractionColumn!])]
                : wide.map { ("\($0.k)", all[$0.column]) }
            for cell in cells {
            let f = [all[experimentColumn], all[metaboliteColumn], cell.iso, cell.fraction, stddevColumn.map { all[$0] } ?? ""]
            if !long, let k = Int(f[2]), let m = fragmentIndex[f[1]], k >= layout.isotopologues[m] {
                // A wide table's columns span the longest MID: shorter MIDs leave theirs empty (or 0).
                guard f[3].isEmpty || Double(f[3]) == 0 else {
                    throw fail(line, "column M+\(k) of '\(Excerpt.quote(f[1]))' must be empty: its MID has \(layout.isotopologues[m]) entries")
                }
                continue
            }
            guard let e = experimentIndex[f[0]] else {
                throw fail(line, "unknown experiment '\(Excerpt.quote(f[0]))'; known: \(layout.experimentIDs.joined(separator: ", "))")
            }
            guard let m = fragmentIndex[f[1]] else {
                throw fail(line, "unknown metabolite '\(Excerpt.quote(f[1]))'; known: \(layout.fragmentNames.joined(separator: ", "))")
            }
            var iso = f[2].uppercased()
            if iso.hasPrefix("M+") { iso.removeFirst(2) } else if iso.hasPrefix("M") { iso.removeFirst() }
            guard let k = Int(iso), k >= 0, k < layout.isotopologues[m] else {
                throw fail(line, "isotopologue '\(Excerpt.quote(f[2]))' of '\(f[1])' must be 0…\(layout.isotopologues[m] - 1)")
            }
            if f[3].isEmpty { continue }  // a template row (or cell) left blank: not measured
            guard var x = Double(f[3]), x.isFinite else { throw fail(line, "fraction '\(Excerpt.quote(f[3]))' is not a finite number") }
            // Round-off from a correction or a spreadsheet (e.g. −5.8e-16) is 0, not an error.
            guard x >= -Self.roundOff else { throw fail(line, "fraction \(x) is negative") }
            x = max(x, 0)
            let idx = layout.offsets[m] + e * layout.blockSize + k
            let replicate = replicateColumn.map { all[$0] } ?? ""
            guard !mask[idx] || (replicateColumn != nil && !replicates[idx].contains(replicate)) else {
                throw fail(line, "duplicate row for \(f[0]) \(f[1]) M+\(k) (first given on line \(rowOf[idx]))\(replicateColumn == nil ? "; replicates need a 'replicate' column" : "")")
            }
            replicates[idx].append(replicate)
            sum[idx] += x
            sumSquares[idx] += x * x
            if !f[4].isEmpty {
                guard let s = Double(f[4]), s.isFinite, s > 0 else {
                    throw fail(line, "stddev '\(Excerpt.quote(f[4]))' is not a positive number")
                }
                guard s >= MeasuredLabeling.minimumStddev else {
                    throw fail(line, "stddev \(s) is below \(MeasuredLabeling.minimumStddev), the smallest a fit can weigh")
                }
                sd[idx] = s
            }
            values[idx] = x
            mask[idx] = true
            if rowOf[idx] == 0 { rowOf[idx] = line }
            }
        }
        var notes: [String] = []
        // Replicates: the mean of each entry; without a stated σ, the standard error of the mean.
        if replicateColumn != nil {
            var averaged = 0
            for idx in 0..<layout.count where mask[idx] {
                let n = Double(replicates[idx].count)
                values[idx] = sum[idx] / n
                guard n > 1 else { continue }
                averaged += 1
                if sd[idx].isNaN {
                    let variance = max(sumSquares[idx] - sum[idx] * sum[idx] / n, 0) / (n - 1)
                    sd[idx] = max((variance / n).squareRoot(), MeasuredLabeling.minimumStddev)
                }
            }
            if averaged > 0 { notes.append("averaged \(averaged) entries over their replicates (σ without a stddev: standard error of the mean)") }
        }
        for e in layout.experimentIDs.indices {
            for m in layout.fragmentNames.indices {
                let start = e * layout.blockSize + layout.offsets[m], n = layout.isotopologues[m]
                let given = (start..<(start + n)).filter { mask[$0] }
                if given.isEmpty { continue }
                let name = "\(layout.experimentIDs[e]) \(layout.fragmentNames[m])"
                guard given.count == n else {
                    let missing = (0..<n).filter { !mask[start + $0] }.map { "M+\($0)" }.joined(separator: ", ")
                    throw fail(rowOf[given[0]], "MID of \(name) is incomplete: \(missing) missing")
                }
                if let other = given.first(where: { Set(replicates[$0]) != Set(replicates[given[0]]) }) {
                    throw fail(rowOf[other], "MID of \(name): replicates \(replicates[given[0]].joined(separator: ", ")) for M+0 but \(replicates[other].joined(separator: ", ")) for M+\(other - start); every replicate gives the whole MID")
                }
                let sum = given.reduce(0) { $0 + values[$1] }
                if abs(sum - 1) > tolerance || sum <= 0 {
                    guard normalize, sum > 0 else {
                        throw fail(rowOf[given[0]], "MID of \(name) sums to \(sum), not 1 (±\(tolerance)); use --normalize to rescale")
                    }
                }
                if normalize && abs(sum - 1) > 1e-12 {
                    for j in given { values[j] /= sum }
                    notes.append("renormalised \(name) (sum was \(sum))")
                }
            }
        }
        var result = MeasuredLabeling(layout: layout, values: values, stddev: sd, mask: mask)
        result.notes = notes
        return result
    }

    /// Negative fractions down to −roundOff are read as 0 (round-off of a correction).
    public static let roundOff = 1e-9

    /// An empty template with every (experiment, metabolite, isotopologue) row of `layout`
    /// (isotopologues numbered 0…n as `simulate` writes them).
    public static func template(_ layout: LabelingLayout) -> String {
        var out = "experiment,metabolite,isotopologue,fraction,stddev\n"
        for e in layout.experimentIDs {
            for (m, name) in layout.fragmentNames.enumerated() {
                for k in 0..<layout.isotopologues[m] { out += "\(e),\(name),\(k),,\n" }
            }
        }
        return out
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
