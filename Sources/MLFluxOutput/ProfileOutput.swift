import Foundation
import MLFluxCore
import Prediction

/// `--profile FLUX,FLUX…|all` of `mlflux predict` and `mlflux fit`: 95 % confidence intervals
/// as a table and as JSON (the option's parsing is the command line's, `ProfileOption.parse`).
public enum ProfileOption {
    public static func note(_ i: FluxInterval) -> String {
        if i.fixedByConstraints { return "fixed by constraints" }
        var notes: [String] = []
        if i.undetermined { notes.append("not determined by the data") }
        else if i.reachesLower { notes.append("reaches lower bound") }
        else if i.reachesUpper { notes.append("reaches upper bound") }
        if i.profile == nil { notes.append("linearised only (dependent exchange flux)") }
        if i.lowerMinimum != nil { notes.append(String(format: "lower minimum %.4g found: fit not global", i.lowerMinimum!)) }
        return notes.joined(separator: "; ")
    }

    public static func range(_ r: ClosedRange<Double>?) -> String {
        guard let r else { return "" }
        return "[\(PredictionOutput.num(r.lowerBound)), \(PredictionOutput.num(r.upperBound))]"
    }

    /// The interval table: one row per flux, then one per ΔG.
    public static func table(_ result: LeastSquaresMFA.ProfileResult, network: MetabolicNetwork, seconds: Double) -> String {
        var rows = [["FLUX", "VALUE", "LINEARISED 95 %", "PROFILE 95 %", "NOTE"]]
        for i in result.fluxes {
            rows.append([i.name, PredictionOutput.num(i.value), i.linearisedUndetermined && !i.fixedByConstraints ? range(i.linearised) + " (undetermined)" : range(i.linearised),
                         range(i.profile), note(i)])
        }
        for g in result.deltaG {
            let notes = g.reachesLower && g.reachesUpper ? "not determined by the data"
                : g.reachesLower ? "lower end from an exchange bound" : g.reachesUpper ? "upper end from an exchange bound" : ""
            rows.append([network.reactions[g.reaction].id + ".dG", PredictionOutput.num(g.value), range(g.linearised), range(g.profile), notes])
        }
        let refits = result.fluxes.reduce(0) { $0 + $1.refits }
        return "\n95 % confidence intervals (profile: Δobjective ≤ \(String(format: "%.3f", LeastSquaresMFA.profileThreshold)); ΔG in kJ/mol from the net and exchange intervals):\n"
            + TextTable.render(rows, rightAligned: [1]) + "\n"
            + String(format: "%d fluxes profiled, %d constrained re-fits, %.2f s\n", result.fluxes.count, refits, seconds)
    }

    public struct IntervalJSON: Encodable, Sendable {
        public var value: Double
        public var linearised: [Double]
        public var profile: [Double]?
        public var reachesLower: Bool
        public var reachesUpper: Bool
        public var undetermined: Bool
        public var fixedByConstraints: Bool?
        public var standardError: Double?
        public var lowerMinimum: Double?
        public var refits: Int?
    }

    /// Per flux (`v3.net`, `v2.xch`) and ΔG (`v2.dG`).
    public static func json(_ result: LeastSquaresMFA.ProfileResult, network: MetabolicNetwork) -> [String: IntervalJSON] {
        var out: [String: IntervalJSON] = [:]
        for i in result.fluxes {
            out[i.name] = IntervalJSON(value: i.value, linearised: [i.linearised.lowerBound, i.linearised.upperBound],
                                       profile: i.profile.map { [$0.lowerBound, $0.upperBound] },
                                       reachesLower: i.reachesLower, reachesUpper: i.reachesUpper, undetermined: i.undetermined,
                                       fixedByConstraints: i.fixedByConstraints ? true : nil, standardError: i.standardError,
                                       lowerMinimum: i.lowerMinimum, refits: i.refits)
        }
        for g in result.deltaG {
            out[network.reactions[g.reaction].id + ".dG"] = IntervalJSON(
                value: g.value, linearised: [g.linearised.lowerBound, g.linearised.upperBound],
                profile: [g.profile.lowerBound, g.profile.upperBound], reachesLower: g.reachesLower, reachesUpper: g.reachesUpper,
                undetermined: g.reachesLower && g.reachesUpper)
        }
        return out
    }
}
