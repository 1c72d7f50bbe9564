/// Fluxes predicted from labeling data, each with its own standard error.
///
/// Net and exchange vectors are in reaction order (forward = xch + max(net, 0),
/// reverse = xch − min(net, 0)); `deltaG` is in kJ/mol (NaN for one-way reactions).
/// Standard errors are 1σ (half-width of a central 68 % interval).
public struct FluxPrediction: Sendable, Equatable {
    /// Free fluxes θ (order of `FreeFluxBasis.names`) and their standard errors.
    public var free: [Double]
    public var freeSE: [Double]
    /// The covariance of θ (`[count·count]`, row-major) when the predictor states one; the
    /// standard errors of every flux and ΔG were propagated from it.
    public var freeCovariance: [Double]?
    public var net: [Double]
    public var netSE: [Double]
    public var exchange: [Double]
    public var exchangeSE: [Double]
    public var deltaG: [Double]
    public var deltaGSE: [Double]
    /// Temperature (K) used for ΔG.
    public var temperature: Double
    /// The calibrated shape of each free flux's error beyond its SE (nil: Gaussian), from a
    /// predictor that fitted one (`ErrorQuantiles`).
    public var freeErrorQuantiles: ErrorQuantiles? = nil

    /// Expands free fluxes and their standard errors through the kernels (independent
    /// errors: var(v_r) = Σ_k K[r,k]² σ_k²), clamps exchange fluxes at 0, and derives ΔG
    /// with first-order error propagation.
    public init(free: [Double], freeSE: [Double], basis: FreeFluxBasis, network: MetabolicNetwork,
                temperature: Double = Thermodynamics.bodyTemperature) {
        precondition(free.count == basis.count && freeSE.count == basis.count)
        self.init(free: free, freeSE: freeSE, covariance: nil, basis: basis, network: network, temperature: temperature)
    }

    /// Expands free fluxes with the covariance `freeCovariance` of their errors
    /// (`[count·count]`, row-major) through the kernels: net = K_net·θ_net and xch = K_xch·θ_xch
    /// are linear in θ, so var(v_r) = k_rᵀ·Σ·k_r exactly (a flux fixed by mass balance — a
    /// difference of two correlated free fluxes — gets its true error); ΔG to first order,
    /// var(ΔG_r) = g_rᵀ·Σ·g_r with g_r = ∂ΔG/∂net·k_net,r + ∂ΔG/∂xch·k_xch,r (net–exchange
    /// correlations included). Exchange fluxes are clamped at 0.
    public init(free: [Double], freeCovariance: [Double], basis: FreeFluxBasis, network: MetabolicNetwork,
                temperature: Double = Thermodynamics.bodyTemperature) {
        let n = basis.count
        precondition(free.count == n && freeCovariance.count == n * n)
        self.init(free: free, freeSE: (0..<n).map { max(freeCovariance[$0 * n + $0], 0).squareRoot() },
                  covariance: freeCovariance, basis: basis, network: network, temperature: temperature)
    }

    private init(free: [Double], freeSE: [Double], covariance: [Double]?, basis: FreeFluxBasis, network: MetabolicNetwork,
                 temperature: Double) {
        var state = basis.fluxState(free: free)
        let n = basis.count, nNet = basis.freeNet.count, nX = basis.freeExchange.count, R = basis.reactionCount
        var netSE = [Double](repeating: 0, count: R), xchSE = netSE
        var dG = [Double](repeating: .nan, count: R), dGSE = dG
        for r in 0..<R {
            state.exchange[r] = max(state.exchange[r], 0)
            let g = network.isBidirectional[r]
                ? Thermodynamics.deltaGGradient(net: state.net[r], xch: state.exchange[r], temperature: temperature) : nil
            if network.isBidirectional[r] {
                dG[r] = Thermodynamics.deltaG(net: state.net[r], xch: state.exchange[r], temperature: temperature)
            }
            if let covariance {
                // Row r of the full kernels over θ: net uses θ[0..<nNet], exchange θ[nNet...].
                func quad(_ v: [Double]) -> Double {
                    var q = 0.0
                    for i in 0..<n where v[i] != 0 { for j in 0..<n where v[j] != 0 { q += v[i] * covariance[i * n + j] * v[j] } }
                    return max(q, 0)
                }
                var kNet = [Double](repeating: 0, count: n), kX = kNet
                for k in 0..<nNet { kNet[k] = basis.netKernel[r * nNet + k] }
                for k in 0..<nX { kX[nNet + k] = basis.exchangeKernel[r * nX + k] }
                netSE[r] = quad(kNet).squareRoot()
                xchSE[r] = quad(kX).squareRoot()
                if let g { dGSE[r] = quad((0..<n).map { g.dNet * kNet[$0] + g.dXch * kX[$0] }).squareRoot() }
            } else {
                // Independent free fluxes. Terms with a zero kernel entry are skipped: 0 · ∞ (an
                // undetermined free flux the reaction does not depend on) must not make its error NaN.
                var v = 0.0
                for k in 0..<nNet { let c = basis.netKernel[r * nNet + k]; if c != 0 { v += c * c * freeSE[k] * freeSE[k] } }
                netSE[r] = v.squareRoot()
                v = 0
                for k in 0..<nX { let c = basis.exchangeKernel[r * nX + k]; if c != 0 { v += c * c * freeSE[nNet + k] * freeSE[nNet + k] } }
                xchSE[r] = v.squareRoot()
                if let g { dGSE[r] = ((g.dNet * netSE[r]) * (g.dNet * netSE[r]) + (g.dXch * xchSE[r]) * (g.dXch * xchSE[r])).squareRoot() }
            }
        }
        self.free = free
        self.freeSE = freeSE
        self.freeCovariance = covariance
        self.net = state.net
        self.netSE = netSE
        self.exchange = state.exchange
        self.exchangeSE = xchSE
        self.deltaG = dG
        self.deltaGSE = dGSE
        self.temperature = temperature
    }

    public var fluxState: FluxState { FluxState(net: net, exchange: exchange) }
}

/// Maps complete labeling data (a bundle's flattened layout, experiment-major MIDs) to
/// fluxes. Implementations: the ANN predictor, least-squares MFA, hybrids.
public protocol FluxPredictor: Sendable {
    /// Strategy name as used on the command line (`ann`, `mfa`, …).
    var name: String { get }
    /// Predictions for a batch of labeling vectors (each `layout.count` long).
    func predict(_ labeling: [[Double]]) throws -> [FluxPrediction]
    /// `true` when every MID entry of the layout must be measured (no imputer in front).
    var requiresCompleteLabeling: Bool { get }
    /// The prediction for one measurement, which may carry standard deviations and, when
    /// `requiresCompleteLabeling` is `false`, missing entries.
    func predict(measured: MeasuredLabeling) throws -> FluxPrediction
}

extension FluxPredictor {
    public var requiresCompleteLabeling: Bool { true }

    public func predict(measured: MeasuredLabeling) throws -> FluxPrediction {
        guard measured.isComplete else { throw IncompleteLabelingError(predictor: name, measured: measured) }
        return try predict([measured.values])[0]
    }
}

/// A predictor that needs complete labeling got a measurement with missing entries.
public struct IncompleteLabelingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var predictor: String
    /// Number of missing MID entries.
    public var missing: Int
    /// Total MID entries of the layout (0 when unknown).
    public var total: Int
    /// The missing MIDs as "EXPERIMENT METABOLITE" (empty when unknown).
    public var missingMIDs: [String]
    /// Imputers that could fill them (empty when the bundle ships none).
    public var imputers: [String]

    public init(predictor: String, missing: Int, total: Int = 0, missingMIDs: [String] = [], imputers: [String] = []) {
        self.predictor = predictor
        self.missing = missing
        self.total = total
        self.missingMIDs = missingMIDs
        self.imputers = imputers
    }

    /// The error for `measured`: which MIDs are missing, and which imputers could fill them.
    public init(predictor: String, measured: MeasuredLabeling, imputers: [String] = []) {
        let layout = measured.layout
        var mids: [String] = []
        for e in layout.experimentIDs.indices {
            for f in layout.fragmentNames.indices where layout.range(experiment: e, fragment: f).contains(where: { !measured.mask[$0] }) {
                mids.append("\(layout.experimentIDs[e]) \(layout.fragmentNames[f])")
            }
        }
        self.init(predictor: predictor, missing: measured.mask.filter { !$0 }.count, total: layout.count,
                  missingMIDs: mids, imputers: imputers)
    }

    public var description: String {
        var what = total > 0 ? "\(missing) of \(total) MID entries are missing" : "\(missing) MID entries are missing"
        if !missingMIDs.isEmpty {
            let shown = missingMIDs.prefix(4).joined(separator: ", ")
            what += " (\(missingMIDs.count) MID\(missingMIDs.count == 1 ? "" : "s"): \(shown)\(missingMIDs.count > 4 ? ", …" : ""))"
        }
        let fill = imputers.isEmpty ? "--imputer NAME (after `mlflux train imputer`)" : "--imputer \(imputers.joined(separator: "|"))"
        return "the '\(predictor)' predictor needs complete labeling and \(what); fill them with \(fill) or use --predictor mfa, which fits the measured entries only"
    }
}
