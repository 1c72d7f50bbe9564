/// The 1σ half-width of a parameter the data do not determine better than its bounds.
///
/// A least-squares estimate `value` of a parameter whose likelihood is flat over its bounds
/// `[lower, upper]` (or whose linearised 1σ interval holds more of them than 68.27 %) is only
/// known to lie inside them; where inside is the noise's choice, often a bound. The stated
/// interval `value ± h` is then the one that holds 68.27 % of the bound range — calibrated
/// when the truth is anywhere in the bounds, independently of where the estimate sits:
/// h = 0.3413·range at the centre, growing to 0.6827·range at a bound. (The SD of a uniform
/// distribution, range/√12 = 0.289·range, holds 57.7 % at the centre and 28.9 % at a bound:
/// least squares on glycolysis at σ 0.01 put the unresolved effluxes at their bounds and
/// covered their truth 15–38 % of the time with it.) `LeastSquaresMFA.boundsPrior` keeps the
/// uniform SD on purpose: it is a prior centred at a known truth for the information bound,
/// not an interval around an estimate.
public enum BoundedHalfWidth {
    /// The share of the bound range the interval holds (that of ±1σ of a Gaussian).
    public static let share = 0.682_689_492_137_085_9

    /// `h` with `|[value − h, value + h] ∩ [lower, upper]| = share·(upper − lower)`; ∞ when a
    /// bound is open, 0 for a fixed parameter. `value` outside the bounds counts as on the nearer one.
    public static func halfWidth(value: Double, lower: Double, upper: Double) -> Double {
        let range = upper - lower
        guard range.isFinite else { return .infinity }
        guard range > 0 else { return 0 }
        let x = min(max(value, lower), upper)
        let target = share * range
        let near = min(x - lower, upper - x)
        return max(target / 2, target - near)
    }
}
