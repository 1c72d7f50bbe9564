import MLFluxCore

/// Reaction data for Escher (escher.github.io): labs that draw their own pathway maps load it
/// with "Data → Load reaction data", which reads a JSON object from reaction id to one number:
///
/// ```json
/// {"v1": 1.0, "v2": 0.6, "v3": 0.2}
/// ```
///
/// The numbers are the net fluxes of a prediction (network units, forward = substrates to
/// products, negative when the reaction runs backwards), one per reaction in network order.
/// Escher matches the keys against the `bigg_id` of the map's reactions, so a map drawn for
/// this network's reaction ids colours directly; other ids show as unmatched.
public enum EscherReactionData {
    /// The JSON text (one reaction per line, network order).
    public static func json(network: MetabolicNetwork, net: [Double]) -> String {
        precondition(net.count == network.reactions.count, "fluxes and network differ")
        let lines = zip(network.reactions, net).map { r, v in
            "  \(jsonString(r.id)): \(v.isFinite ? "\(v)" : "null")"
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }
}
