import Foundation
import ArgumentParser
import MLFluxCore
import MLFluxOutput
import Prediction

/// Parsing of `--profile` (its formatting is `MLFluxOutput.ProfileOption`).
extension ProfileOption {
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

}
