import ArgumentParser
import Bundles
import Foundation
import IsotopeCorrection
import MLFluxCore
import MLFluxOutput
import SafeIO

struct Correct: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Correct measured MIDs for natural isotope abundance and tracer purity (IsoCor-style).",
        discussion: """
            INPUT.csv is the long-form MID table `predict` reads (experiment,metabolite,isotopologue,\
            fraction[,stddev]). Each fragment needs the elemental formula of its measured ion: from the \
            bundle manifest's `fragments` (--model), or --fragment NAME=FORMULA[:N] (N traced carbons; \
            default: every carbon of FORMULA). The corrected MID x ≥ 0 minimises ‖C·x − measured‖² for the \
            fragment's correction matrix C (IsoCor's low-resolution convention), then sums to 1; the \
            residuum (measured − C·x, over Σ measured) and the mean enrichment come with it. \
            --format csv writes a table `predict` reads, with the input's stddev propagated through \
            the correction (linearised) when the input has one.
            """)

    @Argument(help: "Measured MIDs (long-form CSV).") var input: String
    @Option(help: "Model bundle whose layout and fragment formulas to use.") var model: String?
    @Option(name: .customLong("fragment"), help: ArgumentHelp("A fragment's measured-ion formula: NAME=FORMULA or NAME=FORMULA:N with N traced carbons (repeatable; overrides the bundle's).", valueName: "NAME=FORMULA[:N]")) var fragments: [String] = []
    @Option(help: "Isotopic purity of the tracer's labeled positions (13C fraction), in (0, 1].") var purity: Double = 1
    @Flag(inversion: .prefixedNo, help: "Unlabeled traced positions carry natural 13C (IsoCor's -n); --no-tracer-natural-abundance treats them as pure 12C.") var tracerNaturalAbundance = true
    @Flag(help: "Rescale MIDs that do not sum to 1 (within --tolerance), e.g. raw peak areas.") var normalize = false
    @Option(help: "Allowed deviation of a MID's sum from 1.") var tolerance: Double = 0.01
    @Option(help: "Output format: table, csv or json.") var format: OutputFormat = .table
    @Option(help: "Write the output to this file instead of standard output (never the input).") var out: String?
    @Flag(help: "Replace an existing --out file.") var force = false

    func validate() throws {
        try OptionCheck.number(tolerance, "--tolerance", in: 0...0.5, "the allowed deviation of a MID's sum from 1")
        guard purity.isFinite, purity > 0, purity <= 1 else {
            throw ValidationError("--purity \(purity) must be in (0, 1], the 13C fraction of a labeled position")
        }
        if model == nil && fragments.isEmpty {
            throw ValidationError("give --model (formulas from its manifest) or at least one --fragment NAME=FORMULA[:N]")
        }
    }

    /// `NAME=FORMULA[:N]` of `--fragment`.
    static func parseFragment(_ text: String) throws -> (name: String, formula: ElementalFormula, traced: Int?) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw ValidationError("--fragment '\(Excerpt.quote(text))' must read NAME=FORMULA or NAME=FORMULA:N")
        }
        let sides = parts[1].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard sides.count <= 2 else { throw ValidationError("--fragment '\(Excerpt.quote(text))' has more than one ':'") }
        let formula: ElementalFormula
        do { formula = try ElementalFormula(parsing: sides[0]) } catch { throw ValidationError("--fragment \(parts[0]): \(error)") }
        var traced: Int? = nil
        if sides.count == 2 {
            guard let n = Int(sides[1]), n >= 0 else {
                throw ValidationError("--fragment \(parts[0]): ':\(Excerpt.quote(sides[1]))' must give the number of traced carbons")
            }
            traced = n
        }
        return (parts[0], formula, traced)
    }

    func run() throws {
        if let out { try OutputFile.check(out, force: force, inputs: [input]) }
        let given = try fragments.map(Self.parseFragment)
        var matrices: [String: CorrectionMatrix] = [:]
        let layout: LabelingLayout
        func matrix(_ name: String, _ formula: ElementalFormula, _ n: Int, tracer: ChemicalElement = .carbon) throws -> CorrectionMatrix {
            do {
                return try CorrectionMatrix(tracedAtoms: n, formula: formula, tracer: tracer, purity: purity,
                                            tracerNaturalAbundance: tracerNaturalAbundance)
            } catch { throw CLIError("--fragment \(name): \(error)") }
        }
        if let model {
            let bundle = try BundleRegistry(searchPaths: .standard()).load(model)
            layout = bundle.layout
            for (name, c) in bundle.naturalAbundance {
                matrices[name] = try matrix(name, c.formula, c.tracedAtoms, tracer: c.tracer)
            }
            for g in given {
                guard let f = bundle.measured.first(where: { $0.name == g.name }) else {
                    throw CLIError("--fragment \(g.name): model '\(model)' measures no fragment of that name; it has \(layout.fragmentNames.joined(separator: ", "))")
                }
                if let n = g.traced, n != f.atoms.count {
                    throw CLIError("--fragment \(g.name): \(n) traced carbons given, the fragment keeps \(f.atoms.count) atoms (\(f))")
                }
                let pool = bundle.network.pool(f.pool)
                let tracer: ChemicalElement = f.atoms.allSatisfy { pool?.element(at: $0) == .hydrogen } ? .hydrogen : .carbon
                matrices[g.name] = try matrix(g.name, g.formula, f.atoms.count, tracer: tracer)
            }
        } else {
            var seen = Set<String>()
            for g in given {
                guard seen.insert(g.name).inserted else { throw CLIError("--fragment \(g.name) is given twice") }
                matrices[g.name] = try matrix(g.name, g.formula, g.traced ?? g.formula.count(of: .carbon))
            }
            layout = LabelingLayout(experimentIDs: try Self.experimentIDs(in: input),
                                    fragments: given.map { ($0.name, matrices[$0.name]!.tracedAtoms + 1) })
        }
        let table = try LabelingTable.read(contentsOf: input, layout: layout, tolerance: tolerance, normalize: normalize)
        for note in table.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        let rows: [LabelingCorrection.Row]
        do { rows = try LabelingCorrection.correct(table, matrices: matrices) } catch { throw CLIError("\(input): \(error)") }
        guard !rows.isEmpty else { throw CLIError("\(input): no MID was measured (the table has no row with a fraction)") }
        let text: String
        switch format {
        case .table: text = Self.table(rows)
        case .csv: text = Self.csv(rows)
        case .json: text = try JSONOutput.string(Self.JSONReport(
            purity: purity, tracerNaturalAbundance: tracerNaturalAbundance,
            formulas: matrices.mapValues { "\($0.formula)" }.filter { f in rows.contains { $0.fragment == f.key } },
            mids: rows.map(Self.JSONReport.MID.init))) + "\n"
        }
        if let out {
            try OutputFile.check(out, force: force, inputs: [input])
            try OutputFile.write(text, to: out)
        } else {
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
    }

    /// Experiment ids of the table's `experiment` column, in order of first appearance (the
    /// table parser then checks every row against the layout built from them).
    static func experimentIDs(in path: String) throws -> [String] {
        let reader = try LineReader(path: path, what: "MID table")
        var column: Int? = nil
        var ids: [String] = [], seen = Set<String>()
        while let line = try reader.next() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard let c = column else {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                column = fields.firstIndex { $0.lowercased() == "experiment" }
                guard column != nil else {
                    throw CLIError("\(path):\(reader.lineNumber): header must be experiment,metabolite,isotopologue,fraction[,stddev]")
                }
                continue
            }
            if c < fields.count, !fields[c].isEmpty, seen.insert(fields[c]).inserted { ids.append(fields[c]) }
        }
        return ids
    }

    static func number(_ x: Double) -> String { String(format: "%.6f", x) }

    static func table(_ rows: [LabelingCorrection.Row]) -> String {
        let sigma = rows.contains { $0.corrected.stddev != nil }
        var out = [["experiment", "metabolite", "isotopologue", "measured", "corrected"] + (sigma ? ["±σ"] : []) + ["residuum"]]
        for r in rows {
            for k in r.measured.indices {
                out.append([k == 0 ? r.experiment : "", k == 0 ? r.fragment : "", "M+\(k)", number(r.measured[k]),
                            number(r.corrected.fractions[k])] + (sigma ? [r.corrected.stddev.map { number($0[k]) } ?? ""] : [])
                           + [String(format: "%.2e", r.corrected.residuum[k])])
            }
            out.append(["", "", "enrichment", "", number(r.corrected.meanEnrichment)] + (sigma ? [""] : []) + [""])
        }
        return TextTable.render(out, rightAligned: Set(3..<out[0].count)) + "\n"
    }

    /// Long form with the corrected fractions (and their propagated σ when the input had a
    /// stddev column): the table `predict` reads.
    static func csv(_ rows: [LabelingCorrection.Row]) -> String {
        let sigma = rows.allSatisfy { $0.corrected.stddev != nil }
        var out = "experiment,metabolite,isotopologue,fraction" + (sigma ? ",stddev\n" : "\n")
        for r in rows {
            for (k, x) in r.corrected.fractions.enumerated() {
                out += "\(r.experiment),\(r.fragment),\(k),\(x)" + (sigma ? ",\(r.corrected.stddev![k])\n" : "\n")
            }
        }
        return out
    }

    struct JSONReport: Encodable {
        var purity: Double
        var tracerNaturalAbundance: Bool
        var formulas: [String: String]
        var mids: [MID]
        struct MID: Encodable {
            var experiment: String
            var metabolite: String
            var measured: [Double]
            var corrected: [Double]
            var residuum: [Double]
            var meanEnrichment: Double
            var stddev: [Double]?
            init(_ r: LabelingCorrection.Row) {
                experiment = r.experiment; metabolite = r.fragment; measured = r.measured
                corrected = r.corrected.fractions; residuum = r.corrected.residuum; meanEnrichment = r.corrected.meanEnrichment
                stddev = r.corrected.stddev
            }
        }
    }
}
