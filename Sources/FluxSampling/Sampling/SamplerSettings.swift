import MLFluxCore

/// How `FluxSpaceSampler` draws the free fluxes θ = [θ_net…, θ_xch…] of a `FreeFluxBasis`.
///
/// Net and exchange fluxes never share a constraint, so they are sampled independently:
/// the net part from its polytope (uniform rejection or artificial centering hit-and-run),
/// the exchange part coordinate by coordinate between its bounds (uniform, log-uniform or
/// log-normal). See `Guides/Sampling.md`.
public struct SamplerSettings: Codable, Sendable, Hashable {
    /// How the free net fluxes are drawn; both aim at the uniform distribution on the net polytope.
    public enum NetMethod: String, Codable, Sendable, CaseIterable {
        /// Rejection sampling in the polytope's bounding box: exact and independent draws,
        /// but the acceptance rate falls roughly geometrically with the dimension.
        case uniform
        /// Artificial centering hit-and-run (Kaufman & Smith 1998; COBRA Toolbox ACHR).
        case hitAndRun = "hit-and-run"
    }

    /// How each free exchange flux is drawn between its bounds `[lb, ub]`.
    public enum ExchangeMethod: String, Codable, Sendable, CaseIterable {
        /// Uniform in `[lb, ub]`.
        case uniform
        /// `log10(xch)` uniform in `[log10 max(lb, exchangeFloor), log10 ub]`: every decade
        /// between the floor and the upper bound gets the same share.
        case logUniform = "log-uniform"
        /// `log10(xch)` normal with median `logNormalMedian` and standard deviation
        /// `logNormalSigmaDecades`, truncated to `[log10 max(lb, exchangeFloor), log10 ub]`.
        case logNormal = "log-normal"
        /// Each exchange flux of each state independently uniform or log-uniform (one half
        /// each): training data then holds slow exchange next to fast exchange elsewhere in
        /// the network — states neither pure sampling produces often.
        case mixed
    }

    public var net: NetMethod
    public var exchange: ExchangeMethod
    /// Lower end (flux units) of log sampling when an exchange flux's lower bound is below it (usually 0).
    public var exchangeFloor: Double
    /// Median (flux units) of the log-normal exchange distribution.
    public var logNormalMedian: Double
    /// Standard deviation of `log10(xch)` for `.logNormal`, in decades.
    public var logNormalSigmaDecades: Double
    /// Hit-and-run steps between kept points; `0` means 2 × the polytope's dimension.
    public var thinning: Int
    /// Hit-and-run steps discarded at the start of every `sample` call; `0` means 100 × the dimension.
    public var burnIn: Int

    /// - Parameters: see the properties. `thinning` and `burnIn` of 0 are resolved by the
    ///   sampler from the dimension of the net polytope (after its equalities).
    public init(net: NetMethod = .hitAndRun, exchange: ExchangeMethod = .logUniform,
                exchangeFloor: Double = 1e-4, logNormalMedian: Double = 1, logNormalSigmaDecades: Double = 1,
                thinning: Int = 0, burnIn: Int = 0) {
        self.net = net
        self.exchange = exchange
        self.exchangeFloor = exchangeFloor
        self.logNormalMedian = logNormalMedian
        self.logNormalSigmaDecades = logNormalSigmaDecades
        self.thinning = thinning
        self.burnIn = burnIn
    }

    /// Defaults for a basis: `.uniform` net sampling for at most 3 free, non-fixed net
    /// fluxes (rejection stays efficient), `.hitAndRun` above; log-uniform exchange fluxes;
    /// thinning 2 × and burn-in 100 × the number of free, non-fixed net fluxes.
    public static func automatic(for basis: FreeFluxBasis) -> SamplerSettings {
        let dimension = (0..<basis.freeNet.count).filter { basis.fixed[$0] == nil }.count
        return SamplerSettings(net: dimension <= 3 ? .uniform : .hitAndRun,
                               thinning: 2 * max(dimension, 1), burnIn: 100 * max(dimension, 1))
    }
}
