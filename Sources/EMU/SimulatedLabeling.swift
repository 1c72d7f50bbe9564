import MLFluxCore

/// Simulated mass isotopomer distributions of the measured fragments for every tracer
/// experiment. `values` is experiment-major: experiment `e`, fragment `f`, isotopologue
/// `k` sits at `e * blockSize + offsets[f] + k`.
public struct SimulatedLabeling: Sendable {
    public let experimentIDs: [String]
    public let fragments: [MeasuredFragment]
    /// Start of each fragment's MID within an experiment block.
    public let offsets: [Int]
    /// Entries per experiment (Σ over fragments of atoms + 1).
    public let blockSize: Int
    public let values: [Double]

    /// MID of `fragment` in `experiment` (fractions M+0 … M+n, summing to 1).
    public func mid(experiment: Int, fragment: Int) -> [Double] {
        let start = experiment * blockSize + offsets[fragment]
        return Array(values[start..<(start + fragments[fragment].atoms.count + 1)])
    }

    /// MID of the fragment named `name` in `experiment`, or `nil`.
    public func mid(experiment: Int, named name: String) -> [Double]? {
        fragments.firstIndex { $0.name == name }.map { mid(experiment: experiment, fragment: $0) }
    }
}

/// Derivatives of every simulated MID entry with respect to the free fluxes:
/// row-major `[rows × columns]`, row = index into `SimulatedLabeling.values`,
/// column = free flux (order of `FreeFluxBasis.names`).
public struct LabelingJacobian: Sendable {
    public let rows: Int
    public let columns: Int
    public let values: [Double]

    public subscript(row: Int, column: Int) -> Double { values[row * columns + column] }
}
