import MLFluxCore

/// Writes a `MetabolicNetwork` as FluxML that `FluxMLReader` reads back to an equal
/// network (pools, reactions with atom maps and leaks, constraints, configurations;
/// source line numbers are not preserved).
public enum FluxMLWriter {
    public static func write(_ network: MetabolicNetwork) -> String {
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
            o += "    <reaction \(a)>\n"
            for s in r.substrates {
                o += "      <reduct cfg=\"\(escape(String(s.atomMap)))\" id=\"\(escape(s.pool))\"/>\n"
            }
            for p in r.products {
                o += "      <rproduct cfg=\"\(escape(String(p.atomMap)))\" id=\"\(escape(p.pool))\"/>\n"
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
            o += "  </configuration>\n"
        }
        o += "</fluxml>\n"
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

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
