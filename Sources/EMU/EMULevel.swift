/// The compiled steady-state system of all unknown EMUs of one size `n`:
///
///     A(u) · X = B(u) · Y
///
/// `X` holds the MIDs of the level's EMUs (one row per EMU, columns = experiments ×
/// (n+1) isotopologues, row-major), `Y` the known terms (tracer-input EMUs and
/// convolutions of smaller EMUs). `A` is diagonal (total production of the EMU's pool)
/// minus the coupling between same-size EMUs; both `A` and `B` are linear in the
/// one-way fluxes `u`. EMUs are ordered so that strongly connected blocks of the
/// coupling graph are contiguous and in dependency order: the level is solved block
/// by block (block lower-triangular), with one LU factorisation per block shared by
/// all experiments and by all derivative right-hand sides.
struct EMULevel: Sendable {
    /// EMU size `n`; MIDs have `n + 1` entries.
    let size: Int
    /// Pool index of each EMU (row).
    let pool: [Int]
    let mask: [UInt64]
    /// Block `b` covers rows `blockStart[b] ..< blockStart[b+1]`.
    let blockStart: [Int]

    /// Known-term entries, grouped by row: `B[row, term] += coef · u[flux]`.
    let rhsRow: [Int32], rhsTerm: [Int32], rhsFlux: [Int32]
    let rhsCoef: [Double]
    /// Coupling entries: `A[row, col] -= coef · u[flux]` (col ≠ row; same-row terms are folded
    /// into `selfFlux`/`selfCoef`), grouped by row.
    let cplRow: [Int32], cplCol: [Int32], cplFlux: [Int32]
    let cplCoef: [Double]
    /// Self-coupling entries (an EMU that reproduces itself through a reaction): `A[row,row] -= coef·u`.
    let selfRow: [Int32], selfFlux: [Int32]
    let selfCoef: [Double]
    /// `cplStart[row] ..< cplStart[row+1]` are the coupling entries of `row`.
    let cplStart: [Int]
    let rhsStart: [Int]

    /// Known terms: term `t` is the convolution of the precursors `termStart[t] ..< termStart[t+1]`.
    /// A precursor is `(level, row)` of an already solved EMU, or `(-1, id)` of an input EMU.
    let termStart: [Int]
    let precursorLevel: [Int32], precursorRow: [Int32]

    /// Sparse factorisation pattern of each block larger than 1×1 (`nil` for 1×1 blocks).
    let blockLU: [SparseLU?]
    /// Packed LU index of each coupling entry inside its own block, or -1 when the entry
    /// couples to an earlier block (then it is applied by forward substitution).
    let cplPacked: [Int32]

    var count: Int { pool.count }
    var termCount: Int { termStart.count - 1 }
}
