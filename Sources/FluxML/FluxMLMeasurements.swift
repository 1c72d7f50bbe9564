import IsotopeCorrection
import MLFluxCore
import SafeIO

/// A FluxML document with its measurements: what a fit needs.
public struct FluxMLDocument: Sendable {
    public var network: MetabolicNetwork
    /// Flux and labeling measurements of every `configuration/measurement` section.
    public var measurements: MeasurementSet
    /// Elemental formulas of measured ions by fragment name (group attribute `formula`, an
    /// MLFlux extension): their simulated MIDs get natural abundance (`CorrectionMatrix`).
    public var formulas: [String: ElementalFormula]
    /// Diluted fragments (group attribute `dilution="true"`, an MLFlux extension): the pool of
    /// each, by fragment name; the pool's MID is mixed with unlabeled material outside the mass
    /// balances, one fitted share per pool (labeling-only mixing, `Guides/FluxML.md`).
    public var dilution: [String: String]

    public init(network: MetabolicNetwork, measurements: MeasurementSet, formulas: [String: ElementalFormula] = [:],
                dilution: [String: String] = [:]) {
        self.network = network
        self.measurements = measurements
        self.formulas = formulas
        self.dilution = dilution
    }

    /// The natural-abundance matrix of each fragment with a formula (tracer: the element of the
    /// fragment's traced atoms; purity 1, as FluxML inputs carry the tracer's purity).
    public private(set) var naturalAbundance: [String: CorrectionMatrix] = [:]

    /// Builds `naturalAbundance`.
    /// - Throws: `FluxMLError.invalidMeasurement` naming `file` and the group's line when a formula
    ///   has fewer atoms of the traced element than the fragment keeps, or the fragment keeps
    ///   both carbons and hydrogens.
    mutating func buildNaturalAbundance(file: String) throws {
        var out: [String: CorrectionMatrix] = [:]
        for fragment in measurements.fragments {
            guard let formula = formulas[fragment.name], let pool = network.pool(fragment.pool) else { continue }
            let elements = Set(fragment.atoms.map { pool.element(at: $0) })
            let group = measurements.labeling.first { $0.fragment.name == fragment.name }
            func fail(_ why: String) -> FluxMLError {
                .invalidMeasurement(file: file, line: group?.line, id: group?.id ?? fragment.name, reason: "formula \(formula): \(why)")
            }
            guard elements.count == 1, let traced = elements.first else {
                throw fail("the fragment keeps traced carbons and hydrogens; natural abundance needs one traced element")
            }
            do {
                out[fragment.name] = try CorrectionMatrix(tracedAtoms: fragment.atoms.count, formula: formula,
                                                          tracer: traced == .carbon ? .carbon : .hydrogen)
            } catch { throw fail("\(error)") }
        }
        naturalAbundance = out
    }
}

extension FluxMLReader {
    /// Reads the file at `path` with its `measurement` sections. Errors name the file as given.
    public static func readDocument(contentsOf path: String) throws -> FluxMLDocument {
        try parseDocument(text(contentsOf: path), fileName: path)
    }

    /// Parses FluxML text with its `measurement` sections (see Guides/FluxML.md for the grammar read).
    public static func parseDocument(_ text: String, fileName: String) throws -> FluxMLDocument {
        let root = try XMLTreeParser.parse(text, fileName: fileName)
        var r = Reader(file: fileName)
        let network = try r.read(root)
        let m = MeasurementReader(file: fileName, network: network)
        let (set, formulas, dilution) = try m.readWithFormulas(root)
        var document = FluxMLDocument(network: network, measurements: set, formulas: formulas, dilution: dilution)
        try document.buildNaturalAbundance(file: fileName)
        return document
    }

    /// The measurements of the file at `path`, checked against `network` (e.g. one read
    /// from the same file with `read(contentsOf:)`).
    public static func readMeasurements(contentsOf path: String, network: MetabolicNetwork) throws -> MeasurementSet {
        let root = try XMLTreeParser.parse(text(contentsOf: path), fileName: path)
        return try MeasurementReader(file: path, network: network).readWithFormulas(root).set
    }
}

/// Reads `configuration/measurement`:
///
///     <measurement>
///       <model>
///         <labelingmeasurement>
///           <group id="ms_Ala" scale="auto"><textual>Ala[1-3]#M0,1,2,3</textual></group>
///         </labelingmeasurement>
///         <fluxmeasurement>
///           <netflux id="fm_upt"><textual>upt</textual></netflux>
///         </fluxmeasurement>
///       </model>
///       <data>
///         <datum id="ms_Ala" stddev="0.01" weight="0">0.52</datum>
///         <datum id="fm_upt" stddev="0.05">1.0</datum>
///       </data>
///     </measurement>
///
/// MLFlux extensions on a `group`: `name="Ala232"` names the fragment (an alias used by MID
/// tables and outputs; default `POOL_1:2:3`), `formula="C11H26NO2Si2"` gives the elemental
/// formula of the measured ion, so the simulated MID gets natural abundance (see
/// `FluxMLDocument.naturalAbundance`), `dilution="true"` mixes the fragment's pool with
/// unlabeled material (`FluxMLDocument.dilution`). A fragment keeps one name, one formula and one
/// dilution flag in every configuration.
///
/// Grammar of an MS spec (13CFLUX2 `Notation.re`, `nms`): `POOL ("[" LIST "]")? "#M" N ("," N)*`
/// with `LIST` 1-based atom numbers or ranges (`1-3,5`), counted over the pool's carbons
/// then hydrogens, and `N` the isotopologue indices measured.
struct MeasurementReader {
    let file: String
    let network: MetabolicNetwork

    /// A group of the model before its data are read.
    private enum Group {
        case labeling(id: String, line: Int?, fragment: MeasuredFragment, isotopologues: [Int], scale: LabelingMeasurement.Scale,
                      formula: ElementalFormula?)
        case flux(id: String, line: Int?, kind: FluxKind, terms: [FluxConstraint.Term])

        var id: String {
            switch self { case .labeling(let id, _, _, _, _, _), .flux(let id, _, _, _): return id }
        }
        var line: Int? {
            switch self { case .labeling(_, let l, _, _, _, _), .flux(_, let l, _, _): return l }
        }
    }

    private func fail(_ el: XMLElement, _ id: String, _ why: String) -> FluxMLError {
        .invalidMeasurement(file: file, line: el.line, id: id, reason: why)
    }

    private func fail(_ line: Int?, _ id: String, _ why: String) -> FluxMLError {
        .invalidMeasurement(file: file, line: line, id: id, reason: why)
    }

    func readWithFormulas(_ root: XMLElement) throws
        -> (set: MeasurementSet, formulas: [String: ElementalFormula], dilution: [String: String]) {
        var set = MeasurementSet()
        var diluted: [String: (Bool, Int?)] = [:]
        var formulas: [String: ElementalFormula] = [:]
        var formulaLine: [String: Int?] = [:]
        var fragmentOfName: [String: (MeasuredFragment, Int?)] = [:]
        for cfg in root.elements("configuration") {
            // `name` was checked by the network reader.
            let experiment = cfg.attribute("name") ?? ""
            for section in cfg.elements("measurement") {
                let (fluxes, labeling, groupFormulas) = try measurement(section, experiment: experiment)
                let flags = try dilutionFlags(section)
                for l in labeling {
                    let name = l.fragment.name
                    if let (old, line) = fragmentOfName[name], old != l.fragment {
                        throw fail(l.line, l.id, "fragment name '\(name)' is \(old) on line \(line.map(String.init) ?? "?") and \(l.fragment) here; one name, one fragment")
                    }
                    fragmentOfName[name] = (l.fragment, l.line)
                    let f = groupFormulas[l.id]
                    if let seen = formulaLine[name], formulas[name] != f {
                        throw fail(l.line, l.id, "fragment '\(name)' has formula \(f.map { "\($0)" } ?? "none") here and \(formulas[name].map { "\($0)" } ?? "none") on line \(seen.map(String.init) ?? "?"); give one formula in every configuration")
                    }
                    formulaLine[name] = l.line
                    formulas[name] = f
                    let d = flags[l.id] ?? false
                    if let (seen, line) = diluted[name], seen != d {
                        throw fail(l.line, l.id, "fragment '\(name)' is \(d ? "" : "not ")diluted here and \(seen ? "" : "not ")diluted on line \(line.map(String.init) ?? "?"); give one dilution flag in every configuration")
                    }
                    diluted[name] = (d, l.line)
                }
                do {
                    for f in fluxes { try set.add(f) }
                    for l in labeling { try set.add(l) }
                } catch let e as MeasurementSetError {
                    throw FluxMLError.invalidMeasurement(file: file, line: e.line, id: "", reason: e.message)
                }
            }
        }
        var dilution: [String: String] = [:]
        for f in set.fragments where diluted[f.name]?.0 == true { dilution[f.name] = f.pool }
        return (set, formulas.compactMapValues { $0 }, dilution)
    }

    /// The `dilution` attribute of each labeling group of a measurement section, by group id:
    /// `true` or `false` (default); anything else is an error naming the line.
    private func dilutionFlags(_ section: XMLElement) throws -> [String: Bool] {
        var flags: [String: Bool] = [:]
        for model in section.elements("model") {
            for part in model.elements("labelingmeasurement") {
                for g in part.elements("group") {
                    guard let text = g.attribute("dilution") else { continue }
                    let id = g.attribute("id") ?? ""
                    switch text.lowercased() {
                    case "true": flags[id] = true
                    case "false": flags[id] = false
                    default: throw fail(g, id, "dilution=\"\(Excerpt.quote(text, limit: 20))\" must be true or false")
                    }
                }
            }
        }
        return flags
    }

    private func measurement(_ section: XMLElement, experiment: String) throws
        -> ([FluxMeasurement], [LabelingMeasurement], [String: ElementalFormula]) {
        guard let model = section.element("model") else {
            throw FluxMLError.invalidElement(file: file, line: section.line, element: "measurement", reason: "no <model> element")
        }
        var groups: [Group] = []
        var groupIndex: [String: Int] = [:]
        func register(_ g: Group, _ el: XMLElement) throws {
            if let i = groupIndex[g.id] {
                throw fail(el, g.id, "duplicate measurement id (first defined on line \(groups[i].line.map(String.init) ?? "?"))")
            }
            groupIndex[g.id] = groups.count
            groups.append(g)
        }
        for part in model.children where part.isFluxML {
            switch part.name {
            case "labelingmeasurement":
                for g in part.children where g.isFluxML {
                    guard g.name == "group" else {
                        throw FluxMLError.invalidElement(file: file, line: g.line, element: g.name,
                                                         reason: "unknown labeling measurement element (expected <group>)")
                    }
                    try register(try labelingGroup(g), g)
                }
            case "fluxmeasurement":
                for g in part.children where g.isFluxML {
                    let kind: FluxKind
                    switch g.name {
                    case "netflux": kind = .net
                    case "xchflux": kind = .exchange
                    default:
                        throw FluxMLError.invalidElement(file: file, line: g.line, element: g.name,
                                                         reason: "unknown flux measurement element (expected <netflux> or <xchflux>)")
                    }
                    try register(try fluxGroup(g, kind: kind), g)
                }
            case "poolsizemeasurement", "fluxratios", "poolsizeratios":
                if let first = part.children.first(where: { $0.isFluxML }) {
                    let what = part.name == "fluxratios" ? "flux ratio measurements are not supported"
                        : "pool size measurements are not supported (MLFlux fits steady-state labeling)"
                    throw FluxMLError.invalidElement(file: file, line: first.line, element: first.name, reason: what)
                }
            default:
                throw FluxMLError.invalidElement(file: file, line: part.line, element: part.name,
                                                 reason: "unknown measurement model section")
            }
        }

        // Data: one datum per (group, isotopologue) for MS groups, one per flux group.
        var values: [String: [Int: (value: Double, stddev: Double, line: Int?)]] = [:]
        let dataElements = section.elements("data")
        if dataElements.isEmpty, let g = groups.first {
            throw fail(g.line, g.id, "the measurement section has no <data>")
        }
        for data in dataElements {
            for d in data.children where d.isFluxML {
                if d.name == "dlabel" { continue }
                guard d.name == "datum" else {
                    throw FluxMLError.invalidElement(file: file, line: d.line, element: d.name,
                                                     reason: "unknown data element (expected <datum>)")
                }
                guard let id = d.attribute("id") else {
                    throw FluxMLError.missingAttribute(file: file, line: d.line, element: "datum", attribute: "id")
                }
                guard let gi = groupIndex[id] else {
                    let known = groups.prefix(8).map { Excerpt.quote($0.id, limit: 30) }.joined(separator: ", ") + (groups.count > 8 ? ", …" : "")
                    throw fail(d, id, "<datum> names no measurement group of this configuration"
                               + (groups.isEmpty ? "" : " (defined: \(known))"))
                }
                if let t = d.attribute("time") {
                    throw fail(d, id, "time=\"\(Excerpt.quote(t, limit: 20))\": non-stationary data are not supported (MLFlux fits isotopic steady state)")
                }
                if d.attribute("row") != nil {
                    throw fail(d, id, "attribute 'row' belongs to generic measurement groups, which are not supported")
                }
                guard let sdText = d.attribute("stddev") else {
                    throw fail(d, id, "<datum> lacks the required attribute 'stddev'")
                }
                guard let sd = Self.decimal(sdText), sd > 0 else {
                    throw fail(d, id, "stddev=\"\(Excerpt.quote(sdText, limit: 20))\" is not a finite number > 0")
                }
                guard sd >= MeasuredLabeling.minimumStddev else {
                    throw fail(d, id, "stddev \(sd) is below \(MeasuredLabeling.minimumStddev), the smallest a fit can weigh")
                }
                let text = d.text.trimmed()
                guard let x = Self.decimal(text) else {
                    throw fail(d, id, "value '\(Excerpt.quote(text, limit: 30))' is not a finite number")
                }
                var key = 0
                switch groups[gi] {
                case .labeling(_, _, _, let isotopologues, _, _):
                    guard let w = d.attribute("weight") else {
                        throw fail(d, id, "<datum> of an MS group lacks the attribute 'weight' (the isotopologue index)")
                    }
                    guard let k = Int(w.trimmed()), isotopologues.contains(k) else {
                        throw fail(d, id, "weight=\"\(Excerpt.quote(w, limit: 20))\" is not one of the group's isotopologues M\(isotopologues.map(String.init).joined(separator: ","))")
                    }
                    guard x >= 0 else { throw fail(d, id, "fraction \(x) of M+\(k) is negative") }
                    key = k
                case .flux:
                    if let w = d.attribute("weight") {
                        throw fail(d, id, "weight=\"\(Excerpt.quote(w, limit: 20))\" is not allowed for a flux measurement")
                    }
                }
                if let old = values[id]?[key] {
                    var what = ""
                    if case .labeling = groups[gi] { what = " for M+\(key)" }
                    throw fail(d, id, "duplicate datum\(what) (first given on line \(old.line.map(String.init) ?? "?"))")
                }
                values[id, default: [:]][key] = (x, sd, d.line)
            }
        }

        var fluxes: [FluxMeasurement] = []
        var labeling: [LabelingMeasurement] = []
        var formulas: [String: ElementalFormula] = [:]
        for g in groups {
            let got = values[g.id] ?? [:]
            switch g {
            case .labeling(let id, let line, let fragment, let isotopologues, let scale, let formula):
                formulas[id] = formula
                guard !got.isEmpty else { throw fail(line, id, "group has no <datum>") }
                if let k = isotopologues.first(where: { got[$0] == nil }) {
                    throw fail(line, id, "no <datum weight=\"\(k)\"> for M+\(k) of the group")
                }
                labeling.append(LabelingMeasurement(
                    id: id, experiment: experiment, fragment: fragment, isotopologues: isotopologues,
                    values: isotopologues.map { got[$0]!.value }, stddevs: isotopologues.map { got[$0]!.stddev },
                    scale: scale, line: line))
            case .flux(let id, let line, let kind, let terms):
                guard let v = got[0] else { throw fail(line, id, "flux measurement has no <datum>") }
                fluxes.append(FluxMeasurement(id: id, kind: kind, terms: terms, value: v.value, stddev: v.stddev,
                                              line: line, dataLine: v.line))
            }
        }
        return (fluxes, labeling, formulas)
    }

    /// The `textual` child of a group; refuses MathML, error models and a missing formula.
    private func formula(_ g: XMLElement, id: String) throws -> (text: String, line: Int?) {
        if g.attribute("times") != nil {
            throw fail(g, id, "attribute 'times': non-stationary measurements are not supported (MLFlux fits isotopic steady state)")
        }
        for c in g.children {
            if c.name == "errormodel" {
                throw fail(c, id, "<errormodel> is not supported; give stddev on each <datum>")
            }
            if c.name == "math" {
                throw fail(c, id, "MathML formulas are not supported; use <textual>")
            }
        }
        guard let t = g.element("textual") else { throw fail(g, id, "no <textual> formula") }
        var text = t.text.trimmed()
        while text.hasSuffix(";") { text.removeLast(); text = text.trimmed() }
        guard !text.isEmpty else { throw fail(t, id, "empty <textual> formula") }
        return (text, t.line)
    }

    private func labelingGroup(_ g: XMLElement) throws -> Group {
        guard let id = g.attribute("id") else {
            throw FluxMLError.missingAttribute(file: file, line: g.line, element: "group", attribute: "id")
        }
        var scale = LabelingMeasurement.Scale.auto
        if let s = g.attribute("scale") {
            guard let v = LabelingMeasurement.Scale(rawValue: s.trimmed()) else {
                throw FluxMLError.invalidAttribute(file: file, line: g.line, element: "group", attribute: "scale",
                                                   value: s, reason: "expected \"auto\" or \"one\"")
            }
            scale = v
        }
        let (spec, line) = try formula(g, id: id)
        func bad(_ why: String) -> FluxMLError {
            fail(line, id, "'\(Excerpt.quote(spec))': \(why)")
        }
        if spec.contains(";") { throw bad("several specs in one group (a generic group) are not supported") }
        guard let hash = spec.firstIndex(of: "#") else {
            throw bad("not an MS spec like Pool[1-3]#M0,1,2,3")
        }
        let lhs = String(spec[..<hash]).trimmed()
        let rhs = String(spec[spec.index(after: hash)...]).trimmed()
        if lhs.contains(where: { "+*/() ".contains($0) }) || spec.filter({ $0 == "#" }).count > 1 {
            throw bad("formulas over several specs (generic groups) are not supported; only MS groups Pool[atoms]#M0,1,…")
        }
        // Kinds other than MS, by the 13CFLUX2 notation (Notation.re).
        if lhs.contains(":") || rhs.hasPrefix("M(") {
            throw bad("MS/MS and multi-isotope MS groups (#M(…)) are not supported; only MS groups Pool[atoms]#M0,1,…")
        }
        if rhs.hasPrefix("P") { throw bad("1H-NMR groups (#P…) are not supported; only MS groups") }
        if let f = rhs.first, "SDT".contains(f) { throw bad("13C-NMR groups (#S…, #D…, #T…) are not supported; only MS groups") }
        if !rhs.isEmpty, rhs.allSatisfy({ "01xX".contains($0) }) {
            throw bad("cumomer/isotopomer groups (#01x…) are not supported; only MS groups")
        }
        guard rhs.hasPrefix("M") else { throw bad("not an MS spec like Pool[1-3]#M0,1,2,3") }
        var poolID = lhs
        var atomList: String? = nil
        if let open = lhs.firstIndex(of: "[") {
            guard lhs.hasSuffix("]") else { throw bad("'[' without a closing ']'") }
            poolID = String(lhs[..<open])
            atomList = String(lhs[lhs.index(after: open)..<lhs.index(before: lhs.endIndex)])
        }
        guard !poolID.isEmpty else { throw bad("names no pool") }
        guard let pool = network.pool(poolID) else {
            throw bad("unknown pool '\(Excerpt.quote(poolID, limit: 40))'")
        }
        var atoms = Array(0..<pool.atomCount)
        if let atomList {
            atoms = []
            for part in atomList.split(separator: ",", omittingEmptySubsequences: false) {
                let p = String(part).trimmed()
                let ends = p.split(separator: "-", omittingEmptySubsequences: false).map { String($0).trimmed() }
                guard (1...2).contains(ends.count), let a = Int(ends[0]), let b = Int(ends[ends.count - 1]), a <= b else {
                    throw bad("'\(Excerpt.quote(p, limit: 20))' is not an atom number or range like 1-3")
                }
                guard a >= 1, b <= pool.atomCount else {
                    let what = a == b ? "atom \(a)" : "atoms \(a)-\(b)"
                    throw bad("\(what) outside 1...\(pool.atomCount) of pool '\(pool.id)' (\(pool.carbons) C + \(pool.hydrogens) H, carbons first)")
                }
                atoms.append(contentsOf: (a - 1)...(b - 1))
            }
            guard Set(atoms).count == atoms.count else { throw bad("an atom is listed twice") }
        }
        guard !atoms.isEmpty else { throw bad("the fragment has no atoms") }
        var isotopologues: [Int] = []
        for part in rhs.dropFirst().split(separator: ",", omittingEmptySubsequences: false) {
            guard let k = Int(String(part).trimmed()), k >= 0 else {
                throw bad("'\(Excerpt.quote(part, limit: 20))' is not an isotopologue index (M0,1,2…)")
            }
            guard k <= atoms.count else {
                throw bad("M+\(k) is impossible for a fragment of \(atoms.count) atoms (M+0…M+\(atoms.count))")
            }
            isotopologues.append(k)
        }
        guard Set(isotopologues).count == isotopologues.count else { throw bad("an isotopologue is listed twice") }
        var fragment = MeasuredFragment.fragment(of: pool, atoms: atoms)
        if let alias = g.attribute("name")?.trimmed() {
            guard !alias.isEmpty, !alias.contains(where: { $0.isWhitespace || $0 == "," || $0 == "[" }) else {
                throw FluxMLError.invalidAttribute(file: file, line: g.line, element: "group", attribute: "name",
                                                   value: alias, reason: "a fragment name is a word without spaces, commas or '['")
            }
            fragment.name = alias
        }
        var formula: ElementalFormula? = nil
        if let text = g.attribute("formula") {
            do { formula = try ElementalFormula(parsing: text.trimmed()) } catch {
                throw FluxMLError.invalidAttribute(file: file, line: g.line, element: "group", attribute: "formula",
                                                   value: text, reason: "\(error)")
            }
        }
        return .labeling(id: id, line: g.line, fragment: fragment,
                         isotopologues: isotopologues.sorted(), scale: scale, formula: formula)
    }

    private func fluxGroup(_ g: XMLElement, kind: FluxKind) throws -> Group {
        guard let id = g.attribute("id") else {
            throw FluxMLError.missingAttribute(file: file, line: g.line, element: g.name, attribute: "id")
        }
        let (text, line) = try formula(g, id: id)
        let parsed: (terms: [FluxConstraint.Term], constant: Double)
        do {
            parsed = try ConstraintParser.parseExpression(text)
        } catch let e as ConstraintParser.ParseError {
            throw fail(line, id, "cannot read flux formula '\(Excerpt.quote(text))': \(e.reason) (a linear combination of fluxes like v1 or v1+2*v2 is read)")
        }
        guard parsed.constant == 0 else {
            throw fail(line, id, "flux formula '\(Excerpt.quote(text))' has a constant term; only a linear combination of fluxes is read")
        }
        guard !parsed.terms.isEmpty else { throw fail(line, id, "flux formula '\(Excerpt.quote(text))' names no flux") }
        for t in parsed.terms {
            guard let j = network.reactionIndex[t.reaction] else {
                throw fail(line, id, "unknown reaction '\(Excerpt.quote(t.reaction, limit: 40))' in flux formula '\(Excerpt.quote(text))'")
            }
            if kind == .exchange && !network.isBidirectional[j] {
                throw fail(line, id, "<xchflux> of '\(t.reaction)', a one-way reaction (uptake or efflux) whose exchange flux is 0")
            }
        }
        return .flux(id: id, line: g.line, kind: kind, terms: parsed.terms)
    }

    /// A finite decimal number (`1`, `-0.5`, `.53`, `1e-3`); no hex, `inf` or `nan`.
    static func decimal(_ s: String) -> Double? {
        let t = s.trimmed()
        guard !t.isEmpty, t.count <= 64, t.allSatisfy({ "0123456789.eE+-".contains($0) }),
              let x = Double(t), x.isFinite else { return nil }
        return x
    }
}
