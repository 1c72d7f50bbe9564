/// The one definition of which (experiment, fragment, isotopologue) entries make up a
/// labeling vector, and how they sit in the 2-D matrix that imputers work on.
///
/// **Flat vector** (the input of predictors, one `mids.npy` row): experiment-major, then
/// fragment, then isotopologue, no padding — exactly the order of
/// `SimulatedLabeling.values`. Entry `(e, f, k)` is at `e · blockSize + offsets[f] + k`.
///
/// **Matrix** (imputers): `rows = experiments · fragments` rows, row `e · fragments + f`
/// holding the MID of fragment `f` in experiment `e`; `columns` = the longest MID
/// (`max isotopologues`). Cells past a fragment's MID do not exist: `mask` is `false`
/// there and `index(row:column:)` returns `nil`.
///
/// ```
/// let layout = LabelingLayout(experimentIDs: ["A_100", "A_010"],
///                             fragments: [("molB", 4), ("molE", 2)])
/// layout.count          // 12 = 2 · (4 + 2)
/// layout.index(experiment: 1, fragment: 1, isotopologue: 0)   // 10
/// layout.cell(of: 10)   // (row: 3, column: 0)
/// ```
///
/// - Complexity: lookups are O(1); `init` is O(fragments).
public struct LabelingLayout: Codable, Sendable, Equatable, Hashable {
    /// Tracer experiment ids, in order.
    public let experimentIDs: [String]
    /// Fragment names, in order (`MeasuredFragment.name`).
    public let fragmentNames: [String]
    /// MID length (atoms + 1) of each fragment.
    public let isotopologues: [Int]

    /// Start of each fragment's MID within one experiment block.
    public var offsets: [Int] { Self.offsets(isotopologues) }
    /// Entries per experiment: Σ isotopologues.
    public var blockSize: Int { isotopologues.reduce(0, +) }
    /// Length of the flat vector: experiments · blockSize.
    public var count: Int { experimentIDs.count * blockSize }
    /// Matrix rows: experiments · fragments.
    public var rows: Int { experimentIDs.count * fragmentNames.count }
    /// Matrix columns: the longest MID.
    public var columns: Int { isotopologues.max() ?? 0 }

    /// - Parameter fragments: name and MID length (atoms + 1, at least 1) of each fragment.
    public init(experimentIDs: [String], fragments: [(name: String, isotopologues: Int)]) {
        precondition(fragments.allSatisfy { $0.isotopologues >= 1 }, "a MID has at least one isotopologue")
        self.experimentIDs = experimentIDs
        self.fragmentNames = fragments.map(\.name)
        self.isotopologues = fragments.map(\.isotopologues)
    }

    /// The layout of `measured` fragments (MID length `atoms.count + 1`) in `experimentIDs`.
    public init(experimentIDs: [String], measured: [MeasuredFragment]) {
        self.init(experimentIDs: experimentIDs, fragments: measured.map { ($0.name, $0.atoms.count + 1) })
    }

    private enum CodingKeys: String, CodingKey { case experimentIDs = "experiments", fragmentNames = "fragments", isotopologues }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        experimentIDs = try c.decode([String].self, forKey: .experimentIDs)
        fragmentNames = try c.decode([String].self, forKey: .fragmentNames)
        isotopologues = try c.decode([Int].self, forKey: .isotopologues)
        guard fragmentNames.count == isotopologues.count else {
            throw DecodingError.dataCorruptedError(forKey: .isotopologues, in: c,
                debugDescription: "\(fragmentNames.count) fragments but \(isotopologues.count) isotopologue counts")
        }
        guard isotopologues.allSatisfy({ $0 >= 1 && $0 <= 1024 }) else {
            throw DecodingError.dataCorruptedError(forKey: .isotopologues, in: c,
                debugDescription: "every MID has 1 … 1024 isotopologues")
        }
        guard experimentIDs.count <= 1 << 12, fragmentNames.count <= 1 << 16 else {
            throw DecodingError.dataCorruptedError(forKey: .fragmentNames, in: c,
                debugDescription: "\(experimentIDs.count) experiments × \(fragmentNames.count) fragments is more than any network has")
        }
    }

    private static func offsets(_ sizes: [Int]) -> [Int] {
        var out: [Int] = [], s = 0
        for n in sizes { out.append(s); s += n }
        return out
    }

    // MARK: - Names

    /// Index of the experiment `id`, or `nil`.
    public func experimentIndex(_ id: String) -> Int? { experimentIDs.firstIndex(of: id) }
    /// Index of the fragment `name`, or `nil`.
    public func fragmentIndex(_ name: String) -> Int? { fragmentNames.firstIndex(of: name) }

    // MARK: - Flat vector

    /// Flat index of `(experiment, fragment, isotopologue)`, or `nil` when out of range.
    public func index(experiment e: Int, fragment f: Int, isotopologue k: Int) -> Int? {
        guard experimentIDs.indices.contains(e), isotopologues.indices.contains(f),
              k >= 0, k < isotopologues[f] else { return nil }
        return e * blockSize + offsets[f] + k
    }

    /// Flat index by names, or `nil`.
    public func index(experiment id: String, fragment name: String, isotopologue k: Int) -> Int? {
        guard let e = experimentIndex(id), let f = fragmentIndex(name) else { return nil }
        return index(experiment: e, fragment: f, isotopologue: k)
    }

    /// The `(experiment, fragment, isotopologue)` of flat index `i` (`0 ..< count`).
    public func entry(at i: Int) -> (experiment: Int, fragment: Int, isotopologue: Int) {
        precondition(i >= 0 && i < count, "flat index \(i) outside 0..<\(count)")
        let b = blockSize
        let e = i / b, r = i % b
        var f = 0, start = 0
        while start + isotopologues[f] <= r { start += isotopologues[f]; f += 1 }
        return (e, f, r - start)
    }

    /// Range of flat indices holding the MID of `fragment` in `experiment`.
    public func range(experiment e: Int, fragment f: Int) -> Range<Int> {
        let start = e * blockSize + offsets[f]
        return start ..< start + isotopologues[f]
    }

    // MARK: - Matrix

    /// Matrix row of `(experiment, fragment)`: `experiment · fragments + fragment`.
    public func row(experiment e: Int, fragment f: Int) -> Int { e * fragmentNames.count + f }

    /// `(experiment, fragment)` of a matrix row.
    public func pair(ofRow r: Int) -> (experiment: Int, fragment: Int) {
        (r / fragmentNames.count, r % fragmentNames.count)
    }

    /// Matrix cell of flat index `i`.
    public func cell(of i: Int) -> (row: Int, column: Int) {
        let x = entry(at: i)
        return (row(experiment: x.experiment, fragment: x.fragment), x.isotopologue)
    }

    /// Flat index of matrix cell `(row, column)`, or `nil` for a padding cell or out of range.
    public func index(row r: Int, column c: Int) -> Int? {
        guard r >= 0, r < rows else { return nil }
        let p = pair(ofRow: r)
        return index(experiment: p.experiment, fragment: p.fragment, isotopologue: c)
    }

    /// Row-major `[rows × columns]`: `true` where the cell is an entry of the flat vector.
    public var mask: [Bool] {
        var m = [Bool](repeating: false, count: rows * columns)
        for r in 0..<rows {
            let n = isotopologues[r % fragmentNames.count]
            for c in 0..<n { m[r * columns + c] = true }
        }
        return m
    }

    /// A flat vector (`count` entries) as a row-major `[rows × columns]` matrix, padding with `fill`.
    public func matrix<T>(fromFlat flat: [T], fill: T) -> [T] {
        precondition(flat.count == count, "flat vector has \(flat.count) entries, the layout \(count)")
        var out = [T](repeating: fill, count: rows * columns)
        let cols = columns, nf = fragmentNames.count, b = blockSize, off = offsets
        for e in experimentIDs.indices {
            for f in 0..<nf {
                let src = e * b + off[f], dst = (e * nf + f) * cols
                for k in 0..<isotopologues[f] { out[dst + k] = flat[src + k] }
            }
        }
        return out
    }

    /// The flat vector of a row-major `[rows × columns]` matrix (padding cells dropped).
    public func flat<T>(fromMatrix m: [T]) -> [T] {
        precondition(m.count == rows * columns, "matrix has \(m.count) cells, the layout \(rows * columns)")
        var out: [T] = []
        out.reserveCapacity(count)
        let cols = columns, nf = fragmentNames.count
        for e in experimentIDs.indices {
            for f in 0..<nf {
                let start = (e * nf + f) * cols
                out.append(contentsOf: m[start ..< start + isotopologues[f]])
            }
        }
        return out
    }
}
