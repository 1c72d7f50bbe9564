import SafeIO

/// IsoCor's result table (IsoCor 2.x, tab-separated):
///
///     sample  metabolite  derivative  isotopologue  isotopic_inchi  area  corrected_area  isotopologue_fraction  residuum  mean_enrichment
///
/// read as MLFlux's long form, line for line (so that every error names the IsoCor file's own
/// line). A MID is `isotopologue_fraction` (IsoCor's corrected areas normalised to 1), or, in a
/// table without it, `corrected_area` normalised per sample and metabolite here. IsoCor writes
/// an empty fraction where a correction failed (or every area is 0): that MID counts as not
/// measured, with a note.
///
/// Samples: with a `SampleMap`, each sample is the experiment (replicate, condition) the map
/// says, and samples the map does not name are left out with a note; without one, a bundle
/// with one experiment takes every sample as that experiment's MIDs of its own condition
/// (one prediction per sample). Metabolites: a `MetaboliteMap` row, else the measured fragment
/// of the same name (letter case ignored); metabolites that match none are left out with a note.
public enum IsoCorTable {
    /// `true` for a header (lower-cased names) of IsoCor's result table: `sample`, `metabolite`,
    /// `isotopologue` and `isotopologue_fraction` or `corrected_area`, and no `experiment` column.
    public static func recognizes(_ names: [String]) -> Bool {
        ["sample", "metabolite", "isotopologue"].allSatisfy(names.contains)
            && (names.contains("isotopologue_fraction") || names.contains("corrected_area"))
            && !names.contains("experiment") && !names.contains("tracer")
    }

    /// The header of the long form the lines are translated to.
    static func header(replicates: Bool) -> String {
        "sample,experiment,metabolite,isotopologue,fraction" + (replicates ? ",replicate" : "")
    }

    /// `lines` (header at index `h`) as MLFlux long-form lines at the same indices (rows left
    /// out become blank), and the notes on what was left out.
    /// - Throws: `LabelingTableError` naming `file`, the line and the column (or the map file's).
    static func translate(_ lines: [String], header h: Int, file: String, layout: LabelingLayout,
                          maps: IsoCorMaps) throws -> (lines: [String], notes: [String]) {
        func fail(_ line: Int, _ message: String) -> LabelingTableError { LabelingTableError(file: file, line: line, message: message) }
        let separator = ColumnTable.separator(of: lines[h])
        let names = ColumnTable.fields(lines[h], separator: separator).map { $0.lowercased() }
        let expected = "sample, metabolite, derivative, isotopologue, isotopologue_fraction or corrected_area (IsoCor's result table)"
        func column(_ name: String, required: Bool = true) throws -> Int? {
            try ColumnTable.column([name], in: names, required: required, expected: expected) { fail(h + 1, $0) }
        }
        let sc = try column("sample")!, mc = try column("metabolite")!, ic = try column("isotopologue")!
        let dc = try column("derivative", required: false)
        let fc = try column("isotopologue_fraction", required: false)
        let ac = fc == nil ? try column("corrected_area") : nil
        try TranslatedTable.check(maps, layout: layout)
        var fields: [[String]?] = Array(repeating: nil, count: lines.count)
        for i in lines.indices where i > h && !lines[i].trimmingSpaces.isEmpty {
            let f = ColumnTable.fields(lines[i], separator: separator)
            guard f.count >= names.count else { throw fail(i + 1, "expected \(names.count) fields, found \(f.count)") }
            fields[i] = f
        }
        // One MID: sample, metabolite, derivative.
        func group(_ f: [String]) -> [String] { [f[sc], f[mc], dc.map { f[$0] } ?? ""] }
        // Corrected areas normalised per MID (a table without isotopologue_fraction).
        var areaSum: [[String]: Double] = [:]
        if let ac {
            for (i, f) in fields.enumerated() {
                guard let f, !f[ac].isEmpty else { continue }
                guard let a = Double(f[ac]), a.isFinite, a >= 0 else {
                    throw fail(i + 1, "column 'corrected_area': '\(Excerpt.quote(f[ac]))' is not a finite number ≥ 0")
                }
                areaSum[group(f), default: 0] += a
            }
        }
        let quoted = ColumnTable.quoted
        var out = lines, notes: [String] = []
        out[h] = header(replicates: maps.samples?.hasReplicates ?? false)
        var skippedSamples: [String: Int] = [:], skippedMetabolites: [String: Int] = [:]
        var unmeasured: [[String]: (first: Int, last: Int, blank: Bool)] = [:], groupOrder: [[String]] = []
        for (i, f) in fields.enumerated() {
            guard let f else { continue }
            let line = i + 1
            out[i] = ""
            let target: (experiment: String, replicate: String, condition: String)
            if let map = maps.samples {
                guard let x = map.entry(f[sc]) else {
                    if skippedSamples[f[sc]] == nil { skippedSamples[f[sc]] = line }
                    continue
                }
                target = (x.experiment, x.replicate, x.condition)
            } else if layout.experimentIDs.count == 1 {
                target = (layout.experimentIDs[0], "", f[sc])
            } else {
                throw fail(line, "column 'sample': the model has experiments \(layout.experimentIDs.joined(separator: ", ")); give --sample-map FILE.csv (columns \(SampleMap.expected)) to say which one sample '\(Excerpt.quote(f[sc]))' is")
            }
            let derivative = dc.map { f[$0] } ?? ""
            guard let m = try TranslatedTable.fragment(f[mc], derivative: derivative, column: "metabolite", layout: layout,
                                                        maps: maps, fail: { fail(line, $0) }) else {
                let key = derivative.isEmpty ? f[mc] : "\(f[mc]) (\(derivative))"
                if skippedMetabolites[key] == nil { skippedMetabolites[key] = line }
                continue
            }
            let metabolite = layout.fragmentNames[m]
            var fraction: String
            if let fc {
                fraction = f[fc]
                if fraction.lowercased() == "nan" { fraction = "" }
            } else {
                let a = f[ac!], sum = areaSum[group(f)] ?? 0
                fraction = a.isEmpty || sum <= 0 ? "" : "\(Double(a)! / sum)"
            }
            let g = group(f)
            if let u = unmeasured[g] {
                unmeasured[g] = (u.first, line, u.blank && fraction.isEmpty)
            } else {
                unmeasured[g] = (line, line, fraction.isEmpty)
                groupOrder.append(g)
            }
            var row = [target.condition, target.experiment, metabolite, f[ic], fraction].map(quoted)
            if maps.samples?.hasReplicates ?? false { row.append(quoted(target.replicate)) }
            out[i] = row.joined(separator: ",")
        }
        let listed = TranslatedTable.listed
        if !skippedSamples.isEmpty, let map = maps.samples {
            notes.append("\(file): left out \(skippedSamples.count) sample(s) that the sample map \(map.file) does not name: \(listed(skippedSamples))")
        }
        if !skippedMetabolites.isEmpty {
            notes.append("\(file): left out \(skippedMetabolites.count) metabolite(s) that match no measured metabolite of the model (\(layout.fragmentNames.joined(separator: ", "))): \(listed(skippedMetabolites)); name them with --metabolite-map")
        }
        let blank = groupOrder.filter { unmeasured[$0]!.blank }
        if !blank.isEmpty {
            let shown = blank.prefix(10).map { g in "\(g[0]) \(g[1])\(g[2].isEmpty ? "" : " (\(g[2]))") (lines \(unmeasured[g]!.first)–\(unmeasured[g]!.last))" }
            notes.append("\(file): no isotopologue fraction for \(shown.joined(separator: ", "))\(blank.count > 10 ? " and \(blank.count - 10) more" : ""): IsoCor's correction failed or every area is 0; not measured")
        }
        return (out, notes)
    }
}
