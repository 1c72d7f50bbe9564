import IsotopeCorrection
import MLFluxCore
import SafeIO

/// Writes a `MetabolicNetwork` as FluxML that `FluxMLReader` reads back to an equal
/// network (pools, reactions with atom maps and leaks, constraints, configurations;
/// source line numbers are not preserved).
public enum FluxMLWriter {
    public static func write(_ network: MetabolicNetwork) -> String {
        render(network, measurements: nil)
    }

    /// Writes `network` with `measurements` as each configuration's `measurement` section,
    /// as 13CFLUX reads it: the labeling measurements of that experiment and every flux
    /// measurement (repeated in each configuration, as 13CFLUX files do;
    /// `FluxMLReader.parseDocument` merges the copies back into one).
    /// - Throws: `MeasurementSetError` when a labeling measurement names an experiment the
    ///   network lacks, when there are flux measurements but no experiment to hold them, or
    ///   when two measurements of one configuration share an id.
    /// A fragment named otherwise than `POOL_1:2` gets a `name` attribute (an alias), and one in
    /// `formulas` a `formula` attribute, one in `dilution` `dilution="true"` (MLFlux extensions, see
    /// `FluxMLDocument.formulas` and `.dilution`).
    public static func write(_ network: MetabolicNetwork, measurements: MeasurementSet,
                             formulas: [String: ElementalFormula] = [:], dilution: [String: String] = [:]) throws -> String {
        let ids = Set(network.experiments.map(\.id))
        if let m = measurements.labeling.first(where: { !ids.contains($0.experiment) }) {
            throw MeasurementSetError(line: m.line,
                message: "labeling measurement '\(m.id)' belongs to experiment '\(m.experiment)', which the network lacks")
        }
        if !measurements.fluxes.isEmpty && network.experiments.isEmpty {
            throw MeasurementSetError(line: nil, message: "flux measurements need a configuration (tracer experiment) to hold them")
        }
        for e in network.experiments {
            var seen = Set<String>()
            for id in measurements.labeling(experiment: e.id).map(\.id) + measurements.fluxes.map(\.id)
            where !seen.insert(id).inserted {
                throw MeasurementSetError(line: nil, message: "measurement id '\(id)' is used twice in configuration '\(e.id)'")
            }
        }
        return render(network, measurements: measurements, formulas: formulas, dilution: dilution)
    }

    private static func render(_ network: MetabolicNetwork, measurements: MeasurementSet?,
                               formulas: [String: ElementalFormula] = [:], dilution: [String: String] = [:]) -> String {
        var o = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        o += "<fluxml xmlns=\"\(FluxMLNamespace.uri)\">\n"
        o += "  <info>\n    <name>\(escape(network.name))</name>\n    <version>1.0</version>\n  </info>\n"
        o += "  <reactionnetwork>\n    <metabolitepools>\n"
        for p in network.pools {
            var a = "id=\"\(escape(p.id))\""
            if p.hydrogens == 0 { a += " atoms=\"\(p.carbons)\"" } else { a += " C=\"\(p.carbons)\" H=\"\(p.hydrogens)\"" }
            if p.isSymmetric { a += " symm=\"180\"" }
            o += "      <pool \(a)/>\n"
        }
        o += "    </metabolitepools>\n"
        for r in network.reactions {
            var a = "id=\"\(escape(r.id))\""
            if !r.leakAtoms.isEmpty { a += " leak=\"\(escape(String(r.leakAtoms.sorted())))\"" }
            if r.declaredOneWay { a += " bidirectional=\"false\"" }
            o += "    <reaction \(a)>\n"
            // A coefficient other than 1: MLFlux's `stoichiometry` attribute (SBML's name; not in FluxML's schema).
            func coefficient(_ x: ReactionParticipant) -> String { x.coefficient == 1 ? "" : " stoichiometry=\"\(x.coefficient)\"" }
            for s in r.substrates {
                o += "      <reduct cfg=\"\(escape(String(s.atomMap)))\" id=\"\(escape(s.pool))\"\(coefficient(s))/>\n"
            }
            for p in r.products {
                o += "      <rproduct cfg=\"\(escape(String(p.atomMap)))\" id=\"\(escape(p.pool))\"\(coefficient(p))/>\n"
            }
            o += "    </reaction>\n"
        }
        o += "  </reactionnetwork>\n"
        if !network.constraints.isEmpty {
            o += "  <constraints>\n"
            // One section per run of constraints of the same kind, so that order survives.
            var i = 0
            let cs = network.constraints
            while i < cs.count {
                let kind = cs[i].kind
                o += "    <\(kind.rawValue)>\n      <textual>\n"
                while i < cs.count && cs[i].kind == kind {
                    o += "        \(escape(statement(cs[i])));\n"
                    i += 1
                }
                o += "      </textual>\n    </\(kind.rawValue)>\n"
            }
            o += "  </constraints>\n"
        }
        for e in network.experiments {
            o += "  <configuration name=\"\(escape(e.id))\" stationary=\"true\">\n"
            for input in e.inputs {
                o += "    <input pool=\"\(escape(input.pool))\" type=\"isotopomer\">\n"
                for c in input.components {
                    let purity = c.purity == 1 ? "" : " purity=\"\(number(c.purity))\""
                    o += "      <label cfg=\"\(c.patternString)\"\(purity)>\(number(c.fraction))</label>\n"
                }
                o += "    </input>\n"
            }
            if let measurements {
                o += measurementSection(network, measurements, experiment: e.id, formulas: formulas, dilution: dilution)
            }
            o += "  </configuration>\n"
        }
        o += "</fluxml>\n"
        return o
    }

    /// The `measurement` element of one configuration (empty when it has nothing to hold).
    static func measurementSection(_ network: MetabolicNetwork, _ set: MeasurementSet, experiment: String,
                                   formulas: [String: ElementalFormula] = [:], dilution: [String: String] = [:]) -> String {
        let labeling = set.labeling(experiment: experiment)
        guard !labeling.isEmpty || !set.fluxes.isEmpty else { return "" }
        var o = "    <measurement>\n      <model>\n"
        if !labeling.isEmpty {
            o += "        <labelingmeasurement>\n"
            for m in labeling {
                let spec = m.spec(poolAtoms: network.pool(m.fragment.pool)?.atomCount)
                var extra = ""
                if let pool = network.pool(m.fragment.pool),
                   MeasuredFragment.fragment(of: pool, atoms: m.fragment.atoms).name != m.fragment.name {
                    extra += " name=\"\(escape(m.fragment.name))\""
                }
                if let f = formulas[m.fragment.name] { extra += " formula=\"\(f)\"" }
                if dilution[m.fragment.name] != nil { extra += " dilution=\"true\"" }
                o += "          <group id=\"\(escape(m.id))\" scale=\"\(m.scale.rawValue)\"\(extra)>\n"
                o += "            <textual>\(escape(spec))</textual>\n          </group>\n"
            }
            o += "        </labelingmeasurement>\n"
        }
        if !set.fluxes.isEmpty {
            o += "        <fluxmeasurement>\n"
            for f in set.fluxes {
                let tag = f.kind == .net ? "netflux" : "xchflux"
                o += "          <\(tag) id=\"\(escape(f.id))\">\n"
                o += "            <textual>\(escape(f.expression))</textual>\n          </\(tag)>\n"
            }
            o += "        </fluxmeasurement>\n"
        }
        o += "      </model>\n      <data>\n"
        for m in labeling {
            for (i, k) in m.isotopologues.enumerated() {
                o += "        <datum id=\"\(escape(m.id))\" stddev=\"\(number(m.stddevs[i]))\" weight=\"\(k)\">\(number(m.values[i]))</datum>\n"
            }
        }
        for f in set.fluxes {
            o += "        <datum id=\"\(escape(f.id))\" stddev=\"\(number(f.stddev))\">\(number(f.value))</datum>\n"
        }
        o += "      </data>\n    </measurement>\n"
        return o
    }

    /// A constraint as a FluxML textual statement without the `;`, e.g. `2*v2-v3>=0`.
    public static func statement(_ c: FluxConstraint) -> String {
        var lhs = ""
        for (i, t) in c.terms.enumerated() {
            let sign = t.coefficient < 0 ? "-" : (i == 0 ? "" : "+")
            let mag = abs(t.coefficient)
            lhs += sign + (mag == 1 ? "" : "\(number(mag))*") + t.reaction
        }
        return "\(lhs)\(c.relation.rawValue)\(number(c.constant))"
    }

    /// Shortest decimal text that reads back to the same `Double` (integers without `.0`).
    static func number(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    static func escape(_ s: String) -> String { XMLEscape.text(s) }
}
