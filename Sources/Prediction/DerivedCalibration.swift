import Foundation
import MLFluxCore

/// Factors on the propagated standard errors of every net flux, exchange flux and ΔG, per
/// class of the measurement σ (noise-aware networks; one class otherwise), fitted on held-out
/// data so that each flux's stated 1σ covers 68.27 % of its errors.
///
/// The kernels carry the free-flux covariance to every flux exactly, but a flux fixed by mass
/// balance as a near-cancelling combination of large free fluxes (glycolysis: TPI, GAPD … PYK
/// from the proton and NADH balances, values ~1 from free fluxes ~1000) needs correlations
/// within 1e-5 of ±1, which no network head states: its propagated σ stays 10–100× its error.
/// `SigmaCalibration` fixes the free fluxes' marginals; this fixes the derived fluxes'. The
/// free-flux covariance itself is left as predicted (`FluxPrediction.freeCovariance`).
public struct DerivedCalibration: Codable, Sendable, Equatable {
    /// Interior edges of the classes of log10 σ, ascending (`c` edges → `c + 1` classes).
    public var sigmaEdges: [Float]
    /// Per class, per reaction.
    public var net: [[Float]]
    public var exchange: [[Float]]
    public var deltaG: [[Float]]

    public init(sigmaEdges: [Float], net: [[Float]], exchange: [[Float]], deltaG: [[Float]]) {
        self.sigmaEdges = sigmaEdges
        self.net = net
        self.exchange = exchange
        self.deltaG = deltaG
    }

    /// A description of what is wrong for a network of `reactions` reactions, or nil.
    public func inconsistency(reactions: Int) -> String? {
        let classes = sigmaEdges.count + 1
        guard net.count == classes, exchange.count == classes, deltaG.count == classes else {
            return "needs one set of factors per σ class (\(classes))"
        }
        guard (net + exchange + deltaG).allSatisfy({ $0.count == reactions }) else { return "needs one factor per reaction (\(reactions))" }
        guard (net + exchange + deltaG).joined().allSatisfy({ $0.isFinite && $0 > 0 }) else { return "factors must be positive" }
        guard sigmaEdges.allSatisfy(\.isFinite), zip(sigmaEdges, sigmaEdges.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            return "σ class edges must be finite and ascending"
        }
        return nil
    }

    func sigmaClass(_ sigma: Float?) -> Int {
        guard !sigmaEdges.isEmpty else { return 0 }
        return SigmaCalibration.bin(log10f(max(sigma ?? 0.01, 1e-12)), sigmaEdges)
    }

    /// `p` with its net, exchange and ΔG standard errors rescaled for measurement σ `sigma`.
    public func apply(_ p: FluxPrediction, sigma: Float?) -> FluxPrediction {
        let c = sigmaClass(sigma)
        var q = p
        for r in q.net.indices {
            q.netSE[r] *= Double(net[c][r])
            q.exchangeSE[r] *= Double(exchange[c][r])
            q.deltaGSE[r] *= Double(deltaG[c][r])
        }
        return q
    }

    /// Fits the factors: rows split into `classes` equal-count classes of log10 σ (one class
    /// without `sigmas`, or when a class would hold under `minimumRows`); each factor is the
    /// 68.27th percentile of |predicted − true| / SE over the class's rows with a finite,
    /// positive SE (1 where there are none: a flux fixed by the constraints).
    public static func fit(predictions: [FluxPrediction], truth: [FluxState], sigmas: [Float]?,
                           classes: Int = 4, minimumRows: Int = 500) -> DerivedCalibration {
        precondition(predictions.count == truth.count)
        let n = predictions.count
        let k = sigmas == nil ? 1 : max(1, min(classes, n / max(minimumRows, 1)))
        let key = sigmas.map { $0.map { log10f(max($0, 1e-12)) } } ?? [Float](repeating: 0, count: n)
        let order = (0..<n).sorted { key[$0] < key[$1] }
        let R = predictions.first?.net.count ?? 0
        var edges: [Float] = [], net: [[Float]] = [], xch: [[Float]] = [], dG: [[Float]] = []
        func factor(_ rows: ArraySlice<Int>, _ value: (Int) -> (Double, Double, Double)) -> Float {
            var z: [Double] = []
            for i in rows {
                let (p, t, se) = value(i)
                if p.isFinite, t.isFinite, se.isFinite, se > 0 { z.append(abs(p - t) / se) }
            }
            guard z.count >= 10 else { return 1 }
            z.sort()
            return Float(max(z[min(z.count - 1, Int(0.6827 * Double(z.count)))], 1e-4))
        }
        for c in 0..<k {
            let rows = order[(c * n / k)..<((c + 1) * n / k)]
            if c > 0, let first = rows.first { edges.append(key[first]) }
            net.append((0..<R).map { r in factor(rows) { (predictions[$0].net[r], truth[$0].net[r], predictions[$0].netSE[r]) } })
            xch.append((0..<R).map { r in factor(rows) { (predictions[$0].exchange[r], truth[$0].exchange[r], predictions[$0].exchangeSE[r]) } })
            dG.append((0..<R).map { r in factor(rows) { i in
                let t = Thermodynamics.deltaG(net: truth[i].net[r], xch: truth[i].exchange[r], temperature: predictions[i].temperature)
                return (predictions[i].deltaG[r], t, predictions[i].deltaGSE[r])
            } })
        }
        return DerivedCalibration(sigmaEdges: edges, net: net, exchange: xch, deltaG: dG)
    }
}
