import IsotopeCorrection
import MLFluxCore

/// Natural-abundance correction of a table of measured MIDs (`mlflux correct`): every MID
/// measured in `measured` is corrected with its fragment's `CorrectionMatrix` (IsoCor's
/// non-negative least squares, renormalised), its σ (the table's stddev) propagated.
public enum LabelingCorrection {
    /// One corrected MID.
    public struct Row: Sendable {
        public var experiment: String
        public var fragment: String
        /// The measured MID, M+0 … M+n.
        public var measured: [Double]
        public var corrected: CorrectedMID
    }

    /// Why a table cannot be corrected; names the experiment and fragment.
    public struct Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Corrects every completely measured MID of `measured`, experiment by experiment in
    /// layout order. MIDs not measured at all are skipped.
    /// - Throws: `Error` for a partially measured MID, a measured fragment without a matrix
    ///   (naming it), a matrix whose size differs from the fragment's MID, or a failed solve.
    public static func correct(_ measured: MeasuredLabeling, matrices: [String: CorrectionMatrix]) throws -> [Row] {
        let layout = measured.layout
        var rows: [Row] = []
        for (e, experiment) in layout.experimentIDs.enumerated() {
            for (f, fragment) in layout.fragmentNames.enumerated() {
                let n = layout.isotopologues[f]
                let indices = (0..<n).map { layout.index(experiment: e, fragment: f, isotopologue: $0)! }
                let given = indices.filter { measured.mask[$0] }
                if given.isEmpty { continue }
                guard given.count == n else {
                    throw Error(description: "\(experiment) \(fragment): only \(given.count) of \(n) isotopologues measured; a correction needs the whole MID")
                }
                guard let matrix = matrices[fragment] else {
                    throw Error(description: "\(experiment) \(fragment): no elemental formula for '\(fragment)' (give one with --fragment \(fragment)=FORMULA or in the bundle manifest's fragments)")
                }
                guard matrix.tracedAtoms + 1 == n else {
                    throw Error(description: "\(fragment): the formula's matrix covers \(matrix.tracedAtoms + 1) isotopologues, the MID has \(n)")
                }
                let mid = indices.map { measured.values[$0] }
                let sigma = indices.map { measured.stddev[$0] }
                do {
                    // σ propagated when the table gives one for every isotopologue of the MID.
                    let corrected = sigma.allSatisfy(\.isFinite) ? try matrix.correct(mid, stddev: sigma) : try matrix.correct(mid)
                    rows.append(Row(experiment: experiment, fragment: fragment, measured: mid, corrected: corrected))
                } catch {
                    throw Error(description: "\(experiment) \(fragment): \(error)")
                }
            }
        }
        return rows
    }
}
