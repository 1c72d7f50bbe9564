import FluxSampling
import MLFluxCore

/// A measured flux that the network's constraints cannot come near, or that names something
/// the network lacks; one line naming the measurement and where it was given.
public struct FluxMeasurementError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String
    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }
    public var description: String { line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)" }
}

extension FluxSpaceSampler {
    /// `measurements` resolved against the network, each checked against the range the
    /// constraints allow for it: a value more than 3σ outside is an error (within 3σ it is
    /// noise, and the fit keeps the bound exactly). `scaled`: the values are in the lab's
    /// unit and the network's fluxes relative to a fixed reference, so only the sign of the
    /// allowed range counts (a flux the network keeps ≥ 0 cannot be measured at −5 ± 1).
    /// - Throws: `FluxMeasurementError` naming `file`, the line and the measurement.
    public func resolve(_ measurements: [FluxMeasurement], file: String, scaled: Bool) throws -> [FluxMeasurementRow] {
        try measurements.map { m in
            let terms: [IndexedFluxTerm]
            do { terms = try m.indexedTerms(in: network) } catch let e as MeasurementSetError {
                throw FluxMeasurementError(file: file, line: m.line, message: e.message)
            }
            var (lo, hi) = range(of: terms, kind: m.kind)
            if scaled {
                lo = lo < 0 ? -.infinity : 0
                hi = hi > 0 ? .infinity : 0
            }
            let tolerance = 3 * m.stddev
            if m.value < lo - tolerance || m.value > hi + tolerance {
                let what = m.kind == .net ? "net flux" : "exchange flux"
                let allowed = scaled
                    ? (lo == 0 && hi == 0 ? "the network fixes it to 0" : lo == 0 ? "the network keeps it ≥ 0" : "the network keeps it ≤ 0")
                    : "the constraints allow \(Self.format(lo))…\(Self.format(hi))"
                throw FluxMeasurementError(file: file, line: m.line,
                    message: "measured \(what) '\(m.id)' = \(m.value) ± \(m.stddev) lies more than 3σ outside its bounds: \(allowed)")
            }
            return FluxMeasurementRow(kind: m.kind, terms: terms, value: m.value, stddev: m.stddev, measurement: m)
        }
    }

    private static func format(_ x: Double) -> String {
        x.isInfinite ? (x < 0 ? "−∞" : "∞") : "\(x)"
    }
}

extension ModelBundle {
    /// `true` when the network fixes a net flux to a nonzero value (a reference such as
    /// `GLC_IN = 1`): its fluxes are relative, and measured rates set their unit by a scale —
    /// unless the manifest says `absoluteFluxes` (fixed drains already in the measured unit).
    public var fluxesAreRelative: Bool {
        manifest.absoluteFluxes != true && basis.fixed.contains { $0.key < basis.freeNet.count && $0.value != 0 }
    }

    /// Measured fluxes of `file` resolved and checked against this bundle's network; `scaled`
    /// when the network is relative (`fluxesAreRelative`), so results come in the measured unit.
    public func fluxMeasurementRows(_ measurements: [FluxMeasurement], file: String) throws -> (rows: [FluxMeasurementRow], scaled: Bool) {
        let sampler = try FluxSpaceSampler(network: network, basis: basis, settings: .automatic(for: basis))
        let scaled = fluxesAreRelative
        return (try sampler.resolve(measurements, file: file, scaled: scaled), scaled)
    }
}
