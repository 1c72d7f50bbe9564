/// IEEE 754 binary16 storage for Float32 values (`F16` tensors): half the bytes, 11 significant
/// bits (relative rounding error ≤ 2⁻¹¹ ≈ 4.9e-4, absolute ≤ 2.4e-4 on [0, 1]).
///
/// Conversion is written out (round to nearest, ties to even; subnormals, infinities and NaN
/// kept) because Swift's `Float16` type is not available on every platform this builds on.
public enum HalfPrecision {
    /// The binary16 bit pattern nearest to `x`.
    public static func bits(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        let sign = UInt16((b >> 16) & 0x8000)
        let exp = Int((b >> 23) & 0xff), mant = b & 0x7f_ffff
        if exp == 0xff { return sign | 0x7c00 | (mant != 0 ? 0x200 : 0) }          // inf / NaN
        let e = exp - 127 + 15
        if e >= 0x1f { return sign | 0x7c00 }                                     // overflow → inf
        if e <= 0 {                                                                // subnormal or zero
            if e < -10 { return sign }
            let m = mant | 0x80_0000
            let shift = UInt32(14 - e)
            var h = m >> shift
            let rem = m & ((1 << shift) - 1), half = UInt32(1) << (shift - 1)
            if rem > half || (rem == half && h & 1 == 1) { h += 1 }
            return sign | UInt16(h)
        }
        var h = UInt32(e) << 10 | (mant >> 13)
        let rem = mant & 0x1fff
        if rem > 0x1000 || (rem == 0x1000 && h & 1 == 1) { h += 1 }                // may carry into the exponent: fine
        return sign | UInt16(h)
    }

    /// The Float32 value of a binary16 bit pattern (exact).
    public static func value(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1f), mant = UInt32(h & 0x3ff)
        if exp == 0 {
            return Float(bitPattern: sign) + (sign != 0 ? -1 : 1) * Float(mant) * 0x1p-24
        }
        if exp == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }
}

extension SafeTensor {
    /// An `F16` tensor holding `values` rounded to half precision.
    public init(float16 values: [Float], shape: [Int]) {
        self.init(dtype: .F16, shape: shape, bytes: Self.encode(values.map(HalfPrecision.bits)))
    }

    /// Values of an `F16` or `F32` tensor as Float32 (`nil` for another dtype).
    public var floatsWidening: [Float]? {
        switch dtype {
        case .F32: return floats
        case .F16: return Self.decode(bytes, as: UInt16.self).map(HalfPrecision.value)
        default: return nil
        }
    }
}
