import SafeIO

/// A small table read through `ColumnTable` (columns by name, CSV or TSV): `read` and
/// `parse` for every such file type.
public protocol ColumnTableFile {
    /// The columns, as shown when one is missing.
    static var expected: String { get }
    /// What the file is, for messages about the file itself.
    static var what: String { get }
    init(_ table: ColumnTable) throws
}

extension ColumnTableFile {
    /// Reads the table at `path`.
    /// - Throws: `LabelingTableError` naming the file, line and column.
    public static func read(contentsOf path: String) throws -> Self {
        try Self(ColumnTable.read(contentsOf: path, expected: expected, what: what))
    }

    /// Parses `text` as the table of `file`.
    public static func parse(_ text: String, file: String) throws -> Self {
        try Self(ColumnTable.parse(text, file: file, expected: expected))
    }
}

/// Which experiment (and replicate, and condition) each sample of an IsoCor result table is:
/// a CSV or TSV with columns `sample,experiment[,replicate][,condition]`, e.g.
///
///     sample,experiment,replicate
///     WT_glc1_a,A_100,1
///     WT_glc1_b,A_100,2
///     WT_glc2_a,A_010,1
///
/// Samples of one condition (the `condition` column; one condition when it is absent) make up
/// one measurement — one prediction; within it a sample is one experiment's MIDs of one
/// replicate, so two samples of the same condition, experiment and replicate are an error.
public struct SampleMap: ColumnTableFile, Sendable, Equatable {
    /// Where one IsoCor sample goes.
    public struct Entry: Sendable, Equatable {
        public var sample: String
        public var experiment: String
        /// "" without a replicate column.
        public var replicate: String
        /// "" without a condition column.
        public var condition: String
        /// Line of the map file.
        public var line: Int
    }

    public let file: String
    public let entries: [Entry]
    /// `true` when the map has a `replicate` column.
    public let hasReplicates: Bool

    public static let expected = "sample, experiment [, replicate] [, condition]"
    public static let what = "sample map"

    public init(_ t: ColumnTable) throws {
        let s = try t.column(["sample"])!, e = try t.column(["experiment", "tracer"])!
        let r = try t.column(["replicate", "rep"], required: false), c = try t.column(["condition", "group"], required: false)
        var entries: [Entry] = [], lineOf: [String: Int] = [:], slot: [[String]: (sample: String, line: Int)] = [:]
        for row in t.rows {
            let x = Entry(sample: row.fields[s], experiment: row.fields[e], replicate: r.map { row.fields[$0] } ?? "",
                          condition: c.map { row.fields[$0] } ?? "", line: row.line)
            guard !x.sample.isEmpty else { throw t.error(row.line, "column 'sample' is empty") }
            guard !x.experiment.isEmpty else { throw t.error(row.line, "column 'experiment' of sample '\(Excerpt.quote(x.sample))' is empty") }
            if let first = lineOf[x.sample] {
                throw t.error(row.line, "column 'sample': '\(Excerpt.quote(x.sample))' is mapped twice (first on line \(first))")
            }
            lineOf[x.sample] = row.line
            let key = [x.condition, x.experiment, x.replicate]
            if let other = slot[key] {
                let column = r == nil ? "experiment" : "replicate"
                throw t.error(row.line, "column '\(column)': samples '\(Excerpt.quote(x.sample))' and '\(Excerpt.quote(other.sample))' (line \(other.line)) are both experiment \(x.experiment)\(x.replicate.isEmpty ? "" : " replicate \(x.replicate)")\(x.condition.isEmpty ? "" : " of condition \(x.condition)"); \(r == nil ? "add a replicate column to tell them apart, or a condition column to predict them separately" : "give them different replicates")")
            }
            slot[key] = (x.sample, row.line)
            entries.append(x)
        }
        guard !entries.isEmpty else { throw t.error(nil, "no samples (columns: \(Self.expected))") }
        self.file = t.file
        self.entries = entries
        self.hasReplicates = r != nil
    }

    /// The entry of IsoCor sample `name`, or nil.
    public func entry(_ name: String) -> Entry? { entries.first { $0.sample == name } }
}

/// Which measured fragment of a bundle each metabolite of an IsoCor result table is, where
/// the names differ beyond letter case: a CSV or TSV with columns `name,metabolite[,derivative]`,
/// e.g. `Ala,Ala232,TBDMS`. A row with a derivative applies to that derivative only and
/// comes before a row without one.
public struct MetaboliteMap: ColumnTableFile, Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// The IsoCor metabolite name.
        public var name: String
        /// The IsoCor derivative ("" for any).
        public var derivative: String
        /// The bundle's measured fragment id.
        public var metabolite: String
        public var line: Int
    }

    public let file: String
    public let entries: [Entry]

    public static let expected = "name, metabolite [, derivative]"
    public static let what = "metabolite map"

    public init(_ t: ColumnTable) throws {
        let n = try t.column(["name"])!, m = try t.column(["metabolite", "fragment"])!
        let d = try t.column(["derivative"], required: false)
        var entries: [Entry] = []
        for row in t.rows {
            let x = Entry(name: row.fields[n], derivative: d.map { row.fields[$0] } ?? "", metabolite: row.fields[m], line: row.line)
            guard !x.name.isEmpty else { throw t.error(row.line, "column 'name' is empty") }
            guard !x.metabolite.isEmpty else { throw t.error(row.line, "column 'metabolite' of '\(Excerpt.quote(x.name))' is empty") }
            if let first = entries.first(where: { $0.name.lowercased() == x.name.lowercased() && $0.derivative.lowercased() == x.derivative.lowercased() }) {
                throw t.error(row.line, "column 'name': '\(Excerpt.quote(x.name))'\(x.derivative.isEmpty ? "" : " (derivative \(x.derivative))") is mapped twice (first on line \(first.line))")
            }
            entries.append(x)
        }
        self.file = t.file
        self.entries = entries
    }

    /// The entry for IsoCor metabolite `name` with `derivative` (letter case ignored): one
    /// naming the derivative first, else one for any derivative.
    public func entry(name: String, derivative: String) -> Entry? {
        let n = name.lowercased(), d = derivative.lowercased()
        return entries.first { $0.name.lowercased() == n && !$0.derivative.isEmpty && $0.derivative.lowercased() == d }
            ?? entries.first { $0.name.lowercased() == n && $0.derivative.isEmpty }
    }
}

/// The maps that place an IsoCor result table in a bundle's layout (both optional).
public struct IsoCorMaps: Sendable, Equatable {
    public var samples: SampleMap?
    public var metabolites: MetaboliteMap?

    public init(samples: SampleMap? = nil, metabolites: MetaboliteMap? = nil) {
        self.samples = samples
        self.metabolites = metabolites
    }

    public var isEmpty: Bool { samples == nil && metabolites == nil }
}
