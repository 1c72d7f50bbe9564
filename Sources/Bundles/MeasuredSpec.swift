import MLFluxCore
import SafeIO

/// Parses the `measured` strings of a manifest into `MeasuredFragment`s.
///
/// Grammar: `POOL` (whole molecule) or `POOL[LIST]`, where `LIST` is a comma
/// separated list of 1-based atom positions or ranges (`1,2,3`, `1-3`, `1-2,5`),
/// counted over the pool's atoms (carbons, then hydrogens).
/// A fragment with every atom of its pool is named after the pool (`"Glu"`);
/// any other is named `POOL_1:2:3`.
public enum MeasuredSpec {
    /// The reason a spec is rejected, without the manifest context.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// - Throws: `ParseError` for bad syntax, an unknown pool, or atoms outside the pool.
    public static func parse(_ spec: String, in network: MetabolicNetwork) throws -> MeasuredFragment {
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        var poolID = trimmed
        var atoms: [Int]? = nil
        if let open = trimmed.firstIndex(of: "[") {
            guard trimmed.hasSuffix("]") else { throw ParseError(reason: "'\(Excerpt.quote(spec))' lacks a closing ']'") }
            poolID = String(trimmed[..<open])
            let inner = trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]
            atoms = try parseList(String(inner), spec: spec)
        }
        guard !poolID.isEmpty else { throw ParseError(reason: "'\(Excerpt.quote(spec))' names no metabolite") }
        guard let pool = network.pool(poolID) else {
            throw ParseError(reason: "unknown metabolite '\(Excerpt.quote(poolID))' in network '\(network.name)'")
        }
        guard let given = atoms else { return .whole(pool) }
        if let a = given.first(where: { $0 < 1 || $0 > pool.atomCount }) {
            throw ParseError(reason: "'\(Excerpt.quote(spec))': atom \(a) is outside 1...\(pool.atomCount) of '\(poolID)'")
        }
        let zeroBased = Array(Set(given.map { $0 - 1 })).sorted()
        guard zeroBased.count == given.count else { throw ParseError(reason: "'\(Excerpt.quote(spec))' lists an atom twice") }
        if zeroBased == Array(0..<pool.atomCount) { return .whole(pool) }
        let name = poolID + "_" + zeroBased.map { String($0 + 1) }.joined(separator: ":")
        return MeasuredFragment(name: name, pool: poolID, atoms: zeroBased)
    }

    /// Highest atom number any pool can have (FluxML pools trace at most 64 atoms).
    static let maxAtom = 64

    private static func parseList(_ list: String, spec: String) throws -> [Int] {
        var out: [Int] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            let p = part.trimmingCharacters(in: .whitespaces)
            let ends = p.split(separator: "-", omittingEmptySubsequences: false)
            if ends.count == 1, let a = Int(ends[0]) {
                out.append(a)
            } else if ends.count == 2, let a = Int(ends[0]), let b = Int(ends[1]), a <= b {
                // A pool has at most 64 traced atoms: a range reaching past that is refused
                // before it is expanded (`1-99999999999999` would take all memory).
                guard a >= 1, b <= maxAtom else {
                    throw ParseError(reason: "'\(Excerpt.quote(spec))': range \(a)-\(b) reaches outside atoms 1…\(maxAtom)")
                }
                out.append(contentsOf: a...b)
            } else {
                throw ParseError(reason: "'\(Excerpt.quote(spec))': '\(Excerpt.quote(p, limit: 20))' is not an atom number or range like 1-3")
            }
        }
        guard !out.isEmpty else { throw ParseError(reason: "'\(Excerpt.quote(spec))' lists no atoms") }
        return out
    }

    /// The manifest string of a fragment (inverse of `parse` up to formatting).
    public static func format(_ fragment: MeasuredFragment, in network: MetabolicNetwork) -> String {
        if let pool = network.pool(fragment.pool), fragment.atoms == Array(0..<pool.atomCount) {
            return fragment.pool
        }
        return fragment.description
    }
}
