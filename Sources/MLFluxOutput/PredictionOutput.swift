import Foundation
import MLFluxCore
import Prediction

/// Formats of `mlflux predict`.
public enum PredictionOutput {
    public static func num(_ x: Double) -> String {
        if x.isNaN { return "" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        return String(format: "%.6g", x)
    }

    public static func table(_ p: FluxPrediction, fit: FitReport, network: MetabolicNetwork) -> String {
        var rows = [["REACTION", "NET", "±SE", "XCH", "±SE", "ΔG kJ/mol", "±SE"]]
        for (r, reaction) in network.reactions.enumerated() {
            let bi = network.isBidirectional[r]
            rows.append([reaction.id, num(p.net[r]), num(p.netSE[r]),
                         bi ? num(p.exchange[r]) : "", bi ? num(p.exchangeSE[r]) : "",
                         bi ? num(p.deltaG[r]) : "", bi ? num(p.deltaGSE[r]) : ""])
        }
        var out = TextTable.render(rows, rightAligned: Set(1..<7)) + "\n"
        out += String(format: "\nfit: SSR %.3e over %d MIDs", fit.ssr, fit.residuals.count)
        if let v = fit.vssr { out += String(format: ", VSSR %.3g over %d entries with stddev", v, fit.weightedEntries) }
        if let c = fit.chiSquared {
            out += String(format: "\nχ² test: VSSR %.4g, %d measurements − %d identifiable free fluxes = %d degrees of freedom, 95 %% range [%.4g, %.4g]: %@",
                          c.vssr, c.measurements, c.identifiable, c.degreesOfFreedom, c.lower, c.upper,
                          c.passes ? "pass" : c.vssr > c.upper ? "FAIL (above: a poor fit, or σ too small)" : "below the range (the data scatter less than σ: exact data, or σ too large)")
            if let n = c.censoredEntries {
                out += "\n  (\(n) MID entries at 0 fitted as left-censored: the VSSR is the deviance, its range that of the censored model)"
            }
        }
        if let s = fit.scale {
            out += "\nunit: the measured fluxes' (scale \(num(s.value)) ± \(num(s.se)) per unit of the network's reference flux)"
        }
        if !fit.dilution.isEmpty {
            out += "\ndiluted pools (share f made by the network ± SE; 1 − f unlabeled): "
                + fit.dilution.map { "\($0.pool) \(num($0.value)) ± \(num($0.se))" }.joined(separator: "; ")
        }
        if !fit.fluxResiduals.isEmpty {
            out += "\nmeasured fluxes (measured ± σ → predicted): " + fit.fluxResiduals.map {
                "\($0.id) \(num($0.measured)) ± \(num($0.stddev)) → \(num($0.predicted))"
            }.joined(separator: "; ")
        }
        if let starts = fit.starts {
            let upper = fit.chiSquared?.upper ?? .infinity
            let ok = starts.filter { $0.vssr.isFinite && $0.vssr <= upper }.count
            out += "\nstarts: \(starts.count), \(ok) not above the χ² range; best VSSR per start: "
                + starts.map { String(format: "%.3g", $0.vssr) }.joined(separator: " ")
        }
        out += "\nlargest residuals (experiment, metabolite, √Σr²):\n"
        for r in fit.residuals.sorted(by: { $0.norm > $1.norm }).prefix(5) {
            out += "  \(r.experiment)  \(r.metabolite)  \(String(format: "%.2e", r.norm))\n"
        }
        return out
    }

    public static func csv(_ p: FluxPrediction, network: MetabolicNetwork) -> String {
        var out = "quantity,reaction,value,stderr\n"
        for (r, reaction) in network.reactions.enumerated() {
            out += "net,\(reaction.id),\(num(p.net[r])),\(num(p.netSE[r]))\n"
            if network.isBidirectional[r] {
                out += "xch,\(reaction.id),\(num(p.exchange[r])),\(num(p.exchangeSE[r]))\n"
                out += "dG,\(reaction.id),\(num(p.deltaG[r])),\(num(p.deltaGSE[r]))\n"
            }
        }
        return out
    }

    /// What produced a prediction: the MLFlux version and the bundle (its folder and SHA-256
    /// fingerprint, `ModelBundle.fingerprint()`), so a result can be traced to exact weights.
    public struct Provenance: Encodable, Sendable {
        public var version: String
        public var bundle: String
        public var bundleSHA256: String
        public init(version: String, bundle: String, bundleSHA256: String) {
            self.version = version
            self.bundle = bundle
            self.bundleSHA256 = bundleSHA256
        }
    }

    /// One flux of the JSON output; exchange and ΔG only for bidirectional reactions.
    public struct FluxJSON: Encodable, Sendable {
        public var net: Double; public var netSE: Double
        public var xch: Double?; public var xchSE: Double?
        public var deltaG: Double?; public var deltaGSE: Double?
    }

    /// A free flux's central 68 % and 95 % intervals from its calibrated error shape
    /// (`FluxPrediction.shapedInterval`; in general asymmetric about the prediction).
    public struct FreeIntervalJSON: Encodable, Sendable {
        public var lower68: Double; public var upper68: Double
        public var lower95: Double; public var upper95: Double
    }

    /// The JSON object of one prediction (`mlflux predict --format json`, one sample).
    public struct Document: Encodable, Sendable {
        public var model: String; public var predictor: String; public var temperature: Double
        public var fluxes: [String: FluxJSON]; public var fit: FitReport
        public var intervals: [String: ProfileOption.IntervalJSON]?
        public var version: String?; public var bundle: String?; public var bundleSHA256: String?
        public var freeFluxes: [String]?; public var freeCovariance: [[Double]]?
        /// Per free flux with a calibrated error shape (ANN bundles fitted by `train calibrate`).
        public var freeIntervals: [String: FreeIntervalJSON]?
    }

    public static func document(_ p: FluxPrediction, fit: FitReport, network: MetabolicNetwork, model: String, predictor: String,
                                freeNames: [String] = [], provenance: Provenance? = nil,
                                intervals: [String: ProfileOption.IntervalJSON]? = nil, basis: FreeFluxBasis? = nil) -> Document {
        var fluxes: [String: FluxJSON] = [:]
        for (r, reaction) in network.reactions.enumerated() {
            let bi = network.isBidirectional[r]
            fluxes[reaction.id] = FluxJSON(net: p.net[r], netSE: p.netSE[r], xch: bi ? p.exchange[r] : nil,
                                           xchSE: bi ? p.exchangeSE[r] : nil, deltaG: bi ? p.deltaG[r] : nil,
                                           deltaGSE: bi ? p.deltaGSE[r] : nil)
        }
        let n = p.free.count
        var shaped: [String: FreeIntervalJSON] = [:]
        if let basis {
            for k in basis.names.indices {
                guard let a = p.shapedInterval(free: k, level: 0.68, basis: basis),
                      let b = p.shapedInterval(free: k, level: 0.95, basis: basis) else { continue }
                shaped[basis.names[k]] = FreeIntervalJSON(lower68: a.lower, upper68: a.upper, lower95: b.lower, upper95: b.upper)
            }
        }
        return Document(model: model, predictor: predictor, temperature: p.temperature,
                        fluxes: fluxes, fit: fit, intervals: intervals,
                        version: provenance?.version, bundle: provenance?.bundle, bundleSHA256: provenance?.bundleSHA256,
                        freeFluxes: p.freeCovariance == nil ? nil : freeNames,
                        freeCovariance: p.freeCovariance.map { c in (0..<n).map { i in Array(c[(i * n)..<((i + 1) * n)]) } },
                        freeIntervals: shaped.isEmpty ? nil : shaped)
    }

    public static func json(_ p: FluxPrediction, fit: FitReport, network: MetabolicNetwork, model: String, predictor: String,
                            freeNames: [String] = [], provenance: Provenance? = nil, intervals: [String: ProfileOption.IntervalJSON]? = nil,
                            basis: FreeFluxBasis? = nil) throws -> String {
        try JSONOutput.string(document(p, fit: fit, network: network, model: model, predictor: predictor, freeNames: freeNames,
                                       provenance: provenance, intervals: intervals, basis: basis)) + "\n"
    }
}
