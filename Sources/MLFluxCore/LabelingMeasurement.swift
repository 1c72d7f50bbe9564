/// A measured mass isotopomer distribution (MS group) of one fragment in one tracer
/// experiment: FluxML `labelingmeasurement/group` with a textual spec such as
/// `Ala[1-3]#M0,1,2,3` and its `data/datum` elements (`weight` = isotopologue index).
///
/// Conventions:
/// - `fragment.atoms` are 0-based positions in the pool, carbons then hydrogens (FluxML
///   `[1-3]` is 1-based). The MID of the fragment has `atoms.count + 1` entries; entry `k`
///   is the fraction with `k` heavy atoms (13C and 2H alike).
/// - `isotopologues` lists the measured entries, ascending, each in `0...atoms.count`;
///   `values[i]` and `stddevs[i]` belong to `isotopologues[i]`. A group may measure only
///   part of the MID (`#M0,1`): it stays partial, nothing is filled in.
/// - Values are fractions (dimensionless); `stddevs` are finite and > 0.
public struct LabelingMeasurement: Hashable, Sendable, CustomStringConvertible {
    /// How measured values relate to the simulated MID (FluxML `scale`, default `auto`).
    public enum Scale: String, Hashable, Sendable, CaseIterable {
        /// 13CFLUX fits a group scale factor: the values are proportional to the MID
        /// entries. MLFlux simulates MIDs normalised to sum 1, so a complete `auto` group of
        /// normalised fractions compares directly; a partial one only up to that factor.
        case auto
        /// The values are the MID fractions themselves (no scale factor).
        case one
    }

    /// Measurement id (FluxML group id, e.g. `"ms_Ala"`).
    public var id: String
    /// Tracer experiment (FluxML configuration name).
    public var experiment: String
    /// The measured fragment (pool and 0-based atoms).
    public var fragment: MeasuredFragment
    /// Measured isotopologue indices, ascending (M+k ↦ k).
    public var isotopologues: [Int]
    /// Measured fractions, one per `isotopologues` entry.
    public var values: [Double]
    /// Standard deviations, one per `isotopologues` entry.
    public var stddevs: [Double]
    public var scale: Scale
    /// Line of the group in the source file, when read from one.
    public var line: Int?

    public init(id: String, experiment: String, fragment: MeasuredFragment, isotopologues: [Int],
                values: [Double], stddevs: [Double], scale: Scale = .auto, line: Int? = nil) {
        precondition(isotopologues.count == values.count && values.count == stddevs.count,
                     "one value and one stddev per isotopologue")
        self.id = id
        self.experiment = experiment
        self.fragment = fragment
        self.isotopologues = isotopologues
        self.values = values
        self.stddevs = stddevs
        self.scale = scale
        self.line = line
    }

    /// Entries of the fragment's full MID: `atoms.count + 1`.
    public var midLength: Int { fragment.atoms.count + 1 }

    /// `true` when only part of the MID is measured.
    public var isPartial: Bool { isotopologues.count < midLength }

    /// The FluxML spec, e.g. `Ala[1-3]#M0,1,2,3` (`Ala#M…` for the whole pool when `poolAtoms` is given).
    public func spec(poolAtoms: Int? = nil) -> String {
        var s = fragment.pool
        if poolAtoms != fragment.atoms.count || fragment.atoms != Array(0..<fragment.atoms.count) {
            s += "[" + Self.ranges(fragment.atoms.map { $0 + 1 }) + "]"
        }
        return s + "#M" + isotopologues.map(String.init).joined(separator: ",")
    }

    public var description: String { "\(experiment): \(spec())" }

    /// `1,2,3,5` → `1-3,5`.
    static func ranges(_ xs: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < xs.count {
            var j = i
            while j + 1 < xs.count && xs[j + 1] == xs[j] + 1 { j += 1 }
            parts.append(j == i ? "\(xs[i])" : "\(xs[i])-\(xs[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// `true` when both measure the same fragment in the same experiment (same pool and atoms).
    public func measuresSameFragment(as other: LabelingMeasurement) -> Bool {
        experiment == other.experiment && fragment.pool == other.fragment.pool && fragment.atoms == other.fragment.atoms
    }
}

extension MeasuredFragment {
    /// The fragment of `pool` keeping `atoms` (0-based), named like manifest specs: the pool
    /// id for the whole molecule, otherwise `POOL_1:2:3` (1-based atoms).
    public static func fragment(of pool: Pool, atoms: [Int]) -> MeasuredFragment {
        let sorted = Array(Set(atoms)).sorted()
        if sorted == Array(0..<pool.atomCount) { return .whole(pool) }
        return MeasuredFragment(name: pool.id + "_" + sorted.map { String($0 + 1) }.joined(separator: ":"),
                                pool: pool.id, atoms: sorted)
    }
}
