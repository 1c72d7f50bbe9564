/// How finely a MID entry is known: σ(x) = `relative`·|x| + `absolute`.
///
/// `float32Storage`: exact simulated MIDs stored as Float32 (rounding ≤ 2⁻²⁴ relative,
/// 6e-8; at least 1e-12 for entries at or near 0). `massSpectrometer`: an absolute 1e-3,
/// typical of GC- and LC-MS fractional abundances.
public struct MIDResolution: Sendable, Equatable {
    public var relative: Double
    public var absolute: Double

    public init(relative: Double, absolute: Double) {
        self.relative = relative
        self.absolute = absolute
    }

    public static let float32Storage = MIDResolution(relative: 6e-8, absolute: 1e-12)
    public static let massSpectrometer = MIDResolution(relative: 0, absolute: 1e-3)

    /// The resolution of an entry with value `x`.
    @inline(__always)
    public func sigma(_ x: Double) -> Double { relative * abs(x) + absolute }
}
