import Foundation
import MLFluxCore
import Prediction
import SafeIO

/// A bundle's map file (`files.map`) that cannot be used: one line naming the file and the field.
public struct MapFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// `pools.ID`, `reactions.ID`, or nil for the whole file.
    public var field: String?
    public var reason: String
    public init(file: String, field: String? = nil, reason: String) {
        self.file = file
        self.field = field
        self.reason = reason
    }
    public var description: String {
        "\(file): \(field.map { "field '\(Excerpt.quote($0))': " } ?? "")\(reason)"
    }
}

extension ModelBundle {
    /// The `files` key of a bundle's map coordinates.
    public static let mapFileKey = "map"

    /// The coordinates of the bundle's map file, or nil when the manifest names none.
    ///
    /// The file (`"files": {"map": "map.json"}`) reads
    /// `{"pools": {"POOL": [x, y], …}, "reactions": {"REACTION": [x, y], …}}` in SVG user units
    /// (x right, y down); `reactions` (centres of the junctions of reactions with several
    /// substrates or products) is optional, and pools or junctions left out are placed
    /// automatically around the given ones.
    /// - Throws: `BundleError` when the file is outside the bundle or missing; `MapFileError`
    ///   naming the file and the field for anything else (an unknown pool or reaction, a value
    ///   that is not two finite numbers, an unknown key).
    public func mapCoordinates() throws -> FluxMapCoordinates? {
        guard manifest.files?[Self.mapFileKey] != nil else { return nil }
        let path = try file(Self.mapFileKey)
        let data: Data
        do { data = try InputFile.read(path, limit: 16 << 20, what: "map file") }
        catch let e as InputFileError { throw MapFileError(file: path, reason: e.reason) }
        let top: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw MapFileError(file: path, reason: "the top level must be an object {\"pools\": {\"POOL\": [x, y]}}")
            }
            top = object
        } catch let e as MapFileError { throw e } catch {
            throw MapFileError(file: path, reason: "not valid JSON")
        }
        for key in top.keys.sorted() where key != "pools" && key != "reactions" {
            throw MapFileError(file: path, field: key, reason: "unknown field (known: pools, reactions)")
        }
        func points(_ key: String, known: [String: Int], what: String) throws -> [String: MapPoint] {
            guard let raw = top[key] else { return [:] }
            guard let entries = raw as? [String: Any] else {
                throw MapFileError(file: path, field: key, reason: "must be an object {\"ID\": [x, y], …}")
            }
            var out: [String: MapPoint] = [:]
            for (id, value) in entries.sorted(by: { $0.key < $1.key }) {
                guard known[id] != nil else {
                    throw MapFileError(file: path, field: "\(key).\(id)", reason: "unknown \(what) '\(Excerpt.quote(id))' of network '\(network.name)'")
                }
                guard let pair = value as? [Any], pair.count == 2,
                      let x = Self.number(pair[0]), let y = Self.number(pair[1]), x.isFinite, y.isFinite,
                      abs(x) < 1e7, abs(y) < 1e7 else {
                    throw MapFileError(file: path, field: "\(key).\(id)", reason: "must be [x, y], two finite numbers (SVG units, |value| < 1e7)")
                }
                out[id] = MapPoint(x: x, y: y)
            }
            return out
        }
        return FluxMapCoordinates(pools: try points("pools", known: network.poolIndex, what: "pool"),
                                  reactions: try points("reactions", known: network.reactionIndex, what: "reaction"))
    }

    /// The layout of the bundle's flux map: around its map file's coordinates when it has one,
    /// otherwise automatic.
    /// - Throws: as `mapCoordinates()`.
    public func fluxMapLayout() throws -> FluxMapLayout {
        FluxMapLayout(network: network, pinned: try mapCoordinates())
    }

    private static func number(_ value: Any) -> Double? {
        // JSON true/false decode as Bool (Linux) or a boolean NSNumber (Darwin): not coordinates.
        guard let n = value as? NSNumber, !String(describing: type(of: value)).contains("Bool") else { return nil }
        return n.doubleValue
    }
}
