import MLFluxCore

/// Turns an `EMUDecomposition` into solved-in-order `EMULevel`s.
struct EMUCompiler {
    var levels: [EMULevel] = []
    /// Where each unknown EMU lives: (level index, row).
    var location: [EMUKey: (level: Int, row: Int)] = [:]
    /// Input EMUs in id order.
    var inputEMUs: [EMUKey] = []

    init(_ dec: EMUDecomposition) {
        inputEMUs = dec.inputs.sorted()
        var inputID: [EMUKey: Int] = [:]
        for (i, e) in inputEMUs.enumerated() { inputID[e] = i }
        let bySize = Dictionary(grouping: dec.terms.keys, by: { $0.size })
        for n in bySize.keys.sorted() {
            let emus = bySize[n]!.sorted()
            let order = Self.blockOrder(emus, terms: dec.terms)
            let li = levels.count
            for (row, e) in order.emus.enumerated() { location[e] = (li, row) }
            levels.append(build(size: n, emus: order.emus, blockStart: order.blockStart,
                                terms: dec.terms, inputID: inputID))
        }
    }

    /// Strongly connected components of the same-size coupling graph (Tarjan), emitted so
    /// that every block comes after the blocks it depends on.
    static func blockOrder(_ emus: [EMUKey], terms: [EMUKey: [ProductionTerm]]) -> (emus: [EMUKey], blockStart: [Int]) {
        var index: [EMUKey: Int] = [:]
        for (i, e) in emus.enumerated() { index[e] = i }
        let n = emus[0].size
        let deps: [[Int]] = emus.map { e in
            terms[e]!.compactMap { t in
                (t.precursors.count == 1 && t.precursors[0].size == n) ? index[t.precursors[0]] : nil
            }
        }
        var idx = [Int](repeating: -1, count: emus.count), low = idx
        var onStack = [Bool](repeating: false, count: emus.count)
        var stack: [Int] = [], counter = 0
        var out: [EMUKey] = [], starts = [0]
        // Iterative Tarjan to avoid deep recursion on long chains.
        for root in emus.indices where idx[root] < 0 {
            var call: [(v: Int, next: Int)] = [(root, 0)]
            idx[root] = counter; low[root] = counter; counter += 1
            stack.append(root); onStack[root] = true
            while !call.isEmpty {
                let (v, i) = call[call.count - 1]
                if i < deps[v].count {
                    call[call.count - 1].next += 1
                    let w = deps[v][i]
                    if idx[w] < 0 {
                        idx[w] = counter; low[w] = counter; counter += 1
                        stack.append(w); onStack[w] = true
                        call.append((w, 0))
                    } else if onStack[w] {
                        low[v] = min(low[v], idx[w])
                    }
                } else {
                    call.removeLast()
                    if let parent = call.last { low[parent.v] = min(low[parent.v], low[v]) }
                    if low[v] == idx[v] {
                        var comp: [Int] = []
                        while true {
                            let w = stack.removeLast(); onStack[w] = false
                            comp.append(w)
                            if w == v { break }
                        }
                        out.append(contentsOf: eliminationOrder(comp.sorted(), deps: deps).map { emus[$0] })
                        starts.append(out.count)
                    }
                }
            }
        }
        return (out, starts)
    }

    /// Orders a block's EMUs for sparse elimination (minimum degree on the coupling graph).
    static func eliminationOrder(_ comp: [Int], deps: [[Int]]) -> [Int] {
        guard comp.count > 1 else { return comp }
        var local: [Int: Int] = [:]
        for (i, v) in comp.enumerated() { local[v] = i }
        let pattern = comp.map { v in deps[v].compactMap { local[$0] } }
        return SparseLU.minimumDegreeOrder(n: comp.count, pattern: pattern).map { comp[$0] }
    }

    private mutating func build(size n: Int, emus: [EMUKey], blockStart: [Int],
                                terms: [EMUKey: [ProductionTerm]], inputID: [EMUKey: Int]) -> EMULevel {
        var row: [EMUKey: Int] = [:]
        for (i, e) in emus.enumerated() { row[e] = i }
        var rhsRow: [Int32] = [], rhsTerm: [Int32] = [], rhsFlux: [Int32] = [], rhsCoef: [Double] = []
        var cplRow: [Int32] = [], cplCol: [Int32] = [], cplFlux: [Int32] = [], cplCoef: [Double] = []
        var selfRow: [Int32] = [], selfFlux: [Int32] = [], selfCoef: [Double] = []
        var cplStart = [0], rhsStart = [0]
        var termIndex: [[EMUKey]: Int] = [:]
        var termStart = [0]
        var precursorLevel: [Int32] = [], precursorRow: [Int32] = []
        for (i, e) in emus.enumerated() {
            for t in terms[e]! {
                if t.precursors.count == 1, let k = row[t.precursors[0]] {
                    if k == i {
                        selfRow.append(Int32(i)); selfFlux.append(Int32(t.flux)); selfCoef.append(t.coefficient)
                    } else {
                        cplRow.append(Int32(i)); cplCol.append(Int32(k))
                        cplFlux.append(Int32(t.flux)); cplCoef.append(t.coefficient)
                    }
                    continue
                }
                let tid: Int
                if let existing = termIndex[t.precursors] {
                    tid = existing
                } else {
                    tid = termStart.count - 1
                    termIndex[t.precursors] = tid
                    for p in t.precursors {
                        if let id = inputID[p] {
                            precursorLevel.append(-1); precursorRow.append(Int32(id))
                        } else {
                            let loc = location[p]!
                            precursorLevel.append(Int32(loc.level)); precursorRow.append(Int32(loc.row))
                        }
                    }
                    termStart.append(precursorLevel.count)
                }
                rhsRow.append(Int32(i)); rhsTerm.append(Int32(tid))
                rhsFlux.append(Int32(t.flux)); rhsCoef.append(t.coefficient)
            }
            cplStart.append(cplRow.count)
            rhsStart.append(rhsRow.count)
        }
        // Sparse LU pattern per block; coupling entries inside a block map to packed LU slots.
        var blockOf = [Int](repeating: 0, count: emus.count)
        for b in 0..<(blockStart.count - 1) { for i in blockStart[b]..<blockStart[b + 1] { blockOf[i] = b } }
        var blockLU: [SparseLU?] = []
        var cplPacked = [Int32](repeating: -1, count: cplRow.count)
        for b in 0..<(blockStart.count - 1) {
            let s = blockStart[b], size = blockStart[b + 1] - s
            guard size > 1 else { blockLU.append(nil); continue }
            var pattern = [[Int]](repeating: [], count: size)
            for k in cplRow.indices where blockOf[Int(cplRow[k])] == b && blockOf[Int(cplCol[k])] == b {
                pattern[Int(cplRow[k]) - s].append(Int(cplCol[k]) - s)
            }
            let lu = SparseLU(n: size, pattern: pattern)
            for k in cplRow.indices where blockOf[Int(cplRow[k])] == b && blockOf[Int(cplCol[k])] == b {
                cplPacked[k] = lu.index[(Int(cplRow[k]) - s) * size + (Int(cplCol[k]) - s)]
            }
            blockLU.append(lu)
        }
        return EMULevel(size: n, pool: emus.map(\.pool), mask: emus.map(\.mask), blockStart: blockStart,
                        rhsRow: rhsRow, rhsTerm: rhsTerm, rhsFlux: rhsFlux, rhsCoef: rhsCoef,
                        cplRow: cplRow, cplCol: cplCol, cplFlux: cplFlux, cplCoef: cplCoef,
                        selfRow: selfRow, selfFlux: selfFlux, selfCoef: selfCoef,
                        cplStart: cplStart, rhsStart: rhsStart,
                        termStart: termStart, precursorLevel: precursorLevel, precursorRow: precursorRow,
                        blockLU: blockLU, cplPacked: cplPacked)
    }
}
