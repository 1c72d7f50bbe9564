import LinearAlgebra

/// The geometry of a 2-D convolution window sliding over an `height × width` plane:
/// square `kernel × kernel` window, `stride`, `padding` zero cells on every side.
///
/// Output size: `outHeight = (height + 2·padding − kernel) / stride + 1` (floor), likewise
/// `outWidth`. Row `(c·kernel + ky)·kernel + kx` of an im2col matrix holds input channel `c`
/// at window offset `(ky, kx)`; column `p = oy·outWidth + ox` is the output position
/// reading input cell `(oy·stride − padding + ky, ox·stride − padding + kx)`.
struct ConvolutionGeometry: Equatable, Sendable {
    let channels: Int, height: Int, width: Int
    let kernel: Int, stride: Int, padding: Int
    let outHeight: Int, outWidth: Int

    init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        self.channels = channels
        self.height = height
        self.width = width
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        outHeight = (height + 2 * padding - kernel) / stride + 1
        outWidth = (width + 2 * padding - kernel) / stride + 1
    }

    /// Rows of the im2col matrix: `channels · kernel²`.
    var patchSize: Int { channels * kernel * kernel }
    /// Output positions per image: `outHeight · outWidth`.
    var positions: Int { outHeight * outWidth }

    /// Writes the im2col matrix of one `[channels, height, width]` image into the columns
    /// `column0 ..< column0 + positions` of `cols`, a row-major `[patchSize, ld]` matrix.
    /// Cells outside the image are 0.
    @inline(__always)
    func im2col(_ image: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>, ld: Int, column0: Int) {
        let (k, s, pad, h, w, ow) = (kernel, stride, padding, height, width, outWidth)
        for c in 0..<channels {
            let plane = image + c * h * w
            for ky in 0..<k {
                for kx in 0..<k {
                    let row = cols + ((c * k + ky) * k + kx) * ld + column0
                    let (lo, hi) = validColumns(kx)
                    for oy in 0..<outHeight {
                        let iy = oy * s - pad + ky
                        let dst = row + oy * ow
                        if iy < 0 || iy >= h || lo >= hi {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        if hi < ow { (dst + hi).update(repeating: 0, count: ow - hi) }
                        let src = plane + iy * w + (lo * s - pad + kx)
                        if s == 1 {
                            (dst + lo).update(from: src, count: hi - lo)
                        } else {
                            for ox in lo..<hi { dst[ox] = src[(ox - lo) * s] }
                        }
                    }
                }
            }
        }
    }

    /// The output columns `lo..<hi` whose window offset `kx` falls inside the image:
    /// `0 ≤ ox·stride − padding + kx < width`.
    @inline(__always)
    func validColumns(_ kx: Int) -> (Int, Int) {
        let first = padding - kx                 // ox·stride ≥ first
        let lo = first <= 0 ? 0 : (first + stride - 1) / stride
        let last = width - 1 + padding - kx      // ox·stride ≤ last
        let hi = last < 0 ? 0 : min(outWidth, last / stride + 1)
        return (lo, max(lo, hi))
    }

    /// The adjoint of `im2col`: adds each column entry back onto the image cell it was read
    /// from (`image` is accumulated into, not overwritten).
    @inline(__always)
    func col2imAdd(_ cols: UnsafePointer<Float>, ld: Int, column0: Int, into image: UnsafeMutablePointer<Float>) {
        let (k, s, pad, h, w, ow) = (kernel, stride, padding, height, width, outWidth)
        for c in 0..<channels {
            let plane = image + c * h * w
            for ky in 0..<k {
                for kx in 0..<k {
                    let row = cols + ((c * k + ky) * k + kx) * ld + column0
                    let (lo, hi) = validColumns(kx)
                    for oy in 0..<outHeight {
                        let iy = oy * s - pad + ky
                        if iy < 0 || iy >= h { continue }
                        let src = row + oy * ow
                        let dst = plane + iy * w + (lo * s - pad + kx)
                        for ox in lo..<hi { dst[(ox - lo) * s] += src[ox] }
                    }
                }
            }
        }
    }
}

/// Row-major `C ← alpha·op(A)·op(B) + beta·C` on raw buffers: `op(A)` is `m×k`, `op(B)` is
/// `k×n`, `C` is `m×n`; `lda`, `ldb`, `ldc` are the row lengths of the matrices as stored.
///
/// A row-major matrix is the column-major matrix of its transpose, so this is one column-major
/// `sgemm` computing `Cᵀ = op(B)ᵀ·op(A)ᵀ` (the same trick as `Matrix.gemm`).
@inline(__always)
func sgemmRowMajor(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                   a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                   beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    LinearAlgebra.gemm(transA: transB, transB: transA, m: n, n: m, k: k, alpha: alpha,
                       a: b, lda: max(1, ldb), b: a, ldb: max(1, lda), beta: beta, c: c, ldc: max(1, ldc))
}
