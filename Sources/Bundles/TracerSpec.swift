import MLFluxCore

/// A tracer given on the command line: `POOL=PATTERN[:FRACTION]`.
///
/// `PATTERN` is a `0`/`1` string over the pool's atoms (carbons, then hydrogens);
/// `FRACTION` defaults to 1. Several specs for one pool form a mixture; the
/// unlabeled rest fills it to 1.
public enum TracerSpec {
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var spec: String
        public var reason: String
        public var description: String { "tracer '\(spec)': \(reason)" }
    }

    /// One experiment `id` from `specs`, validated against `network`.
    /// - Throws: `ParseError` for syntax, unknown or non-input pools, wrong pattern lengths,
    ///   or fractions outside [0, 1] or summing to more than 1.
    public static func experiment(id: String, specs: [String], network: MetabolicNetwork) throws -> TracerExperiment {
        var order: [String] = []
        var components: [String: [TracerComponent]] = [:]
        for spec in specs {
            guard let eq = spec.firstIndex(of: "=") else {
                throw ParseError(spec: spec, reason: "expected POOL=PATTERN[:FRACTION], e.g. molA=100:0.5")
            }
            let pool = String(spec[..<eq])
            var rest = String(spec[spec.index(after: eq)...])
            var fraction = 1.0
            if let colon = rest.firstIndex(of: ":") {
                let f = String(rest[rest.index(after: colon)...])
                guard let v = Double(f), v.isFinite, v >= 0, v <= 1 else {
                    throw ParseError(spec: spec, reason: "fraction '\(f)' is not a number in [0, 1]")
                }
                fraction = v
                rest = String(rest[..<colon])
            }
            guard let pi = network.poolIndex[pool] else {
                throw ParseError(spec: spec, reason: "unknown pool '\(pool)' in network '\(network.name)'")
            }
            guard network.isInput[pi] else {
                let inputs = network.inputPools.map(\.id).joined(separator: ", ")
                throw ParseError(spec: spec, reason: "'\(pool)' is not an input pool (inputs: \(inputs))")
            }
            let atoms = network.pools[pi].atomCount
            guard let c = TracerComponent(pattern: rest, fraction: fraction), c.pattern.count == atoms else {
                throw ParseError(spec: spec, reason: "pattern '\(rest)' must be \(atoms) characters of 0 and 1 (pool '\(pool)' has \(atoms) atoms)")
            }
            if components[pool] == nil { order.append(pool) }
            components[pool, default: []].append(c)
        }
        for pool in order {
            let total = components[pool]!.reduce(0) { $0 + $1.fraction }
            guard total <= 1 + 1e-9 else {
                throw ParseError(spec: specs.first { $0.hasPrefix(pool + "=") } ?? pool,
                                 reason: "fractions of '\(pool)' sum to \(total) > 1")
            }
        }
        let e = TracerExperiment(id: id, inputs: order.map { TracerInput(pool: $0, components: components[$0]!) })
        try network.validate(e)
        return e
    }
}
