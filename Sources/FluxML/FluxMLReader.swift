#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MLFluxCore
import SafeIO

/// Reads FluxML (the 13CFLUX2 XML format, namespace `http://www.13cflux.net/fluxml`)
/// into a validated `MetabolicNetwork`.
///
/// Read: `info/name`, `reactionnetwork` (`metabolitepools/pool`, `reaction` with
/// `reduct`/`rproduct` and `leak`), `constraints/net|xch/textual`, and each
/// `configuration`'s `input`/`label` elements. `measurement` and `simulation` are ignored
/// here; `readDocument(contentsOf:)` / `parseDocument(_:fileName:)` also read `measurement`.
///
/// Beyond FluxML's schema, a `reduct` or `rproduct` may state a stoichiometric coefficient
/// (`<reduct id="Ala" cfg="abc" stoichiometry="0.488"/>`, SBML's attribute name): for a
/// biomass drain, whose products carry no traced atoms. 13CFLUX writes the same as one drain
/// per precursor tied by constraints (`0=488*mu-Ala_bm`), which reads as it is.
public enum FluxMLReader {
    /// Reads the file at `path`. Errors name the file as given in `path`.
    public static func read(contentsOf path: String) throws -> MetabolicNetwork {
        try parse(text(contentsOf: path), fileName: path)
    }

    /// The file at `path` as UTF-8 text, within `Limits.fileBytes`.
    static func text(contentsOf path: String) throws -> String {
        let data: Data
        do {
            data = try InputFile.read(path, limit: Limits.fileBytes, what: "FluxML network")
        } catch let e as InputFileError {
            throw FluxMLError.unreadable(file: path, reason: e.reason)
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw FluxMLError.unreadable(file: path, reason: "not UTF-8 text")
        }
        return text
    }

    /// Sizes a FluxML document may have. Generous for real networks (a genome-scale
    /// atom-mapped model is a few MB with tens of thousands of elements) and small enough
    /// that a hostile file cannot take the memory of the machine.
    public enum Limits {
        /// Largest FluxML file read (bytes).
        public static let fileBytes = 64 << 20
        /// Most elements in one document.
        public static let elements = 500_000
        /// Most traced atoms (carbons + hydrogens) of one pool: an EMU is a 64-bit atom mask.
        public static let atomsPerPool = 64
    }

    /// Parses FluxML text; `fileName` is used in error messages and, without an
    /// `info/name`, as the network name (its last path component without extension).
    public static func parse(_ text: String, fileName: String) throws -> MetabolicNetwork {
        let root = try XMLTreeParser.parse(text, fileName: fileName)
        var r = Reader(file: fileName)
        return try r.read(root)
    }
}

struct Reader {
    let file: String

    init(file: String) { self.file = file }

    func required(_ el: XMLElement, _ attr: String) throws -> String {
        guard let v = el.attribute(attr) else {
            throw FluxMLError.missingAttribute(file: file, line: el.line, element: el.name, attribute: attr)
        }
        return v
    }

    func count(_ el: XMLElement, _ attr: String) throws -> Int? {
        guard let raw = el.attribute(attr) else { return nil }
        let v = raw.trimmed()
        guard let n = Int(v), n >= 0 else {
            throw FluxMLError.invalidAttribute(file: file, line: el.line, element: el.name, attribute: attr,
                                               value: raw, reason: "not a non-negative integer")
        }
        return n
    }

    mutating func read(_ root: XMLElement) throws -> MetabolicNetwork {
        guard root.name == "fluxml" else {
            throw FluxMLError.notFluxML(file: file, line: root.line, root: root.name)
        }
        var name = root.element("info")?.element("name")?.text.trimmed() ?? ""
        if name.isEmpty {
            let last = file.split(separator: "/").last.map(String.init) ?? file
            name = last.split(separator: ".", omittingEmptySubsequences: false).count > 1
                ? String(last[..<last.lastIndex(of: ".")!]) : last
        }
        guard let net = root.element("reactionnetwork") else {
            throw FluxMLError.invalidElement(file: file, line: root.line, element: "fluxml",
                                             reason: "no <reactionnetwork> element")
        }
        // Element-level defects are collected (up to `FluxMLErrors.limit`) so one run names them all.
        var errors: [any Error] = []
        func collect<T>(_ body: () throws -> T) throws -> T? {
            do { return try body() } catch let e as FluxMLError {
                errors.append(e)
                if errors.count >= FluxMLErrors.limit { throw FluxMLErrors(file: file, errors: errors, truncated: true) }
                return nil
            }
        }
        var pools: [Pool] = []
        for group in net.elements("metabolitepools") {
            for p in group.elements("pool") { if let x = try collect({ try pool(p) }) { pools.append(x) } }
        }
        let poolByID = Dictionary(pools.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var reactions: [Reaction] = []
        for rx in net.elements("reaction") { if let x = try collect({ try reaction(rx) }) { reactions.append(x) } }

        // Constraints of the network and of its configurations (13CFLUX applies both).
        func constraintsOf(_ cs: XMLElement) throws -> [FluxConstraint] {
            var found: [FluxConstraint] = []
            // Sections in document order (the writer emits one per run of equal kind).
            for section in cs.children where section.isFluxML {
                // Pool-size constraints (13CFLUX2 `psconstraints`) are not modelled here.
                if section.name == "psconstraints" { continue }
                guard let kind = FluxKind(rawValue: section.name) else {
                    _ = try collect { throw FluxMLError.invalidElement(file: file, line: section.line, element: section.name,
                                                                      reason: "unknown constraint section (expected <net> or <xch>)") }
                    continue
                }
                for child in section.children where child.isFluxML {
                    guard child.name == "textual" else {
                        _ = try collect { throw FluxMLError.invalidElement(
                            file: file, line: child.line, element: child.name,
                            reason: "unsupported constraint form (only <textual> is read)") }
                        continue
                    }
                    found += try collect { try textual(child, kind: kind) } ?? []
                }
            }
            return found
        }
        var constraints: [FluxConstraint] = []
        for cs in root.elements("constraints") { constraints += try constraintsOf(cs) }
        // Configuration constraints join the network's: one flux space serves every tracer
        // experiment, so configurations must agree on them.
        var configurationConstraints: (name: String, line: Int?, set: [String])?
        for cfg in root.elements("configuration") {
            var own: [FluxConstraint] = []
            for cs in cfg.elements("constraints") { own += try constraintsOf(cs) }
            let set = own.map(\.description).sorted()
            let name = cfg.attribute("name") ?? "?"
            if let first = configurationConstraints {
                if first.set != set {
                    _ = try collect { throw FluxMLError.invalidElement(
                        file: file, line: cfg.line, element: "configuration",
                        reason: "configuration '\(name)' has other flux constraints than '\(first.name)'; one flux space serves every tracer experiment, so configurations must agree (move shared constraints to the network's <constraints>)") }
                }
            } else {
                configurationConstraints = (name, cfg.line, set)
                constraints += own
            }
        }

        var experiments: [TracerExperiment] = []
        var experimentLine: [String: Int] = [:]
        for cfg in root.elements("configuration") {
            guard let id = try collect({ try required(cfg, "name") }) else { continue }
            var inputs: [TracerInput] = []
            for input in cfg.elements("input") {
                guard let poolID = try collect({ try required(input, "pool") }) else { continue }
                if let type = input.attribute("type"), type != "isotopomer" {
                    _ = try collect { throw FluxMLError.invalidAttribute(file: file, line: input.line, element: "input",
                                                                        attribute: "type", value: type,
                                                                        reason: "only type=\"isotopomer\" is supported") }
                    continue
                }
                var comps: [TracerComponent] = []
                for label in input.elements("label") {
                    if let c = try collect({ try component(label, pool: poolByID[poolID]) }) { comps.append(c) }
                }
                inputs.append(TracerInput(pool: poolID, components: comps))
            }
            experiments.append(TracerExperiment(id: id, inputs: inputs))
            if experimentLine[id] == nil, let l = cfg.line { experimentLine[id] = l }
        }
        if errors.count == 1 { throw errors[0] }
        if !errors.isEmpty { throw FluxMLErrors(file: file, errors: errors, truncated: false) }

        do {
            return try MetabolicNetwork(name: name, pools: pools, reactions: reactions,
                                        constraints: constraints, experiments: experiments)
        } catch let e as NetworkError {
            var line = e.line
            if case .invalidTracer(let exp, _, _) = e { line = experimentLine[exp] }
            throw SourceLocatedError(file: file, line: line, underlying: e)
        }
    }

    func pool(_ el: XMLElement) throws -> Pool {
        let id = try required(el, "id")
        var carbons: Int, hydrogens: Int
        if el.attribute("C") != nil || el.attribute("H") != nil {
            carbons = try count(el, "C") ?? 0
            hydrogens = try count(el, "H") ?? 0
        } else if let n = try count(el, "atoms") {
            carbons = n
            hydrogens = 0
        } else {
            // No traced atoms (a cofactor, biomass): the pool takes part in the mass balances only.
            carbons = 0
            hydrogens = 0
        }
        let limit = FluxMLReader.Limits.atomsPerPool
        guard carbons <= limit, hydrogens <= limit, carbons + hydrogens <= limit else {
            let attr = el.attribute("atoms") != nil && el.attribute("C") == nil && el.attribute("H") == nil ? "atoms" : "C"
            throw FluxMLError.invalidAttribute(file: file, line: el.line, element: "pool", attribute: attr,
                                               value: el.attribute(attr) ?? "",
                                               reason: "pool '\(id)' has \(carbons) C + \(hydrogens) H traced atoms; at most \(limit) are supported")
        }
        var symmetric = false
        if let s = el.attribute("symm") {
            switch s.trimmed() {
            case "180": symmetric = true
            case "", "0", "none": symmetric = false
            default:
                throw FluxMLError.invalidAttribute(file: file, line: el.line, element: "pool", attribute: "symm",
                                                   value: s, reason: "only symm=\"180\" is supported")
            }
        }
        return Pool(id: id, carbons: carbons, hydrogens: hydrogens, isSymmetric: symmetric, line: el.line)
    }

    func reaction(_ el: XMLElement) throws -> Reaction {
        let id = try required(el, "id")
        func participant(_ p: XMLElement) throws -> ReactionParticipant {
            let pool = try required(p, "id")
            let cfg = (p.attribute("cfg") ?? "").filter { !$0.isWhitespace }
            // MLFlux's extension (SBML's attribute name): a stoichiometric coefficient, e.g. of a biomass drain.
            var coefficient = 1.0
            if let raw = p.attribute("stoichiometry") {
                guard let c = Double(raw.trimmed()), c.isFinite, c > 0 else {
                    throw FluxMLError.invalidAttribute(file: file, line: p.line, element: p.name, attribute: "stoichiometry",
                                                       value: raw, reason: "not a positive number")
                }
                coefficient = c
            }
            return ReactionParticipant(pool: pool, atomMap: Array(cfg), coefficient: coefficient, line: p.line)
        }
        var subs = try el.elements("reduct").map(participant)
        var prods = try el.elements("rproduct").map(participant)
        if (subs + prods).contains(where: { $0.atomMap.contains("#") }) {
            (subs, prods) = try FluxML3AtomMaps.letters(substrates: subs, products: prods, reaction: id, file: file, line: el.line)
        }
        let leak = Set((el.attribute("leak") ?? "").filter { !$0.isWhitespace && $0 != "," })
        var r = Reaction(id: id, substrates: subs, products: prods, leakAtoms: leak, line: el.line)
        switch el.attribute("bidirectional")?.trimmingCharacters(in: .whitespaces).lowercased() {
        case nil, "true": break
        case "false": r.declaredOneWay = true
        case let other?:
            throw FluxMLError.invalidAttribute(file: file, line: el.line, element: "reaction", attribute: "bidirectional",
                                               value: other, reason: "must be true or false")
        }
        return r
    }

    func textual(_ el: XMLElement, kind: FluxKind) throws -> [FluxConstraint] {
        do {
            return try ConstraintParser.parse(el.text, kind: kind, firstLine: el.line)
        } catch let e as ConstraintParser.ParseError {
            throw FluxMLError.invalidConstraint(file: file, line: el.line.map { $0 + e.lineOffset },
                                                statement: e.statement, reason: e.reason)
        }
    }

    /// `<label cfg="010" purity="0.99">1.0</label>`; cfg is a 0/1 string over the pool's
    /// atoms (carbons, then hydrogens). Also accepted: `C#110000 H#0000100` (parts in any
    /// order, each optional) and `110000+0000100`.
    func component(_ el: XMLElement, pool: Pool?) throws -> TracerComponent {
        let cfg = try required(el, "cfg")
        func bad(_ why: String) -> FluxMLError { .invalidLabel(file: file, line: el.line, cfg: cfg, reason: why) }
        var pattern = ""
        if cfg.contains("#") {
            var c: String? = nil, h: String? = nil
            for part in cfg.split(whereSeparator: { $0.isWhitespace || $0 == "," || $0 == ";" || $0 == "+" }) {
                let bits = part.split(separator: "#", omittingEmptySubsequences: false)
                guard bits.count == 2 else { throw bad("expected parts like C#110000 and H#0000100") }
                switch bits[0] {
                case "C", "c": c = String(bits[1])
                case "H", "h": h = String(bits[1])
                default: throw bad("unknown element '\(bits[0])' (only C and H are traced)")
                }
            }
            if let pool {
                if c == nil { c = String(repeating: "0", count: pool.carbons) }
                if h == nil { h = String(repeating: "0", count: pool.hydrogens) }
                guard c!.count == pool.carbons else {
                    throw bad("carbon part has \(c!.count) positions, pool '\(pool.id)' has \(pool.carbons) carbons")
                }
                guard h!.count == pool.hydrogens else {
                    throw bad("hydrogen part has \(h!.count) positions, pool '\(pool.id)' has \(pool.hydrogens) hydrogens")
                }
            }
            pattern = (c ?? "") + (h ?? "")
        } else {
            pattern = cfg.filter { !$0.isWhitespace && $0 != "+" }
        }
        let fracText = el.text.trimmed()
        guard let fraction = Double(fracText.isEmpty ? "1" : fracText), fraction.isFinite else {
            throw bad("fraction '\(fracText)' is not a number")
        }
        var purity = 1.0
        if let p = el.attribute("purity") {
            guard let v = Double(p.trimmed()), v.isFinite, v >= 0, v <= 1 else {
                throw bad("purity '\(p)' is not a number in [0, 1]")
            }
            purity = v
        }
        guard fraction >= 0, fraction <= 1 else { throw bad("fraction \(fraction) is not in [0, 1]") }
        guard let comp = TracerComponent(pattern: pattern, fraction: fraction, purity: purity) else {
            throw bad("a pattern may only contain 0 and 1")
        }
        if let pool, comp.pattern.count != pool.atomCount {
            throw bad("pattern has \(comp.pattern.count) positions, pool '\(pool.id)' has \(pool.atomCount) atoms (\(pool.carbons) C + \(pool.hydrogens) H)")
        }
        return comp
    }
}
