import MLFluxCore

/// `clean` MIDs of `layout` plus Gaussian noise of σ = `sd` per entry (`gaussian()` draws a
/// standard normal), each MID's noise projected onto sum zero so a normalised MID keeps summing
/// to 1 (n − 1 degrees of freedom per MID, as the χ² test counts them).
public func noisyMIDs(_ clean: [Double], _ layout: LabelingLayout, sd: Double, gaussian: () -> Double) -> [Double] {
    var v = clean.map { $0 + sd * gaussian() }
    for e in layout.experimentIDs.indices {
        for (f, n) in layout.isotopologues.enumerated() {
            let s = e * layout.blockSize + layout.offsets[f]
            let excess = (v[s..<(s + n)].reduce(0, +) - 1) / Double(n)
            for k in s..<(s + n) { v[k] -= excess }
        }
    }
    return v
}
