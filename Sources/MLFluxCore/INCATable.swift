import SafeIO

/// INCA's MS measurement table as INCAWrapper writes it (Biosustain's Python front end to
/// INCA; CSV or TSV, columns by name in any order):
///
///     experiment_id,met_id,ms_id,measurement_replicate,labelled_atom_ids,unlabelled_atoms,mass_isotope,intensity,intensity_std_error,time
///     exp1,ser,ser_390,1,"[1, 2, 3]",C14H40O3NSi3,0,0.2000,0.0200,0
///
/// read as MLFlux's long form, line for line (so that every error names the INCA file's own
/// line). INCAWrapper's export for INCA's GUI (space-separated lists in one cell) is refused
/// with a line naming the cell: one row per mass isotope.
///
/// - A MID is one `(experiment_id, ms_id, measurement_replicate)`: its intensities are
///   normalised to sum 1 (INCA does not require summed intensities), each standard error
///   divided by the same sum; a MID whose sum differs from 1 by more than `tolerance` is noted.
///   Isotopologues must be complete (INCA allows gaps; a partial MID cannot be normalised).
/// - `ms_id` is the model's measured fragment of that name (letter case ignored) or a
///   `MetaboliteMap` row naming it; other fragments are left out with a note. The number of
///   `labelled_atom_ids` must equal the fragment's traced atoms. `unlabelled_atoms` is not
///   used: a fragment's natural abundance comes from the bundle's formula (noted once).
/// - `experiment_id` is a model experiment id, a `SampleMap` sample (its experiment,
///   replicate and condition), or — for a one-experiment model and a table of one
///   experiment_id — that experiment (noted).
/// - Isotopic steady state only: rows at more than one `time` are an error.
public enum INCATable {
    /// `true` for a header (lower-cased names) of INCA's MS table: `experiment_id`, `ms_id`,
    /// `mass_isotope` and `intensity`.
    public static func recognizes(_ names: [String]) -> Bool {
        ["experiment_id", "ms_id", "mass_isotope", "intensity"].allSatisfy(names.contains)
    }

    static let expected = "experiment_id, ms_id, mass_isotope, intensity [, intensity_std_error, measurement_replicate, labelled_atom_ids, time] (INCA's MS table)"

    /// `lines` (header at index `h`) as MLFlux long-form lines at the same indices (rows left
    /// out become blank), and the notes on what was left out or changed.
    /// - Throws: `LabelingTableError` naming `file`, the line and the column.
    static func translate(_ lines: [String], header h: Int, file: String, layout: LabelingLayout,
                          maps: IsoCorMaps, tolerance: Double) throws -> (lines: [String], notes: [String]) {
        func fail(_ line: Int, _ message: String) -> LabelingTableError { LabelingTableError(file: file, line: line, message: message) }
        let separator = ColumnTable.separator(of: lines[h])
        let names = ColumnTable.fields(lines[h], separator: separator).map { $0.lowercased() }
        func column(_ name: String, required: Bool = true) throws -> Int? {
            try ColumnTable.column([name], in: names, required: required, expected: expected) { fail(h + 1, $0) }
        }
        let ec = try column("experiment_id")!, mc = try column("ms_id")!
        let kc = try column("mass_isotope")!, ic = try column("intensity")!
        let sc = try column("intensity_std_error", required: false)
        let rc = try column("measurement_replicate", required: false)
        let ac = try column("labelled_atom_ids", required: false)
        let uc = try column("unlabelled_atoms", required: false)
        let tc = try column("time", required: false)
        try TranslatedTable.check(maps, layout: layout)

        /// One data row and its MID key.
        struct Row {
            var line: Int
            var experiment: String, fragment: String, replicate: String
            var isotopologue: String, intensity: String, error: String
            var atoms: String, unlabelled: String, time: String
        }
        var rows: [Row] = []
        for i in lines.indices where i > h && !lines[i].trimmingSpaces.isEmpty {
            let f = ColumnTable.fields(lines[i], separator: separator)
            guard f.count >= names.count else { throw fail(i + 1, "expected \(names.count) fields, found \(f.count)") }
            for c in [kc, ic] + (sc.map { [$0] } ?? []) where f[c].trimmingSpaces.contains(" ") {
                throw fail(i + 1, "column '\(names[c])': several values in one cell ('\(Excerpt.quote(f[c]))', INCAWrapper's export for INCA's GUI); give one row per mass isotope")
            }
            rows.append(Row(line: i + 1, experiment: f[ec].trimmingSpaces, fragment: f[mc].trimmingSpaces,
                            replicate: rc.map { f[$0].trimmingSpaces } ?? "",
                            isotopologue: f[kc].trimmingSpaces, intensity: f[ic].trimmingSpaces,
                            error: sc.map { f[$0].trimmingSpaces } ?? "",
                            atoms: ac.map { f[$0] } ?? "", unlabelled: uc.map { f[$0].trimmingSpaces } ?? "",
                            time: tc.map { f[$0].trimmingSpaces } ?? ""))
        }
        // Isotopic steady state: one time point.
        if let tc, let first = rows.first {
            if let other = rows.first(where: { Double($0.time) != Double(first.time) || (Double($0.time) == nil && $0.time != first.time) }) {
                throw fail(other.line, "column '\(names[tc])': time \(other.time) differs from \(first.time) (line \(first.line)); MLFlux fits isotopic steady state — keep the rows of one time point")
            }
        }
        // Where each experiment_id goes.
        let single = Set(rows.map(\.experiment)).count == 1 && layout.experimentIDs.count == 1
        var notes: [String] = []
        func target(_ r: Row) throws -> (experiment: String, replicate: String, condition: String)? {
            if let map = maps.samples {
                guard let x = map.entry(r.experiment) else { return nil }
                return (x.experiment, x.replicate.isEmpty ? r.replicate : x.replicate, x.condition)
            }
            if layout.experimentIndex(r.experiment) != nil { return (r.experiment, r.replicate, "") }
            if single { return (layout.experimentIDs[0], r.replicate, "") }
            throw fail(r.line, "column 'experiment_id': '\(Excerpt.quote(r.experiment))' is not an experiment of the model (\(layout.experimentIDs.joined(separator: ", "))); give --sample-map FILE.csv (columns \(SampleMap.expected), the experiment_id as sample)")
        }
        func fragment(_ r: Row) throws -> Int? {
            try TranslatedTable.fragment(r.fragment, derivative: "", column: "ms_id", layout: layout, maps: maps, fail: { fail(r.line, $0) })
        }
        /// A MID: its rows' (line, isotopologue, intensity, error) and the sum of intensities.
        struct MID { var first: Int; var entries: [(line: Int, k: Int, x: Double, s: Double?)] = []; var sum = 0.0 }
        var mids: [[String]: MID] = [:], order: [[String]] = []
        var skippedSamples: [String: Int] = [:], skippedFragments: [String: Int] = [:]
        for r in rows {
            guard let t = try target(r) else {
                if skippedSamples[r.experiment] == nil { skippedSamples[r.experiment] = r.line }
                continue
            }
            guard let m = try fragment(r) else {
                if skippedFragments[r.fragment] == nil { skippedFragments[r.fragment] = r.line }
                continue
            }
            if ac != nil {
                let ids = r.atoms.filter { !"[]() ".contains($0) }.split(separator: ",")
                guard !ids.isEmpty, ids.allSatisfy({ Int($0).map { $0 >= 1 } ?? false }) else {
                    throw fail(r.line, "column 'labelled_atom_ids': '\(Excerpt.quote(r.atoms))' is not a list of atom numbers such as [1, 2, 3]")
                }
                guard ids.count == layout.isotopologues[m] - 1 else {
                    throw fail(r.line, "column 'labelled_atom_ids': \(ids.count) atom(s), but the model's fragment \(layout.fragmentNames[m]) has \(layout.isotopologues[m] - 1) traced atom(s)")
                }
            }
            let key = [t.condition, t.experiment, layout.fragmentNames[m], t.replicate]
            if mids[key] == nil { mids[key] = MID(first: r.line); order.append(key) }
            var iso = r.isotopologue.uppercased()
            if iso.hasPrefix("M+") { iso.removeFirst(2) } else if iso.hasPrefix("M") { iso.removeFirst() }
            guard let k = Int(iso), k >= 0, k < layout.isotopologues[m] else {
                throw fail(r.line, "column 'mass_isotope': '\(Excerpt.quote(r.isotopologue))' of \(layout.fragmentNames[m]) must be 0…\(layout.isotopologues[m] - 1)")
            }
            guard let x = Double(r.intensity), x.isFinite else {
                throw fail(r.line, "column 'intensity': '\(Excerpt.quote(r.intensity))' is not a finite number")
            }
            var s: Double? = nil
            if !r.error.isEmpty, r.error.lowercased() != "nan" {
                guard let v = Double(r.error), v.isFinite, v > 0 else {
                    throw fail(r.line, "column 'intensity_std_error': '\(Excerpt.quote(r.error))' is not a positive number")
                }
                s = v
            }
            mids[key]!.entries.append((r.line, k, x, s))
            mids[key]!.sum += x
        }
        // The long form, on each row's own line.
        var out = lines
        let replicates = rc != nil || (maps.samples?.hasReplicates ?? false)
        out[h] = "sample,experiment,metabolite,isotopologue,fraction,stddev" + (replicates ? ",replicate" : "")
        for i in lines.indices where i > h { out[i] = "" }
        var renormalised: [String] = []
        let quoted = ColumnTable.quoted
        for key in order {
            let mid = mids[key]!
            let m = layout.fragmentIndex(key[2])!
            let seen = Set(mid.entries.map(\.k))
            guard seen.count == layout.isotopologues[m] else {
                let missing = (0..<layout.isotopologues[m]).filter { !seen.contains($0) }.map { "M+\($0)" }
                throw fail(mid.first, "\(key[1]) \(key[2])\(key[3].isEmpty ? "" : " replicate \(key[3])"): no intensity for \(missing.joined(separator: ", ")); MLFlux compares whole MIDs — give every mass isotope")
            }
            guard mid.sum > 0 else { throw fail(mid.first, "column 'intensity': the intensities of \(key[1]) \(key[2]) sum to \(mid.sum); nothing to normalise") }
            if abs(mid.sum - 1) > tolerance { renormalised.append("\(key[2]) in \(key[1]) (line \(mid.first), sum \(mid.sum))") }
            for e in mid.entries {
                var row = [key[0], key[1], key[2], "\(e.k)", "\(e.x / mid.sum)", e.s.map { "\($0 / mid.sum)" } ?? ""].map(quoted)
                if replicates { row.append(quoted(key[3])) }
                out[e.line - 1] = row.joined(separator: ",")
            }
        }
        let listed = TranslatedTable.listed
        if single, maps.samples == nil, let r = rows.first, layout.experimentIndex(r.experiment) == nil {
            notes.append("\(file): experiment_id '\(Excerpt.quote(r.experiment))' read as the model's one experiment \(layout.experimentIDs[0])")
        }
        if !skippedSamples.isEmpty, let map = maps.samples {
            notes.append("\(file): left out \(skippedSamples.count) experiment_id(s) that the sample map \(map.file) does not name: \(listed(skippedSamples))")
        }
        if !skippedFragments.isEmpty {
            notes.append("\(file): left out \(skippedFragments.count) ms_id(s) that match no measured fragment of the model (\(layout.fragmentNames.joined(separator: ", "))): \(listed(skippedFragments)); name them with --metabolite-map")
        }
        if renormalised.count == order.count, !order.isEmpty {
            notes.append("\(file): intensities normalised to sum 1 per MID (all \(order.count) MIDs; standard errors scaled alike)")
        } else if !renormalised.isEmpty {
            notes.append("\(file): intensities normalised to sum 1 (standard errors scaled alike) for \(renormalised.prefix(5).joined(separator: ", "))\(renormalised.count > 5 ? " and \(renormalised.count - 5) more" : "")")
        }
        if rows.contains(where: { !$0.unlabelled.isEmpty }) {
            notes.append("\(file): column 'unlabelled_atoms' not used — natural abundance comes from the model's fragment formulas (manifest `fragments`, FluxML `formula`)")
        }
        return (out, notes)
    }
}
