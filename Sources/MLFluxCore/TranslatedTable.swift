import SafeIO

/// What the lab tables translated into MLFlux's long form (`IsoCorTable`, `INCATable`) share:
/// checking their maps against the layout, finding the fragment a name stands for, and listing
/// what was left out.
enum TranslatedTable {
    /// Every experiment of `maps.samples` and every fragment of `maps.metabolites` is in `layout`.
    /// - Throws: `LabelingTableError` naming the map file, line and column.
    static func check(_ maps: IsoCorMaps, layout: LabelingLayout) throws {
        if let map = maps.samples {
            for x in map.entries where layout.experimentIndex(x.experiment) == nil {
                throw LabelingTableError(file: map.file, line: x.line, message: "column 'experiment': unknown experiment '\(Excerpt.quote(x.experiment))'; known: \(layout.experimentIDs.joined(separator: ", "))")
            }
        }
        if let map = maps.metabolites {
            for x in map.entries where layout.fragmentIndex(x.metabolite) == nil {
                throw LabelingTableError(file: map.file, line: x.line, message: "column 'metabolite': '\(Excerpt.quote(x.metabolite))' is not a measured metabolite of the model; known: \(layout.fragmentNames.joined(separator: ", "))")
            }
        }
    }

    /// The layout fragment `name` (of `derivative`, "" for none) stands for: the metabolite
    /// map's row, else the fragment of that name, else the one matching but for letter case;
    /// nil when none matches.
    /// - Throws: the error `fail` makes when two fragments match but for letter case.
    static func fragment(_ name: String, derivative: String, column: String, layout: LabelingLayout, maps: IsoCorMaps,
                         fail: (String) -> LabelingTableError) throws -> Int? {
        if let x = maps.metabolites?.entry(name: name, derivative: derivative) { return layout.fragmentIndex(x.metabolite) }
        if let exact = layout.fragmentIndex(name) { return exact }
        let matches = layout.fragmentNames.indices.filter { layout.fragmentNames[$0].lowercased() == name.lowercased() }
        guard matches.count <= 1 else {
            throw fail("column '\(column)': '\(Excerpt.quote(name))' matches \(matches.map { layout.fragmentNames[$0] }.joined(separator: ", ")) but for letter case; name one with --metabolite-map")
        }
        return matches.first
    }

    /// Names left out with the line of each one's first row, in line order: the first ten, then a count.
    static func listed(_ d: [String: Int]) -> String {
        d.sorted { $0.value < $1.value }.prefix(10).map { "'\(Excerpt.quote($0.key))' (line \($0.value))" }.joined(separator: ", ")
            + (d.count > 10 ? " and \(d.count - 10) more" : "")
    }
}
