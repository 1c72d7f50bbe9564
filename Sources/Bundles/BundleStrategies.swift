import Foundation

/// Which strategies of the table (`StrategyRegistry.table`) a bundle can run now: those that
/// need no file, and those whose file its manifest names and the folder holds ("trained").
public struct BundleStrategies: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        /// The manifest `files` key it needs (`nil`: none).
        public var file: String?
        /// Its file is present (always `true` for a strategy that needs none).
        public var trained: Bool
        /// Why it cannot take this bundle whether trained or not (e.g. diluted pools), or nil.
        public var refused: String? = nil
    }

    public var entries: [Entry]

    public init(_ bundle: ModelBundle) {
        entries = StrategyRegistry.table.map { s in
            let present = s.fileKey.map { key in (try? bundle.file(key)).map { FileManager.default.fileExists(atPath: $0) } ?? false }
            let refused = bundle.dilution.isEmpty || s.fitsDilution ? nil : "diluted pools (labeling-only mixing)"
            return Entry(name: s.name, kind: s.kind.rawValue, file: s.fileKey, trained: present ?? true, refused: refused)
        }
    }

    /// Names of the strategies of `kind` that are (`trained == true`) or are not ready, leaving
    /// out those the bundle refuses.
    public func names(_ kind: StrategyKind, trained: Bool) -> [String] {
        entries.filter { $0.kind == kind.rawValue && $0.trained == trained && $0.refused == nil }.map(\.name)
    }

    /// Names of the strategies the bundle refuses, whether trained or not.
    public var refusedNames: [String] { entries.filter { $0.refused != nil }.map(\.name) }
}
