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
    }

    public var entries: [Entry]

    public init(_ bundle: ModelBundle) {
        entries = StrategyRegistry.table.map { s in
            let present = s.fileKey.map { key in (try? bundle.file(key)).map { FileManager.default.fileExists(atPath: $0) } ?? false }
            return Entry(name: s.name, kind: s.kind.rawValue, file: s.fileKey, trained: present ?? true)
        }
    }

    /// Names of the strategies of `kind` that are (`trained == true`) or are not ready.
    public func names(_ kind: StrategyKind, trained: Bool) -> [String] {
        entries.filter { $0.kind == kind.rawValue && $0.trained == trained }.map(\.name)
    }
}
