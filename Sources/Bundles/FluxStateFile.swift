import Foundation
import MLFluxCore
import SafeIO

/// Reads and writes flux states as JSON:
/// `{"REACTION": {"net": 1.0, "xch": 0.5}, …}`.
///
/// A reaction left out has net 0 and exchange 0; `"xch"` may be left out (0) and
/// must be left out or 0 for one-way reactions (uptakes, effluxes).
public enum FluxStateFile {
    /// Reads a flux state for `network`.
    /// - Throws: `FluxFileError` naming `path` and, where it applies, the reaction.
    public static func read(contentsOf path: String, network: MetabolicNetwork) throws -> FluxState {
        let data: Data
        do {
            data = try InputFile.read(path, limit: 16 << 20, what: "flux state file")
        } catch let e as InputFileError {
            throw FluxFileError(file: path, reason: e.reason)
        }
        return try decode(data, path: path, network: network)
    }

    /// Decodes flux JSON; `path` is used in error messages only.
    public static func decode(_ data: Data, path: String, network: MetabolicNetwork) throws -> FluxState {
        let entries: [String: Entry]
        do {
            entries = try JSONDecoder().decode([String: Entry].self, from: data)
        } catch let error as DecodingError {
            throw translate(error, path: path)
        }
        var values: [String: (net: Double, xch: Double?)] = [:]
        for (reaction, entry) in entries.sorted(by: { $0.key < $1.key }) {
            guard let j = network.reactionIndex[reaction] else {
                throw FluxFileError(file: path, reaction: reaction,
                                    reason: "not a reaction of network '\(network.name)'")
            }
            if let x = entry.xch, x != 0, !network.isBidirectional[j] {
                throw FluxFileError(file: path, reaction: reaction,
                                    reason: "is one-way (uptake, efflux or declared irreversible) and has no exchange flux; remove 'xch'")
            }
            values[reaction] = (entry.net, entry.xch)
        }
        do {
            return try FluxState(network: network, values: values)
        } catch let e as FluxStateError {
            switch e {
            case .unknownReaction(let r), .notFinite(let r, _), .negativeExchange(let r, _),
                 .exchangeOnOneWay(let r), .negativeOneWay(let r, _):
                throw FluxFileError(file: path, reaction: r, reason: Self.strip(e.description, reaction: r))
            }
        }
    }

    /// One reaction's entry: `{"net": x, "xch": y}`; other keys are rejected.
    struct Entry: Decodable {
        var net: Double
        var xch: Double?

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for key in c.allKeys where key.stringValue != "net" && key.stringValue != "xch" {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: "unknown field '\(key.stringValue)' (known: net, xch)")
            }
            net = try c.decode(Double.self, forKey: Key(stringValue: "net"))
            xch = try c.decodeIfPresent(Double.self, forKey: Key(stringValue: "xch"))
        }
    }

    private static func translate(_ error: DecodingError, path: String) -> FluxFileError {
        func parts(_ codingPath: [any CodingKey]) -> (reaction: String?, field: String?) {
            (codingPath.first?.stringValue, codingPath.count > 1 ? codingPath[1].stringValue : nil)
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            return FluxFileError(file: path, reaction: parts(ctx.codingPath).reaction,
                                 reason: "field '\(key.stringValue)' is missing")
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            let (reaction, field) = parts(ctx.codingPath)
            guard let reaction else {
                return FluxFileError(file: path, reason: "the top level must be an object {\"REACTION\": {\"net\": x, \"xch\": y}}")
            }
            guard let field else {
                return FluxFileError(file: path, reaction: reaction, reason: "must be an object {\"net\": x, \"xch\": y}")
            }
            return FluxFileError(file: path, reaction: reaction, reason: "field '\(field)' must be a number")
        case .dataCorrupted(let ctx):
            if let reaction = parts(ctx.codingPath).reaction {
                return FluxFileError(file: path, reaction: reaction, reason: ctx.debugDescription)
            }
            return FluxFileError(file: path, reason: "not valid JSON")
        @unknown default:
            return FluxFileError(file: path, reason: "\(error)")
        }
    }

    /// JSON text of a state, reactions in network order; one-way reactions get no `"xch"`.
    public static func encode(_ state: FluxState, network: MetabolicNetwork) -> String {
        var lines: [String] = []
        for (j, r) in network.reactions.enumerated() {
            let key = jsonString(r.id)
            if network.isBidirectional[j] {
                lines.append("  \(key): {\"net\": \(state.net[j]), \"xch\": \(state.exchange[j])}")
            } else {
                lines.append("  \(key): {\"net\": \(state.net[j])}")
            }
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }

    private static func strip(_ message: String, reaction: String) -> String {
        for prefix in ["reaction '\(reaction)': ", "reaction '\(reaction)' "] where message.hasPrefix(prefix) {
            return String(message.dropFirst(prefix.count))
        }
        return message
    }
}

/// A JSON string literal for `s` (quotes and control characters escaped).
public func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}
