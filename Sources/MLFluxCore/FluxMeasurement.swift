/// A measured flux: a linear combination of net or exchange fluxes with its value and
/// standard deviation (FluxML `measurement/model/fluxmeasurement/netflux|xchflux` with its
/// `data/datum`).
///
/// Almost always one reaction with coefficient 1 (`<netflux id="fm_upt"><textual>upt</textual>`);
/// a linear combination such as `v1+v2` or `2*v3` is kept as terms. Values and standard
/// deviations are in the network's flux unit (the same unit as `FluxState`).
public struct FluxMeasurement: Hashable, Sendable, CustomStringConvertible {
    /// Measurement id (FluxML group id, e.g. `"fm_upt"`).
    public var id: String
    /// Net or exchange flux.
    public var kind: FluxKind
    /// The measured quantity Σ coefficient · v[reaction]; reactions are network reaction ids.
    public var terms: [FluxConstraint.Term]
    /// Measured value (flux unit).
    public var value: Double
    /// Standard deviation of `value` (flux unit, finite, > 0).
    public var stddev: Double
    /// Line of the measurement's definition in the source file, when read from one.
    public var line: Int?
    /// Line of its datum, when read from a file.
    public var dataLine: Int?

    public init(id: String, kind: FluxKind, terms: [FluxConstraint.Term], value: Double, stddev: Double,
                line: Int? = nil, dataLine: Int? = nil) {
        self.id = id
        self.kind = kind
        self.terms = terms
        self.value = value
        self.stddev = stddev
        self.line = line
        self.dataLine = dataLine
    }

    /// One reaction with coefficient 1.
    public init(id: String, kind: FluxKind, reaction: String, value: Double, stddev: Double,
                line: Int? = nil, dataLine: Int? = nil) {
        self.init(id: id, kind: kind, terms: [.init(reaction: reaction, coefficient: 1)], value: value,
                  stddev: stddev, line: line, dataLine: dataLine)
    }

    /// The reaction id when the measurement is a single reaction with coefficient 1.
    public var reaction: String? {
        terms.count == 1 && terms[0].coefficient == 1 ? terms[0].reaction : nil
    }

    /// The measured expression in FluxML textual form, e.g. `upt` or `v1+2*v2`.
    public var expression: String {
        var s = ""
        for (i, t) in terms.enumerated() {
            let sign = t.coefficient < 0 ? "-" : (i == 0 ? "" : "+")
            let mag = Swift.abs(t.coefficient)
            let num = mag == mag.rounded() && mag < 1e15 ? String(Int64(mag)) : "\(mag)"
            s += sign + (mag == 1 ? "" : "\(num)*") + t.reaction
        }
        return s
    }

    /// `true` when both measure the same quantity (kind and terms), whatever the id, value or lines.
    public func measuresSameFlux(as other: FluxMeasurement) -> Bool {
        kind == other.kind && terms == other.terms
    }

    public var description: String {
        "\(kind.rawValue) \(expression) = \(value) ± \(stddev)"
    }

    /// The terms as reaction indices of `network`.
    /// - Throws: `MeasurementSetError` for an unknown reaction, or an exchange flux of a
    ///   one-way reaction (its exchange is 0 by definition).
    public func indexedTerms(in network: MetabolicNetwork) throws -> [IndexedFluxTerm] {
        try terms.map { t in
            guard let j = network.reactionIndex[t.reaction] else {
                throw MeasurementSetError(line: line, message: "flux measurement '\(id)' names unknown reaction '\(t.reaction)'")
            }
            if kind == .exchange && !network.isBidirectional[j] {
                throw MeasurementSetError(line: line,
                    message: "flux measurement '\(id)' measures the exchange flux of '\(t.reaction)', a one-way reaction (its exchange is 0)")
            }
            return IndexedFluxTerm(reaction: j, coefficient: t.coefficient)
        }
    }
}

/// A term of a flux measurement with the reaction as an index into `MetabolicNetwork.reactions`.
public struct IndexedFluxTerm: Hashable, Sendable {
    public var reaction: Int
    public var coefficient: Double
    public init(reaction: Int, coefficient: Double) {
        self.reaction = reaction
        self.coefficient = coefficient
    }
}

/// A flux measurement resolved against a network: what a least-squares fit needs.
public struct FluxMeasurementRow: Hashable, Sendable {
    public var kind: FluxKind
    public var terms: [IndexedFluxTerm]
    /// Measured value (flux unit).
    public var value: Double
    /// Standard deviation (flux unit, > 0).
    public var stddev: Double
    /// The measurement it came from (id and lines for messages).
    public var measurement: FluxMeasurement

    public init(kind: FluxKind, terms: [IndexedFluxTerm], value: Double, stddev: Double, measurement: FluxMeasurement) {
        self.kind = kind
        self.terms = terms
        self.value = value
        self.stddev = stddev
        self.measurement = measurement
    }

    /// The simulated value Σ coefficient · v of `state` (net or exchange vector by `kind`).
    public func simulated(_ state: FluxState) -> Double {
        let v = kind == .net ? state.net : state.exchange
        return terms.reduce(0) { $0 + $1.coefficient * v[$1.reaction] }
    }

    /// Weighted residual (simulated − measured) / σ.
    public func residual(_ state: FluxState) -> Double { (simulated(state) - value) / stddev }
}

/// A measurement that does not fit the network or conflicts with another; `line` is the
/// line of the offending element when known. The FluxML reader turns it into a
/// `FluxMLError` naming the file.
public struct MeasurementSetError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int?
    public var message: String
    public init(line: Int?, message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}
