/// Nearest-neighbour 2× upsampling of an NCHW tensor: `[N, C, H, W] → [N, C, 2H, 2W]`,
/// `y[n, c, y, x] = x[n, c, ⌊y/2⌋, ⌊x/2⌋]`. Masks upsample the same way.
///
/// Backward sums each 2×2 block of `∂L/∂y` onto the cell it was copied from.
public enum NearestUpsampling2x {
    /// `[N, C, H, W] → [N, C, 2H, 2W]`.
    /// - Complexity: `O(4·N·C·H·W)`.
    public static func forward(_ x: Tensor4) -> Tensor4 {
        let (h, w) = (x.height, x.width)
        var out = Tensor4(batch: x.batch, channels: x.channels, height: 2 * h, width: 2 * w)
        x.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for plane in 0..<(x.batch * x.channels) {
                    let s = src.baseAddress! + plane * h * w, d = dst.baseAddress! + plane * 4 * h * w
                    for y in 0..<h {
                        let r0 = d + (2 * y) * (2 * w), r1 = r0 + 2 * w
                        for xx in 0..<w {
                            let v = s[y * w + xx]
                            r0[2 * xx] = v; r0[2 * xx + 1] = v
                            r1[2 * xx] = v; r1[2 * xx + 1] = v
                        }
                    }
                }
            }
        }
        return out
    }

    /// `∂L/∂x` from `∂L/∂y`: `[N, C, 2H, 2W] → [N, C, H, W]`, each 2×2 block summed.
    public static func backward(_ g: Tensor4) -> Tensor4 {
        precondition(g.height % 2 == 0 && g.width % 2 == 0, "an upsampled gradient has even height and width, got \(g.shape)")
        let (h, w) = (g.height / 2, g.width / 2)
        var out = Tensor4(batch: g.batch, channels: g.channels, height: h, width: w)
        for plane in 0..<(g.batch * g.channels) {
            let s = plane * 4 * h * w, d = plane * h * w
            for y in 0..<h {
                for x in 0..<w {
                    let a = s + 2 * y * 2 * w + 2 * x
                    out.storage[d + y * w + x] = g.storage[a] + g.storage[a + 1] + g.storage[a + 2 * w] + g.storage[a + 2 * w + 1]
                }
            }
        }
        return out
    }
}
