import MLFluxCore

/// Reads tracer experiments from a CSV or TSV table beside a network (columns found by name):
///
///     experiment,pool,pattern,fraction
///     GLC_1,GLC,100000,1
///     MIX,GLC,100000,0.5
///     MIX,GLC,111111,0.5
///
/// Rows with the same `experiment` form one experiment (several rows of one pool: a
/// mixture; the unlabeled rest fills it to 1); `pattern` is a `0`/`1` string over the pool's
/// atoms (carbons, then hydrogens) and `fraction` (optional column, default 1) its mole
/// fraction. Experiments keep the order of their first row. A bundle's `tracers` file is
/// applied on top of the network's FluxML configurations: an experiment with the id of a
/// configuration replaces it, the others are added.
public enum TracerTable {
    public static let columns = "experiment,pool,pattern[,fraction]"

    /// - Throws: `LabelingTableError` naming the file and line (of the experiment's first row
    ///   for a mixture that does not add up).
    public static func read(contentsOf path: String, network: MetabolicNetwork) throws -> [TracerExperiment] {
        try experiments(ColumnTable.read(contentsOf: path, expected: columns, what: "tracer table"), network: network)
    }

    public static func parse(_ text: String, file: String, network: MetabolicNetwork) throws -> [TracerExperiment] {
        try experiments(ColumnTable.parse(text, file: file, expected: columns), network: network)
    }

    static func experiments(_ table: ColumnTable, network: MetabolicNetwork) throws -> [TracerExperiment] {
        let idColumn = try table.column(["experiment", "id"])!
        let poolColumn = try table.column(["pool", "metabolite"])!
        let patternColumn = try table.column(["pattern", "labeling"])!
        let fractionColumn = try table.column(["fraction"], required: false)
        var order: [String] = []
        var specs: [String: [String]] = [:], firstLine: [String: Int] = [:]
        for row in table.rows {
            let f = row.fields
            let id = f[idColumn]
            guard !id.isEmpty, !id.contains(where: { $0.isWhitespace || $0 == "," }) else {
                throw table.error(row.line, "experiment id '\(id)' must be a non-empty word")
            }
            var spec = f[poolColumn] + "=" + f[patternColumn]
            if let fc = fractionColumn, !f[fc].isEmpty { spec += ":" + f[fc] }
            // Each row alone must be a valid tracer: its own line is then named.
            do { _ = try TracerSpec.experiment(id: id, specs: [spec], network: network) }
            catch let e as TracerSpec.ParseError { throw table.error(row.line, e.reason) }
            if specs[id] == nil { order.append(id); firstLine[id] = row.line }
            specs[id, default: []].append(spec)
        }
        guard !order.isEmpty else { throw table.error(nil, "no tracer (the table has a header only)") }
        return try order.map { id in
            do { return try TracerSpec.experiment(id: id, specs: specs[id]!, network: network) }
            catch let e as TracerSpec.ParseError { throw table.error(firstLine[id], "experiment '\(id)': \(e.reason)") }
        }
    }

    /// The table text of `experiments` (inverse of `parse`; purities other than 1 are not kept).
    public static func format(_ experiments: [TracerExperiment]) -> String {
        var out = "experiment,pool,pattern,fraction\n"
        for e in experiments {
            for input in e.inputs {
                for c in input.components { out += "\(e.id),\(input.pool),\(c.patternString),\(c.fraction)\n" }
            }
        }
        return out
    }

    /// The experiments of `network` with `table` applied on top: a table experiment replaces
    /// the network's one of the same id, the others are added after the network's.
    public static func merged(_ table: [TracerExperiment], into network: [TracerExperiment]) -> [TracerExperiment] {
        var out = network.map { e in table.first { $0.id == e.id } ?? e }
        out += table.filter { t in !network.contains { $0.id == t.id } }
        return out
    }
}
