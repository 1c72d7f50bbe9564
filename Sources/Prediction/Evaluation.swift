import Foundation
import MLFluxCore

/// Accuracy of predictions against known fluxes (held-out simulated data).
///
/// Conventions: error = predicted − true. A net flux is "within 5 %" when
/// |error| ≤ 0.05·|true| or |error| ≤ `absoluteFloor` (default 0.005; small fluxes
/// cannot be judged relatively); an exchange flux only when |error| ≤ 0.05·|true|
/// (they span decades down to 1e-4, where an absolute floor would hide every error). Coverage = share of true values inside
/// predicted ± stated 1σ (ideal: 68.3 %). The paper's standard error of a flux is half
/// the width of the central 68 % of its test errors (`testSetSE`).
public struct EvaluationReport: Codable, Sendable {
    public struct Quantity: Codable, Sendable {
        public var name: String
        /// "free", "net", "xch" or "dG".
        public var kind: String
        public var count: Int
        /// Quantiles 5, 25, 50, 75, 95 % of the error (absolute units; kJ/mol for ΔG).
        public var errorQuantiles: [Double]
        /// Quantiles 5, 25, 50, 75, 95 % of the relative error (fluxes only).
        public var relativeErrorQuantiles: [Double]?
        /// Median of |relative error| (fluxes only): ML-Flux's "median error" of a flux.
        public var medianAbsoluteRelativeError: Double?
        /// Share within 5 % (fluxes) or within `dGTolerance` kJ/mol (ΔG).
        public var withinTolerance: Double
        public var r2: Double
        public var slope: Double
        public var coverage68: Double
        public var testSetSE: Double
    }

    public struct Decade: Codable, Sendable {
        public var reaction: String
        public var lower: Double
        public var upper: Double
        public var count: Int
        public var exchangeWithin5: Double
        public var deltaGWithinTolerance: Double
        public var coverage68: Double
    }

    public var samples: Int
    public var quantities: [Quantity]
    public var exchangeByDecade: [Decade]
    /// Share of states whose every net flux (but those in `excludedFromAllNet`) is within 5 % (or the absolute floor).
    public var allNetWithin5: Double
    public var excludedFromAllNet: [String]
    /// Share of states whose every ΔG is within `dGTolerance`.
    public var allDeltaGWithinTolerance: Double
    public var dGTolerance: Double
    /// Reduced χ² test of the free fluxes (VSSR with the stated SEs, α = 0.05).
    public var chiSquaredDOF: Int
    public var chiSquaredCritical: Double
    public var chiSquaredPass: Double
    /// Overall coverage of the stated 1σ over all non-fixed free fluxes.
    public var coverage68: Double
    /// Simulation-based calibration per non-fixed free flux: the rank histogram of the truth
    /// under each prediction's distribution (its Gaussian, exchange fluxes in log10, or the
    /// calibrated shape `FluxPrediction.freeErrorQuantiles`) and its uniformity test.
    public var rankHistograms: [RankCalibration.Histogram] = []
}

public enum Evaluation {
    public static func evaluate(predictions: [FluxPrediction], truth: [FluxState], truthFree: [[Double]],
                                basis: FreeFluxBasis, network: MetabolicNetwork,
                                absoluteFloor: Double = 0.005, dGTolerance: Double = 1,
                                temperature: Double = Thermodynamics.bodyTemperature,
                                excludeFromAllNet: Set<String> = []) -> EvaluationReport {
        precondition(predictions.count == truth.count && truth.count == truthFree.count)
        let n = predictions.count
        let R = network.reactions.count
        func within5(_ p: Double, _ t: Double) -> Bool { abs(p - t) <= max(0.05 * abs(t), absoluteFloor) }
        // Exchange fluxes span decades down to 1e-4: judged relatively only.
        func within5Relative(_ p: Double, _ t: Double) -> Bool { abs(p - t) <= 0.05 * abs(t) }
        var quantities: [EvaluationReport.Quantity] = []
        /// `covered(i)`: whether row i's stated 1σ interval holds the truth (default: |p − t| ≤ SE).
        func stats(_ name: String, _ kind: String, _ p: [Double], _ t: [Double], _ se: [Double], relative: Bool,
                   ok: (Double, Double) -> Bool, covered: ((Int) -> Bool)? = nil) -> EvaluationReport.Quantity {
            let keep = p.indices.filter { p[$0].isFinite && t[$0].isFinite }
            let err = keep.map { p[$0] - t[$0] }
            let rel = relative ? keep.compactMap { t[$0] != 0 ? (p[$0] - t[$0]) / abs(t[$0]) : nil } : nil
            let inside = keep.filter { covered?($0) ?? (abs(p[$0] - t[$0]) <= se[$0]) }.count
            let q = quantiles(err, [0.05, 0.25, 0.5, 0.75, 0.95])
            let central = quantiles(err, [0.16, 0.84])
            return .init(name: name, kind: kind, count: keep.count, errorQuantiles: q,
                         relativeErrorQuantiles: rel.map { quantiles($0, [0.05, 0.25, 0.5, 0.75, 0.95]) },
                         medianAbsoluteRelativeError: rel.map { quantiles($0.map(abs), [0.5])[0] },
                         withinTolerance: share(keep.filter { ok(p[$0], t[$0]) }.count, keep.count),
                         r2: rSquared(keep.map { p[$0] }, keep.map { t[$0] }),
                         slope: slope(keep.map { p[$0] }, keep.map { t[$0] }),
                         coverage68: share(inside, keep.count),
                         testSetSE: central.count == 2 ? (central[1] - central[0]) / 2 : .nan)
        }
        var coveredFree = 0, countedFree = 0
        var ranks: [RankCalibration.Histogram] = []
        for k in 0..<basis.count where basis.fixed[k] == nil {
            let p = predictions.map { $0.free[k] }, t = truthFree.map { $0[k] }, se = predictions.map { $0.freeSE[k] }
            // u = Φ(z) of the standardised error (net fluxes as they are, exchange fluxes in log10),
            // or F̂(z) where the prediction carries a calibrated shape (`ErrorQuantiles`).
            ranks.append(RankCalibration.histogram(name: basis.names[k], ranks: (0..<n).map {
                predictions[$0].rank(free: k, truth: t[$0], basis: basis)
            }))
            // The stated 1σ interval of a free flux is that of its standardised error: p ± SE for a
            // net flux, p·10^(±SE/(p·ln 10)) for an exchange flux (its Gaussian in log10, which
            // the σ factors calibrate); read symmetrically in flux units it would cover 50–57 %
            // for exchange fluxes whose errors span a decade.
            let inside = (0..<n).map { abs(predictions[$0].standardizedError(free: k, truth: t[$0], basis: basis)) <= 1 }
            quantities.append(stats(basis.names[k], "free", p, t, se, relative: true,
                                    ok: k < basis.freeNet.count ? within5 : within5Relative, covered: { inside[$0] }))
            for i in 0..<n where p[i].isFinite && t[i].isFinite { countedFree += 1; if inside[i] { coveredFree += 1 } }
        }
        for r in 0..<R {
            let id = network.reactions[r].id
            quantities.append(stats(id, "net", predictions.map { $0.net[r] }, truth.map { $0.net[r] },
                                    predictions.map { $0.netSE[r] }, relative: true, ok: within5))
        }
        var dGTrue = [[Double]](repeating: [], count: R)
        for r in 0..<R where network.isBidirectional[r] {
            let id = network.reactions[r].id
            quantities.append(stats(id, "xch", predictions.map { $0.exchange[r] }, truth.map { $0.exchange[r] },
                                    predictions.map { $0.exchangeSE[r] }, relative: true, ok: within5Relative))
            dGTrue[r] = truth.map { Thermodynamics.deltaG(net: $0.net[r], xch: $0.exchange[r], temperature: temperature) }
            quantities.append(stats(id, "dG", predictions.map { $0.deltaG[r] }, dGTrue[r],
                                    predictions.map { $0.deltaGSE[r] }, relative: false,
                                    ok: { abs($0 - $1) <= dGTolerance }))
        }
        // Exchange fluxes by decade of the true value.
        var decades: [EvaluationReport.Decade] = []
        for r in 0..<R where network.isBidirectional[r] {
            let t = truth.map { $0.exchange[r] }
            guard let maxT = t.max(), maxT > 0 else { continue }
            var lo = 1e-4
            while lo < maxT {
                let hi = lo * 10
                let idx = (0..<n).filter { t[$0] >= lo && t[$0] < hi }
                if !idx.isEmpty {
                    decades.append(.init(
                        reaction: network.reactions[r].id, lower: lo, upper: hi, count: idx.count,
                        exchangeWithin5: share(idx.filter { within5Relative(predictions[$0].exchange[r], t[$0]) }.count, idx.count),
                        deltaGWithinTolerance: share(idx.filter {
                            abs(predictions[$0].deltaG[r] - dGTrue[r][$0]) <= dGTolerance }.count, idx.count),
                        coverage68: share(idx.filter {
                            abs(predictions[$0].exchange[r] - t[$0]) <= predictions[$0].exchangeSE[r] }.count, idx.count)))
                }
                lo = hi
            }
        }
        let judged = (0..<R).filter { !excludeFromAllNet.contains(network.reactions[$0].id) }
        let allNet = (0..<n).filter { i in judged.allSatisfy { within5(predictions[i].net[$0], truth[i].net[$0]) } }.count
        let bidirectional = (0..<R).filter { network.isBidirectional[$0] }
        let allDG = (0..<n).filter { i in bidirectional.allSatisfy {
            let t = dGTrue[$0][i], p = predictions[i].deltaG[$0]
            return (t.isInfinite && p == t) || abs(p - t) <= dGTolerance } }.count
        let free = (0..<basis.count).filter { basis.fixed[$0] == nil }
        let critical = ChiSquared.quantile(0.95, dof: max(free.count, 1))
        let pass = (0..<n).filter { i in
            free.reduce(0.0) { acc, k in
                let z = (predictions[i].free[k] - truthFree[i][k]) / max(predictions[i].freeSE[k], 1e-300)
                return acc + z * z
            } < critical
        }.count
        return EvaluationReport(samples: n, quantities: quantities, exchangeByDecade: decades,
                                allNetWithin5: share(allNet, n), excludedFromAllNet: excludeFromAllNet.sorted(),
                                allDeltaGWithinTolerance: share(allDG, n),
                                dGTolerance: dGTolerance, chiSquaredDOF: free.count, chiSquaredCritical: critical,
                                chiSquaredPass: share(pass, n), coverage68: share(coveredFree, countedFree), rankHistograms: ranks)
    }

    static func share(_ a: Int, _ b: Int) -> Double { b == 0 ? .nan : Double(a) / Double(b) }

    /// Linear-interpolated quantiles (type 7) of `x`.
    public static func quantiles(_ x: [Double], _ ps: [Double]) -> [Double] {
        let s = x.filter(\.isFinite).sorted()
        guard !s.isEmpty else { return ps.map { _ in .nan } }
        return ps.map { p in
            let h = Double(s.count - 1) * p
            let i = Int(h), f = h - Double(i)
            return i + 1 < s.count ? s[i] + f * (s[i + 1] - s[i]) : s[i]
        }
    }

    /// Coefficient of determination of predictions `p` for truths `t`: 1 − SS_res / SS_tot.
    public static func rSquared(_ p: [Double], _ t: [Double]) -> Double {
        guard !t.isEmpty else { return .nan }
        let mean = t.reduce(0, +) / Double(t.count)
        let ssTot = t.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let ssRes = zip(p, t).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return ssTot > 0 ? 1 - ssRes / ssTot : .nan
    }

    /// Least-squares slope of predicted on true.
    public static func slope(_ p: [Double], _ t: [Double]) -> Double {
        guard t.count > 1 else { return .nan }
        let mt = t.reduce(0, +) / Double(t.count), mp = p.reduce(0, +) / Double(p.count)
        var sxy = 0.0, sxx = 0.0
        for (a, b) in zip(p, t) { sxy += (b - mt) * (a - mp); sxx += (b - mt) * (b - mt) }
        return sxx > 0 ? sxy / sxx : .nan
    }
}
