import ArgumentParser
import Foundation
import MLFluxCore
import Prediction

/// `--profile FLUX,FLUX…|all` of `mlflux predict` and `mlflux fit`: 95 % confidence intervals.
enum ProfileOption {
    static let help: ArgumentHelp = "95 % confidence intervals, linearised and profile likelihood, of these fluxes: REACTION.net or REACTION.xch, comma-separated, or 'all' (net fluxes and free exchange fluxes are profiled; other exchange fluxes get the linearised interval). mfa, hybrid."

    /// The fluxes named by `value` (`all`, or a comma-separated list), in the order given.
    static func parse(_ value: String, network: MetabolicNetwork) throws -> [ProfiledFlux] {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if trimmed == "all" { return ProfiledFlux.all(in: network) }
        var out: [ProfiledFlux] = []
        for raw in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard let f = ProfiledFlux(name, network: network) else {
                let id = name.hasSuffix(".net") || name.hasSuffix(".xch") ? String(name.dropLast(4)) : name
                if let r = network.reactionIndex[id], name.hasSuffix(".xch"), !network.isBidirectional[r] {
                    throw ValidationError("--profile: '\(name)': reaction '\(id)' is one-way and has no exchange flux; use \(id).net")
                }
                if network.reactionIndex[id] == nil {
                    throw ValidationError("--profile: '\(name)': no reaction '\(id)' in network '\(network.name)' (a flux is REACTION.net or REACTION.xch, or use 'all')")
                }
                throw ValidationError("--profile: '\(name)' is not REACTION.net or REACTION.xch (or 'all')")
            }
            if !out.contains(f) { out.append(f) }
        }
        return out
    }

    static func note(_ i: FluxInterval) -> String {
        if i.fixedByConstraints { return "fixed by constraints" }
        var notes: [String] = []
        if i.undetermined { notes.append("not determined by the data") }
        else if i.reachesLower { notes.append("reaches lower bound") }
        else if i.reachesUpper { notes.append("reaches upper bound") }
        if i.profile == nil { notes.append("linearised only (dependent exchange flux)") }
        if i.lowerMinimum != nil { notes.append(String(format: "lower minimum %.4g found: fit not global", i.lowerMinimum!)) }
        return notes.joined(separator: "; ")
    }

    static func range(_ r: ClosedRange<Double>?) -> String {
        guard let r else { return "" }
        return "[\(PredictionOutput.num(r.lowerBound)), \(PredictionOutput.num(r.upperBound))]"
    }

    /// The interval table: one row per flux, then one per ΔG.
    static func table(_ result: LeastSquaresMFA.ProfileResult, network: MetabolicNetwork, seconds: Double) -> String {
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

    struct IntervalJSON: Encodable {
        var value: Double
        var linearised: [Double]
        var profile: [Double]?
        var reachesLower: Bool
        var reachesUpper: Bool
        var undetermined: Bool
        var fixedByConstraints: Bool?
        var standardError: Double?
        var lowerMinimum: Double?
        var refits: Int?
    }

    /// Per flux (`v3.net`, `v2.xch`) and ΔG (`v2.dG`).
    static func json(_ result: LeastSquaresMFA.ProfileResult, network: MetabolicNetwork) -> [String: IntervalJSON] {
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
