import MLFluxCore

/// `y[0..<n] += a · x[0..<n]`
@inline(__always)
private func axpy(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
    for k in 0..<n { y[k] += a * x[k] }
}

/// Per-call scratch memory, released when the call ends.
private final class Arena {
    var pointers: [UnsafeMutableRawPointer] = []
    func doubles(_ n: Int) -> UnsafeMutablePointer<Double> {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: max(n, 1))
        p.initialize(repeating: 0, count: max(n, 1))
        pointers.append(UnsafeMutableRawPointer(p))
        return p
    }
    deinit { for p in pointers { p.deallocate() } }
}

extension EMUSimulator {
    /// `dilution`: the factors of `dilutionGroups` (nil: undiluted, and no Jacobian columns for them).
    func run(_ state: FluxState, basis: FreeFluxBasis?, dilution: [Double]?) throws -> (labeling: SimulatedLabeling, jacobian: LabelingJacobian?) {
        let u = try layout.values(state, network: network)
        let P = basis?.count ?? 0
        let D = basis.map { layout.derivatives(state, basis: $0) } ?? []
        let poolCount = network.pools.count
        var inflow = [Double](repeating: 0, count: poolCount)
        var dInflow = [Double](repeating: 0, count: poolCount * P)
        for p in 0..<poolCount {
            for k in inflowStart[p]..<inflowStart[p + 1] {
                let f = Int(inflowFlux[k])
                inflow[p] += inflowCoef[k] * u[f]
                if P > 0 { for (q, dv) in D[f] { dInflow[p * P + q] += inflowCoef[k] * dv } }
            }
        }
        let arena = Arena()
        let X = arena.doubles(valueCount)
        let dX = P > 0 ? arena.doubles(valueCount * P) : X
        let scale = u.reduce(0) { max($0, abs($1)) }
        // The arena owns X, dX and every scratch buffer: keep it alive until the results are
        // copied out (Swift may otherwise end its lifetime after its last direct use).
        return try withExtendedLifetime(arena) {
            try inputMIDs.withUnsafeBufferPointer { inputs in
                let ctx = Context(u: u, D: D, P: P, X: X, dX: dX, inputs: inputs.baseAddress!, arena: arena,
                                  tolerance: 1e-14 * max(scale, 1e-300))
                for li in levels.indices {
                    try solveLevel(li, ctx, inflow: inflow, dInflow: dInflow)
                }
                return assemble(X: X, dX: basis != nil ? dX : nil, P: P, dilution: dilution)
            }
        }
    }

    private struct Context {
        let u: [Double]
        let D: [[(Int, Double)]]
        let P: Int
        let X: UnsafeMutablePointer<Double>
        let dX: UnsafeMutablePointer<Double>
        let inputs: UnsafePointer<Double>
        let arena: Arena
        let tolerance: Double
    }

    private func solveLevel(_ li: Int, _ ctx: Context, inflow: [Double], dInflow: [Double]) throws {
        let L = levels[li], E = experiments.count
        let w = L.size + 1, C = E * w, m = L.count, T = L.termCount, P = ctx.P
        let u = ctx.u
        let x = ctx.X + levelOffset[li]
        let Y = ctx.arena.doubles(T * C)
        termValues(L, Y: Y, ctx)
        for i in 0..<m {
            for k in L.rhsStart[i]..<L.rhsStart[i + 1] {
                axpy(L.rhsCoef[k] * u[Int(L.rhsFlux[k])], Y + Int(L.rhsTerm[k]) * C, x + i * C, C)
            }
        }
        var diagonal = (0..<m).map { inflow[L.pool[$0]] }
        for s in L.selfRow.indices { diagonal[Int(L.selfRow[s])] -= L.selfCoef[s] * u[Int(L.selfFlux[s])] }
        // Numeric factorisation of every block (packed sparse LU, or the scalar diagonal).
        var packedStart = [0]
        for lu in L.blockLU { packedStart.append(packedStart.last! + (lu?.valueCount ?? 0)) }
        let packed = ctx.arena.doubles(packedStart.last!)
        for b in L.blockLU.indices {
            let s = L.blockStart[b], e = L.blockStart[b + 1]
            guard let lu = L.blockLU[b] else {
                guard diagonal[s] > ctx.tolerance, diagonal[s].isFinite else {
                    throw EMUError.singularSystem(pools: [network.pools[L.pool[s]].id], emuSize: L.size)
                }
                continue
            }
            let a = packed + packedStart[b]
            var largest = 0.0
            for r in 0..<lu.n {
                a[Int(lu.pivot[r])] = diagonal[s + r]
                largest = max(largest, abs(diagonal[s + r]))
            }
            for i in s..<e {
                for k in L.cplStart[i]..<L.cplStart[i + 1] where L.cplPacked[k] >= 0 {
                    a[Int(L.cplPacked[k])] -= L.cplCoef[k] * u[Int(L.cplFlux[k])]
                }
            }
            if lu.factor(a, tolerance: max(1e-12 * largest, ctx.tolerance)) != nil || !largest.isFinite {
                let pools = Set((s..<e).map { network.pools[L.pool[$0]].id }).sorted()
                throw EMUError.singularSystem(pools: pools, emuSize: L.size)
            }
        }
        substitute(L, x: x, width: C, u: u, diagonal: diagonal, packed: packed, packedStart: packedStart)

        guard P > 0 else { return }
        // Forward sensitivities: A·dX = dB·Y + B·dY − dA·X; columns (q, experiment, isotopologue).
        let PC = P * C
        let dx = ctx.dX + levelOffset[li] * P
        let dY = ctx.arena.doubles(T * PC)
        termDerivatives(L, Y: Y, dY: dY, ctx)
        let D = ctx.D
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
        substitute(L, x: dx, width: PC, u: u, diagonal: diagonal, packed: packed, packedStart: packedStart)
    }

    /// Block forward substitution with the factorised blocks: rows of `x` (`width` wide)
    /// hold the right-hand sides on entry and the solution on exit.
    private func substitute(_ L: EMULevel, x: UnsafeMutablePointer<Double>, width: Int, u: [Double],
                            diagonal: [Double], packed: UnsafeMutablePointer<Double>, packedStart: [Int]) {
        for b in L.blockLU.indices {
            let s = L.blockStart[b], e = L.blockStart[b + 1]
            for i in s..<e {
                for k in L.cplStart[i]..<L.cplStart[i + 1] where L.cplPacked[k] < 0 {
                    axpy(L.cplCoef[k] * u[Int(L.cplFlux[k])], x + Int(L.cplCol[k]) * width, x + i * width, width)
                }
            }
            if let lu = L.blockLU[b] {
                lu.solve(packed + packedStart[b], x: x + s * width, width: width, stride: width)
            } else {
                let inv = 1 / diagonal[s], row = x + s * width
                for c in 0..<width { row[c] *= inv }
            }
        }
    }

    /// Base pointer and isotopologue count of precursor `j` of a level (value MIDs):
    /// experiment `e` starts at `base + e * n`.
    @inline(__always)
    private func precursor(_ L: EMULevel, _ j: Int, _ ctx: Context) -> (UnsafePointer<Double>, Int) {
        let lv = Int(L.precursorLevel[j]), r = Int(L.precursorRow[j])
        if lv < 0 { return (ctx.inputs + inputOffset[r], inputSize[r] + 1) }
        let n = levels[lv].size + 1
        return (UnsafePointer(ctx.X + levelOffset[lv] + r * experiments.count * n), n)
    }

    /// Known terms `Y[t, e, 0...n]`: convolution of the precursors' MIDs, zero-padded
    /// (atoms from unlabeled solvent add no mass).
    private func termValues(_ L: EMULevel, Y: UnsafeMutablePointer<Double>, _ ctx: Context) {
        let E = experiments.count, w = L.size + 1, C = E * w
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * w) { tmp in
            let a = tmp.baseAddress!, b = a + w
            for t in 0..<L.termCount {
                let lo = L.termStart[t], hi = L.termStart[t + 1]
                for e in 0..<E {
                    let out = Y + t * C + e * w
                    if hi == lo { out[0] = 1; continue }  // every atom from unlabeled solvent
                    let (p0, n0) = precursor(L, lo, ctx)
                    if hi - lo == 1 { out.update(from: p0 + e * n0, count: n0); continue }
                    a.update(from: p0 + e * n0, count: n0)
                    var len = n0
                    for j in (lo + 1)..<hi {
                        let (pj, nj) = precursor(L, j, ctx)
                        convolve(a, len, pj + e * nj, nj, into: b)
                        len += nj - 1
                        a.update(from: b, count: len)
                    }
                    out.update(from: a, count: len)
                }
            }
        }
    }

    /// Derivatives of the known terms, `dY[t, q, e, k]`, by the product rule: for each
    /// computed precursor `j`, the convolution of the others times `d(precursor j)/dθ_q`.
    private func termDerivatives(_ L: EMULevel, Y: UnsafeMutablePointer<Double>,
                                 dY: UnsafeMutablePointer<Double>, _ ctx: Context) {
        let E = experiments.count, w = L.size + 1, C = E * w, P = ctx.P, PC = P * C
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * w) { tmp in
            let rest = tmp.baseAddress!, b = rest + w, c = b + w
            for t in 0..<L.termCount {
                let lo = L.termStart[t], hi = L.termStart[t + 1]
                for j in lo..<hi {
                    let lv = Int(L.precursorLevel[j])
                    if lv < 0 { continue }  // tracer inputs do not depend on fluxes
                    let nj = levels[lv].size + 1, Cj = E * nj
                    let dBase = ctx.dX + levelOffset[lv] * P + Int(L.precursorRow[j]) * P * Cj
                    for e in 0..<E {
                        // rest = ⊗ of the other precursors for experiment e
                        rest[0] = 1
                        var len = 1
                        for i in lo..<hi where i != j {
                            let (pi, ni) = precursor(L, i, ctx)
                            convolve(rest, len, pi + e * ni, ni, into: b)
                            len += ni - 1
                            rest.update(from: b, count: len)
                        }
                        for q in 0..<P {
                            let out = dY + t * PC + q * C + e * w
                            convolve(dBase + q * Cj + e * nj, nj, rest, len, into: c)
                            for k in 0..<(nj + len - 1) { out[k] += c[k] }
                        }
                    }
                }
            }
        }
    }

    /// The measured fragments' MIDs (and Jacobian rows, `P` free-flux columns then one per
    /// dilution group when `dilution` is given): mixed with unlabeled material where diluted,
    /// then through the measurement maps.
    func assemble(X: UnsafeMutablePointer<Double>, dX: UnsafeMutablePointer<Double>?, P: Int, dilution: [Double]?)
        -> (labeling: SimulatedLabeling, jacobian: LabelingJacobian?) {
        let E = experiments.count
        let W = P + (dilution?.count ?? 0)      // Jacobian columns
        var values = [Double](repeating: 0, count: E * blockSize)
        var jac = [Double](repeating: 0, count: dX == nil ? 0 : E * blockSize * W)
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
                    for k in 0..<n { for q in 0..<P { jac[(dst + k) * W + q] = dsrc[q * C + k] } }
                }
            }
        }
        // Labeling-only mixing: x ← f·x + (1 − f)·e₀ (e₀ = M+0 only), ∂/∂θ ← f·∂x/∂θ, ∂/∂f = x − e₀.
        if let dilution {
            for f in measured.indices {
                guard let g = dilutionGroup[f] else { continue }
                let share = dilution[g], n = measured[f].atoms.count + 1
                for e in 0..<E {
                    let dst = e * blockSize + offsets[f]
                    for k in 0..<n {
                        let unlabeled = k == 0 ? 1.0 : 0.0
                        if dX != nil {
                            for q in 0..<P { jac[(dst + k) * W + q] *= share }
                            jac[(dst + k) * W + P + g] = values[dst + k] - unlabeled
                        }
                        values[dst + k] = share * values[dst + k] + (1 - share) * unlabeled
                    }
                }
            }
        }
        // The instrument's view: natural abundance etc. (`MeasurementMap`), values and Jacobian.
        for f in measured.indices {
            guard let map = measurementMaps[f] else { continue }
            for e in 0..<E {
                let dst = e * blockSize + offsets[f]
                values.withUnsafeMutableBufferPointer { v in
                    jac.withUnsafeMutableBufferPointer { j in
                        map.apply(v.baseAddress! + dst, jacobian: dX == nil ? nil : j.baseAddress! + dst * W, columns: W)
                    }
                }
            }
        }
        let labeling = SimulatedLabeling(experimentIDs: experimentIDs, fragments: measured,
                                         offsets: offsets, blockSize: blockSize, values: values)
        let jacobian = dX == nil ? nil : LabelingJacobian(rows: values.count, columns: W, values: jac)
        return (labeling, jacobian)
    }
}
