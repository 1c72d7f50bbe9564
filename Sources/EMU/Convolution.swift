/// Convolution of mass isotopomer distributions: the MID of the union of independent
/// atom sets. `out[k] = Σ_{i+j=k} a[i]·b[j]`.
@inline(__always)
func convolve(_ a: UnsafePointer<Double>, _ na: Int, _ b: UnsafePointer<Double>, _ nb: Int,
              into out: UnsafeMutablePointer<Double>) {
    out.update(repeating: 0, count: na + nb - 1)
    for i in 0..<na {
        let ai = a[i]
        if ai == 0 { continue }
        for j in 0..<nb { out[i + j] += ai * b[j] }
    }
}
