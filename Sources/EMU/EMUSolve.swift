import LinearAlgebra
import MLFluxCore

/// `y[0..<n] += a · x[0..<n]`
@inline(__always)
private func axpy(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
    for k in 0..<n { y[k] += a * x[k] }
}

/// Per-call buffers, freed when the call ends.
private final class Buffers {
    var pointers: [UnsafeMutablePointer<Double>] = []
    func make(_ n: Int) -> UnsafeMutablePointer<Double> {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: max(n, 1))
        p.initialize(repeating: 0, count: max(n, 1))
        pointers.append(p)
        return p
    }
    deinit { for p in pointers { p.deallocate() } }
}

/// Factorisation of one level, kept for the derivative pass.
private struct LevelFactors {
    /// Diagonal of 1×1 blocks (indexed by row).
    var diagonal: [Double]
    /// LU factors and pivots of the larger blocks, keyed by block index.
    var lu: [Int: (a: [Double], pivots: [Int32])] = [:]
}

extension EMUSimulator {
    func run(_ state: FluxState, basis: FreeFluxBasis?) throws -> (labeling: SimulatedLabeling, jacobian: LabelingJacobian?) {
        let u = try layout.values(state, network: network)
        let E = experiments.count
        let P = basis?.count ?? 0
        let D = basis.map { layout.derivatives(state, basis: $0) }
        let poolCount = network.pools.count
        var inflow = [Double](repeating: 0, count: poolCount)
        var dInflow = [Double](repeating: 0, count: poolCount * P)
        for p in 0..<poolCount {
            for k in inflowStart[p]..<inflowStart[p + 1] {
                let f = Int(inflowFlux[k])
                inflow[p] += inflowCoef[k] * u[f]
                if let D { for (q, dv) in D[f] { dInflow[p * P + q] += inflowCoef[k] * dv } }
            }
        }
        let buffers = Buffers()
        let X = buffers.make(valueCount)
        let dX = P > 0 ? buffers.make(valueCount * P) : X
        let scale = u.reduce(0) { max($0, abs($1)) }
        let tolerance = 1e-14 * max(scale, 1e-300)

        for li in levels.indices {
            let L = levels[li]
            let w = L.size + 1, C = E * w, m = L.count, T = L.termCount
            let x = X + levelOffset[li]
            let Y = buffers.make(T * C)
            computeTerms(L, Y: Y, C: C, X: X, derivative: nil)
            for i in 0..<m {
                for k in L.rhsStart[i]..<L.rhsStart[i + 1] {
                    axpy(L.rhsCoef[k] * u[Int(L.rhsFlux[k])], Y + Int(L.rhsTerm[k]) * C, x + i * C, C)
                }
            }
            var factors = LevelFactors(diagonal: (0..<m).map { inflow[L.pool[$0]] })
            for s in L.selfRow.indices {
                factors.diagonal[Int(L.selfRow[s])] -= L.selfCoef[s] * u[Int(L.selfFlux[s])]
            }
            try solveBlocks(L, x: x, width: C, u: u, factors: &factors, factorize: true, tolerance: tolerance)

            guard let D, P > 0 else { continue }
            // Sensitivities: A·dX = dB·Y + B·dY − dA·X, column (p, c) for free flux p.
            let PC = P * C
            let dx = dX + levelOffset[li] * P
            let dY = buffers.make(T * PC)
            computeTerms(L, Y: dY, C: C, X: X, derivative: (dX, P))
            for i in 0..<m {
                let row = dx + i * PC
                for k in L.rhsStart[i]..<L.rhsStart[i + 1] {
                    let f = Int(L.rhsFlux[k]), t = Int(L.rhsTerm[k]), c = L.rhsCoef[k]
                    axpy(c * u[f], dY + t * PC, row, PC)
                    for (q, dv) in D[f] { axpy(c * dv, Y + t * C, row + q * C, C) }
                }
                let pool = L.pool[i]
                for q in 0..<P where dInflow[pool * P + q] != 0 {
                    axpy(-dInflow[pool * P + q], x + i * C, row + q * C, C)
                }
                for k in L.cplStart[i]..<L.cplStart[i + 1] {
                    let f = Int(L.cplFlux[k]), col = Int(L.cplCol[k]), c = L.cplCoef[k]
                    for (q, dv) in D[f] { axpy(c * dv, x + col * C, row + q * C, C) }
                }
            }
            for s in L.selfRow.indices {
                let i = Int(L.selfRow[s]), f = Int(L.selfFlux[s]), c = L.selfCoef[s]
                for (q, dv) in D[f] { axpy(c * dv, x + i * C, dx + i * PC + q * C, C) }
            }
            try solveBlocks(L, x: dx, width: PC, u: u, factors: &factors, factorize: false, tolerance: tolerance)
        }
        return assemble(X: X, dX: P > 0 ? dX : nil, P: P)
    }

    /// Known terms of a level: `Y[t]` = convolution of term `t`'s precursors, per experiment,
    /// zero-padded to `n + 1` entries (atoms from unlabeled solvent add no mass).
    /// With `derivative`, fills `dY[t, q, e]` by the product rule instead.
    private func computeTerms(_ L: EMULevel, Y: UnsafeMutablePointer<Double>, C: Int,
                              X: UnsafeMutablePointer<Double>,
                              derivative: (dX: UnsafeMutablePointer<Double>, P: Int)?) {
        let E = experiments.count, w = L.size + 1
        var acc = [Double](repeating: 0, count: 2 * (w + 1))
        acc.withUnsafeMutableBufferPointer { buf in
            let a = buf.baseAddress!, b = a + (w + 1)
            for t in 0..<L.termCount {
                let lo = L.termStart[t], hi = L.termStart[t + 1]
                // Pointer to precursor j's MID in experiment e (value or derivative q).
                func mid(_ j: Int, _ e: Int, _ q: Int?) -> (UnsafePointer<Double>, Int)? {
                    let lv = Int(L.precursorLevel[j]), r = Int(L.precursorRow[j])
                    if lv < 0 {
                        if q != nil { return nil }
                        let n = inputSize[r] + 1
                        return inputMIDs.withUnsafeBufferPointer { (UnsafePointer($0.baseAddress! + inputOffset[r] + e * n), n) }
                    }
                    let n = levels[lv].size + 1, Cl = E * n
                    if let q, let d = derivative {
                        return (UnsafePointer(d.dX + levelOffset[lv] * d.P + r * d.P * Cl + q * Cl + e * n), n)
                    }
                    return (UnsafePointer(X + levelOffset[lv] + r * Cl + e * n), n)
                }
                let qs: [Int?] = derivative.map { d in (0..<d.P).map { Optional($0) } } ?? [nil]
                for (qi, q) in qs.enumerated() {
                    for e in 0..<E {
                        let out = Y + (q == nil ? t * C : t * C * qs.count + qi * C) + e * w
                        // Product rule: Σ_j conv(…, d_j, …); value: one pass with no derivative.
                        let slots: [Int?] = q == nil ? [nil] : Array(lo..<hi).map { Optional($0) }
                        for dj in slots {
                            var len = 1
                            a[0] = 1
                            var zero = false
                            for j in lo..<hi {
                                guard let (p, n) = mid(j, e, j == dj ? q : nil) else { zero = true; break }
                                convolve(a, len, p, n, into: b)
                                len += n - 1
                                a.update(from: b, count: len)
                            }
                            if zero { continue }
                            if q == nil {
                                out.update(from: a, count: len)
                            } else {
                                for k in 0..<len { out[k] += a[k] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Solves `A·x = rhs` in place for one level, block by block in dependency order.
    /// Rows of `x` are `width` wide. With `factorize`, builds and stores each block's
    /// factorisation; otherwise reuses the stored one.
    private func solveBlocks(_ L: EMULevel, x: UnsafeMutablePointer<Double>, width: Int, u: [Double],
                             factors: inout LevelFactors, factorize: Bool, tolerance: Double) throws {
        for b in 0..<(L.blockStart.count - 1) {
            let s = L.blockStart[b], e = L.blockStart[b + 1], n = e - s
            for i in s..<e {
                for k in L.cplStart[i]..<L.cplStart[i + 1] where Int(L.cplCol[k]) < s {
                    axpy(L.cplCoef[k] * u[Int(L.cplFlux[k])], x + Int(L.cplCol[k]) * width, x + i * width, width)
                }
            }
            if n == 1 {
                let d = factors.diagonal[s]
                guard d > tolerance, d.isFinite else {
                    throw EMUError.singularSystem(pools: [network.pools[L.pool[s]].id], emuSize: L.size)
                }
                let inv = 1 / d
                let row = x + s * width
                for k in 0..<width { row[k] *= inv }
                continue
            }
            if factorize {
                var a = [Double](repeating: 0, count: n * n)
                for r in 0..<n { a[r + n * r] = factors.diagonal[s + r] }
                for i in s..<e {
                    for k in L.cplStart[i]..<L.cplStart[i + 1] {
                        let col = Int(L.cplCol[k])
                        if col >= s && col < e { a[(i - s) + n * (col - s)] -= L.cplCoef[k] * u[Int(L.cplFlux[k])] }
                    }
                }
                var piv = [Int32](repeating: 0, count: n)
                let info = a.withUnsafeMutableBufferPointer { ap in
                    piv.withUnsafeMutableBufferPointer { LinearAlgebra.luFactor(n: n, a: ap.baseAddress!, lda: n, pivots: $0.baseAddress!) }
                }
                let maxPivot = (0..<n).reduce(0.0) { max($0, abs(a[$1 + n * $1])) }
                let minPivot = (0..<n).reduce(Double.infinity) { min($0, abs(a[$1 + n * $1])) }
                guard info == 0, minPivot > 1e-13 * maxPivot, minPivot.isFinite else {
                    let pools = Set((s..<e).map { network.pools[L.pool[$0]].id }).sorted()
                    throw EMUError.singularSystem(pools: pools, emuSize: L.size)
                }
                factors.lu[b] = (a, piv)
            }
            let (a, piv) = factors.lu[b]!
            // Gather the block's rows into a column-major n × width matrix, solve, scatter back.
            var rhs = [Double](repeating: 0, count: n * width)
            for r in 0..<n {
                let row = x + (s + r) * width
                for c in 0..<width { rhs[r + n * c] = row[c] }
            }
            a.withUnsafeBufferPointer { ap in
                piv.withUnsafeBufferPointer { pp in
                    rhs.withUnsafeMutableBufferPointer {
                        LinearAlgebra.luSolve(n: n, nrhs: width, lu: ap.baseAddress!, lda: n,
                                              pivots: pp.baseAddress!, b: $0.baseAddress!, ldb: n)
                    }
                }
            }
            for r in 0..<n {
                let row = x + (s + r) * width
                for c in 0..<width { row[c] = rhs[r + n * c] }
            }
        }
    }

    private func assemble(X: UnsafeMutablePointer<Double>, dX: UnsafeMutablePointer<Double>?, P: Int)
        -> (labeling: SimulatedLabeling, jacobian: LabelingJacobian?) {
        let E = experiments.count
        var values = [Double](repeating: 0, count: E * blockSize)
        var jac = [Double](repeating: 0, count: dX == nil ? 0 : E * blockSize * P)
        for f in measured.indices {
            let lv = outputLevel[f], r = outputRow[f]
            for e in 0..<E {
                let dst = e * blockSize + offsets[f]
                if lv < 0 {
                    let n = inputSize[r] + 1
                    for k in 0..<n { values[dst + k] = inputMIDs[inputOffset[r] + e * n + k] }
                    continue
                }
                let n = levels[lv].size + 1, C = E * n
                let src = X + levelOffset[lv] + r * C + e * n
                for k in 0..<n { values[dst + k] = src[k] }
                if let dX {
                    let dsrc = dX + levelOffset[lv] * P + r * P * C + e * n
                    for k in 0..<n { for q in 0..<P { jac[(dst + k) * P + q] = dsrc[q * C + k] } }
                }
            }
        }
        let labeling = SimulatedLabeling(experimentIDs: experiments.map(\.id), fragments: measured,
                                         offsets: offsets, blockSize: blockSize, values: values)
        let jacobian = dX == nil ? nil : LabelingJacobian(rows: values.count, columns: P, values: jac)
        return (labeling, jacobian)
    }
}
