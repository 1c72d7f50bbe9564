/// All measurements of a fit problem: flux measurements (global) and labeling
/// measurements (per tracer experiment).
///
/// FluxML repeats flux measurements in each `configuration`; `add` merges a flux
/// measurement equal to one already present (same kind, terms, value and σ) and rejects
/// one that measures the same flux with another value or σ. Likewise a fragment measured
/// twice in one experiment is merged when identical and rejected otherwise.
public struct MeasurementSet: Hashable, Sendable {
    /// Flux measurements, in order of first appearance.
    public private(set) var fluxes: [FluxMeasurement] = []
    /// Labeling measurements, in order of appearance.
    public private(set) var labeling: [LabelingMeasurement] = []

    public init() {}

    /// - Throws: `MeasurementSetError` when the measurements conflict (see `add`).
    public init(fluxes: [FluxMeasurement], labeling: [LabelingMeasurement]) throws {
        for f in fluxes { try add(f) }
        for l in labeling { try add(l) }
    }

    public var isEmpty: Bool { fluxes.isEmpty && labeling.isEmpty }

    /// Adds `m` unless an identical measurement of the same flux is present.
    /// - Throws: `MeasurementSetError` at `m`'s line when the same flux is measured with another
    ///   value or standard deviation; the message names both lines.
    public mutating func add(_ m: FluxMeasurement) throws {
        if let old = fluxes.first(where: { $0.measuresSameFlux(as: m) }) {
            guard old.value == m.value && old.stddev == m.stddev else {
                throw MeasurementSetError(line: m.dataLine ?? m.line,
                    message: "flux measurement '\(m.id)' (\(m.kind.rawValue) \(m.expression) = \(m.value) ± \(m.stddev)) conflicts with '\(old.id)'\(Self.at(old.dataLine ?? old.line)) (\(old.value) ± \(old.stddev))")
            }
            return
        }
        fluxes.append(m)
    }

    /// Adds `m` unless an identical measurement of the same fragment in the same experiment is present.
    /// - Throws: `MeasurementSetError` at `m`'s line when the same fragment is measured differently.
    public mutating func add(_ m: LabelingMeasurement) throws {
        if let old = labeling.first(where: { $0.measuresSameFragment(as: m) }) {
            guard old.isotopologues == m.isotopologues, old.values == m.values, old.stddevs == m.stddevs,
                  old.scale == m.scale else {
                throw MeasurementSetError(line: m.line,
                    message: "labeling measurement '\(m.id)' measures \(m.spec()) in experiment '\(m.experiment)' again, differently from '\(old.id)'\(Self.at(old.line))")
            }
            return
        }
        labeling.append(m)
    }

    private static func at(_ line: Int?) -> String { line.map { " on line \($0)" } ?? "" }

    /// Experiments with labeling measurements, in order of first appearance.
    public var experimentIDs: [String] {
        var seen = Set<String>(), out: [String] = []
        for m in labeling where seen.insert(m.experiment).inserted { out.append(m.experiment) }
        return out
    }

    /// Distinct measured fragments (by name), in order of first appearance.
    public var fragments: [MeasuredFragment] {
        var seen = Set<String>(), out: [MeasuredFragment] = []
        for m in labeling where seen.insert(m.fragment.name).inserted { out.append(m.fragment) }
        return out
    }

    /// Labeling measurements of one experiment.
    public func labeling(experiment id: String) -> [LabelingMeasurement] { labeling.filter { $0.experiment == id } }

    /// A layout holding every labeling measurement: `experimentIDs` (default: those with
    /// measurements) × the measured fragments, each with its full MID length.
    public func layout(experimentIDs ids: [String]? = nil) -> LabelingLayout {
        LabelingLayout(experimentIDs: ids ?? experimentIDs,
                       fragments: fragments.map { ($0.name, $0.atoms.count + 1) })
    }

    /// The labeling measurements placed in `layout`: measured entries get their value and
    /// σ with `mask` true; everything else is NaN with `mask` false. A partial MID stays
    /// partial (a note names each one). Measurements of experiments not in the layout are
    /// left out.
    /// - Throws: `MeasurementSetError` when a measured fragment is not in the layout or its MID
    ///   length differs there.
    public func measuredLabeling(in layout: LabelingLayout) throws -> MeasuredLabeling {
        var values = [Double](repeating: .nan, count: layout.count)
        var sd = values
        var mask = [Bool](repeating: false, count: layout.count)
        var notes: [String] = []
        for m in labeling {
            guard let e = layout.experimentIndex(m.experiment) else { continue }
            guard let f = layout.fragmentIndex(m.fragment.name) else {
                throw MeasurementSetError(line: m.line,
                    message: "measured fragment '\(m.fragment.name)' (\(m.spec())) is not in the layout; it has \(layout.fragmentNames.joined(separator: ", "))")
            }
            guard layout.isotopologues[f] == m.midLength else {
                throw MeasurementSetError(line: m.line,
                    message: "fragment '\(m.fragment.name)' has \(m.midLength) isotopologues, the layout \(layout.isotopologues[f])")
            }
            for (i, k) in m.isotopologues.enumerated() {
                let idx = layout.index(experiment: e, fragment: f, isotopologue: k)!
                values[idx] = m.values[i]
                sd[idx] = m.stddevs[i]
                mask[idx] = true
            }
            if m.isPartial {
                notes.append("\(m.experiment) \(m.fragment.name): only M+\(m.isotopologues.map(String.init).joined(separator: ",")) measured (scale=\(m.scale.rawValue))")
            }
        }
        var out = MeasuredLabeling(layout: layout, values: values, stddev: sd, mask: mask)
        out.notes = notes
        return out
    }

    /// The flux measurements resolved against `network`'s reactions.
    /// - Throws: `MeasurementSetError` for an unknown reaction or an exchange flux of a one-way reaction.
    public func fluxRows(in network: MetabolicNetwork) throws -> [FluxMeasurementRow] {
        try fluxes.map { m in
            FluxMeasurementRow(kind: m.kind, terms: try m.indexedTerms(in: network), value: m.value,
                               stddev: m.stddev, measurement: m)
        }
    }
}
