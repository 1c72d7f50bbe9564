import Dispatch
import Foundation
import LinearAlgebra
import MLFluxCore

/// A net or exchange flux of one reaction, the quantity of a confidence interval
/// (`"v3.net"`, `"v2.xch"`).
public struct ProfiledFlux: Hashable, Sendable {
    public enum Kind: String, Sendable, Codable { case net, xch }
    public var reaction: Int
    public var kind: Kind

    public init(reaction: Int, kind: Kind) {
        self.reaction = reaction
        self.kind = kind
    }

    /// `REACTION.net` or `REACTION.xch` (exchange fluxes of bidirectional reactions only);
    /// nil for anything else.
    public init?(_ name: String, network: MetabolicNetwork) {
        let kind: Kind
        if name.hasSuffix(".net") { kind = .net } else if name.hasSuffix(".xch") { kind = .xch } else { return nil }
        guard let r = network.reactionIndex[String(name.dropLast(4))],
              kind == .net || network.isBidirectional[r] else { return nil }
        self.init(reaction: r, kind: kind)
    }

    /// Every net flux and every exchange flux of a bidirectional reaction, in reaction order.
    public static func all(in network: MetabolicNetwork) -> [ProfiledFlux] {
        network.reactions.indices.flatMap { r in
            [ProfiledFlux(reaction: r, kind: .net)] + (network.isBidirectional[r] ? [ProfiledFlux(reaction: r, kind: .xch)] : [])
        }
    }

    public func name(in network: MetabolicNetwork) -> String { network.reactions[reaction].id + "." + kind.rawValue }
}

/// 95 % confidence intervals of one flux: linearised (value ± 1.96·SE from the covariance
/// (JᵀJ)⁻¹ at the fit) and profile likelihood ({q : min_{θ: q(θ)=q} objective ≤ minimum + χ²₁(0.95)}),
/// both clipped to the flux's feasible range under the network's constraints and the bounds.
public struct FluxInterval: Sendable, Equatable {
    public var flux: ProfiledFlux
    /// `REACTION.net` / `REACTION.xch`.
    public var name: String
    /// The flux at the fit.
    public var value: Double
    /// Where the constraints and the free-flux bounds let the flux go.
    public var range: ClosedRange<Double>
    /// Linearised standard error (infinity when the data do not determine the flux).
    public var standardError: Double
    /// value ± 1.96·SE clipped to `range`; the whole range when SE is infinite.
    public var linearised: ClosedRange<Double>
    /// The profile-likelihood interval; nil when this flux is not profiled (an exchange flux
    /// that is not a free exchange flux of the basis).
    public var profile: ClosedRange<Double>?
    /// The profile stays below the threshold down to (up to) the end of `range`: that end
    /// of the interval is a bound, not a data-determined limit.
    public var reachesLower: Bool
    public var reachesUpper: Bool
    /// The objective's minimum along the profile when it lies below the fit's (by more than
    /// 1e-6 relative): the fit was not the global minimum and the interval is too wide.
    public var lowerMinimum: Double?
    /// Constrained re-fits the profile took.
    public var refits: Int
    public var seconds: Double

    /// Both ends on bounds: the data do not determine this flux.
    public var undetermined: Bool { reachesLower && reachesUpper }
    /// The linearised interval says nothing (infinite SE).
    public var linearisedUndetermined: Bool { !standardError.isFinite }
    /// The constraints alone fix the flux (its range is a point).
    public var fixedByConstraints: Bool { range.upperBound - range.lowerBound <= 1e-12 * max(1, abs(value)) }
}

/// A 95 % interval of a reaction's ΔG (kJ/mol), from its flux intervals.
public struct DeltaGInterval: Sendable, Equatable {
    public var reaction: Int
    public var value: Double
    /// ΔG ± 1.96·SE (first-order propagation of the flux SEs).
    public var linearised: ClosedRange<Double>
    /// ΔG over the box [net interval] × [exchange profile interval] (the net flux held at its
    /// estimate when its own interval was not computed): ΔG = RT ln(v_rev/v_fwd) is monotone in
    /// each, so the extremes lie at corners. An approximation: the profile of ΔG itself would
    /// take the joint confidence region of (net, xch), not the box of the two marginal intervals.
    public var profile: ClosedRange<Double>
    /// An end that comes from an exchange interval end on a bound (ΔG → 0 at a large
    /// exchange flux, → ±∞ at a vanishing one): not determined by the data.
    public var reachesLower: Bool
    public var reachesUpper: Bool
}

extension LeastSquaresMFA {
    /// Intervals of several fluxes and the ΔG of the reactions whose exchange flux is among them.
    public struct ProfileResult: Sendable {
        public var fluxes: [FluxInterval]
        public var deltaG: [DeltaGInterval]
    }

    /// The level of the profile: χ²(1 dof) 0.95 quantile, 3.84.
    public static let profileThreshold = ChiSquared.quantile(0.95, dof: 1)

    /// 95 % linearised and profile-likelihood intervals of `fluxes` around `fit` (a result of
    /// this model's `fit`), one flux per worker on `threads` threads (default: `self.threads`).
    ///
    /// The profile of a flux q steps q away from the fit in both directions, each point a
    /// constrained Levenberg–Marquardt re-fit with q pinned by an equality constraint, warm
    /// started at the previous point (net fluxes: steps in q; exchange fluxes: steps in log10 q).
    /// Step sizes adapt to the profile's curvature (aiming just past the threshold); once a
    /// point crosses objective_min + 3.84 the crossing is found by regula falsi on √Δobjective
    /// (to 0.5 % of the threshold). A profile that stays below the threshold up to the end of
    /// the flux's feasible range ends there with `reachesLower`/`reachesUpper`. The objective
    /// is the one the fit minimised: the VSSR, plus the prior's terms when the fit had one.
    ///
    /// Net fluxes (free or dependent: linear in θ) and free exchange fluxes are profiled;
    /// a dependent exchange flux (a combination of several free exchange fluxes, nonlinear
    /// in the log10 parameters) gets its linearised interval only (`profile == nil`).
    public func profile(_ fit: Fit, fluxes: [ProfiledFlux], threads: Int? = nil) -> ProfileResult {
        guard let problem = fit.problem else { return ProfileResult(fluxes: [], deltaG: []) }
        let p0 = params(fit.prediction.free, dilution: fit.dilution.map(\.value))
        let at = evaluate(p0, problem, jacobian: true, information: true)
        let jacobian = at.map { ($0.J, $0.r.count) }
        let cost0 = at.map { $0.r.reduce(0) { $0 + $1 * $1 } } ?? .infinity
        let results = ParallelRows.map(count: fluxes.count, threads: threads ?? self.threads) { i in
            interval(of: fluxes[i], fit: fit, problem: problem, p0: p0, cost0: cost0, jacobian: jacobian)
        }
        let intervals = results.map { try! $0.get() }
        return ProfileResult(fluxes: intervals, deltaG: deltaGIntervals(intervals, prediction: fit.prediction))
    }

    /// Free exchange parameter and coefficient for the exchange flux of `reaction` when it is
    /// one free exchange flux times c > 0 (profiled in log10 directly), else nil.
    private func freeExchangeParameter(of reaction: Int) -> (index: Int, coefficient: Double)? {
        let nf = basis.freeNet.count, xf = basis.freeExchange.count
        let row = (0..<xf).filter { basis.exchangeKernel[reaction * xf + $0] != 0 && basis.fixed[nf + $0] == nil }
        guard row.count == 1, let i = parameters.firstIndex(of: nf + row[0]) else { return nil }
        let c = basis.exchangeKernel[reaction * xf + row[0]]
        let others = (0..<xf).contains { $0 != row[0] && basis.exchangeKernel[reaction * xf + $0] != 0 }
        return c > 0 && !others ? (i, c) : nil
    }

    /// The flux as a linear function of θ: coefficients over θ.
    private func coefficients(of flux: ProfiledFlux) -> [Double] {
        let nf = basis.freeNet.count, xf = basis.freeExchange.count
        var a = [Double](repeating: 0, count: basis.count)
        switch flux.kind {
        case .net: for k in 0..<nf { a[k] = basis.netKernel[flux.reaction * nf + k] }
        case .xch: for k in 0..<xf { a[nf + k] = basis.exchangeKernel[flux.reaction * xf + k] }
        }
        return a
    }

    /// The linearised standard error of the linear function g·p of the parameters:
    /// √(gᵀ (JᵀJ)⁺ g) = ‖z‖ for the minimum-norm z with Jᵀz = g (SVD, singular values below
    /// 1e-10 of the largest dropped); infinity when g has a part in the null space of J (the
    /// data do not determine it), so unresolved directions elsewhere do not leak into it.
    private func linearisedSE(_ g: [Double], jacobian J: [Double], rows m: Int) -> Double {
        let P = g.count
        guard P > 0, m > 0 else { return .infinity }
        var a = [Double](repeating: 0, count: P * m)   // Jᵀ: P × m column-major
        for i in 0..<m { for c in 0..<P { a[c + P * i] = J[i + m * c] } }
        let jt = a
        var b = [Double](repeating: 0, count: max(P, m))
        for c in 0..<P { b[c] = g[c] }
        guard LinearAlgebra.leastSquares(m: P, n: m, nrhs: 1, a: &a, b: &b, rcond: 1e-10) != nil else { return .infinity }
        let z = Array(b[0..<m])
        var residual = 0.0
        for c in 0..<P {
            var v = -g[c]
            for i in 0..<m { v += jt[c + P * i] * z[i] }
            residual += v * v
        }
        let norm = g.reduce(0) { $0 + $1 * $1 }
        guard residual <= 1e-12 * norm else { return .infinity }
        return z.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    private func interval(of flux: ProfiledFlux, fit: Fit, problem: Problem, p0: [Double], cost0: Double,
                          jacobian: ([Double], Int)?) -> FluxInterval {
        let clock = DispatchTime.now().uptimeNanoseconds
        let a = coefficients(of: flux)
        let t0 = theta(p0)
        let q0 = zip(a, t0).reduce(0) { $0 + $1.0 * $1.1 }
        let name = flux.name(in: network)
        // Gradient of q in parameter space.
        let grad = parameters.map { a[$0] * chain($0, t0) } + [Double](repeating: 0, count: dilutionCount)
        var se = jacobian.map { linearisedSE(grad, jacobian: $0.0, rows: $0.1) } ?? .infinity
        if grad.allSatisfy({ $0 == 0 }) { se = 0 }
        let exchangeParameter = flux.kind == .xch ? freeExchangeParameter(of: flux.reaction) : nil
        let profiled = flux.kind == .net || exchangeParameter != nil

        // Coordinates of the profile: u = q (net), u = log10 q (free exchange).
        let logScale = exchangeParameter != nil
        let floorQ = exchangeParameter.map { exchangeFloor * $0.coefficient } ?? 0
        func toQ(_ u: Double) -> Double { logScale ? pow10(u) : u }
        func toU(_ q: Double) -> Double { logScale ? log10(max(q, floorQ)) : q }
        var pinnedModel = self
        pinnedModel.threads = 1
        /// A feasible parameter vector with q = toQ(u), from `p`, or nil.
        func start(_ u: Double, from p: [Double]) -> (LeastSquaresMFA, [Double])? {
            var model = pinnedModel
            model.pinned = [FreeFluxConstraint(coefficients: a, relation: .equal, constant: toQ(u), origin: "profile: \(name)")]
            var s = p
            if let e = exchangeParameter { s[e.index] = u - log10(e.coefficient) }
            guard let q = model.project(s) else { return nil }
            return (model, q)
        }

        // Feasible range: the box of the parameters, narrowed by bisection on feasibility
        // (profiled fluxes; a dependent exchange flux keeps the box, cut at 0).
        let u0 = toU(q0)
        var range = q0...q0
        if grad.contains(where: { $0 != 0 }) {
            let pb = paramBounds
            var ends: [Double] = []
            for s in [-1.0, 1.0] {
                // The box's extreme of q.
                var extreme = 0.0
                for k in 0..<basis.count {
                    if let v = basis.fixed[k] { extreme += a[k] * v; continue }
                    guard let i = parameters.firstIndex(of: k) else { continue }
                    let lo = isExchangeParameter(k) ? pow10(pb[i].0) : pb[i].0
                    let hi = isExchangeParameter(k) ? pow10(pb[i].1) : pb[i].1
                    extreme += s * a[k] > 0 ? a[k] * hi : a[k] * lo
                }
                guard profiled else { ends.append(flux.kind == .xch ? max(extreme, 0) : extreme); continue }
                var inside = u0, outside = toU(extreme)
                if start(outside, from: p0) != nil { ends.append(toQ(outside)); continue }
                for _ in 0..<60 where abs(outside - inside) > 1e-12 * max(1, abs(inside)) {
                    let mid = (inside + outside) / 2
                    if start(mid, from: p0) != nil { inside = mid } else { outside = mid }
                }
                ends.append(toQ(inside))
            }
            range = min(ends[0], q0)...max(ends[1], q0)
        }

        func clip(_ x: Double) -> Double { min(max(x, range.lowerBound), range.upperBound) }
        let width = range.upperBound - range.lowerBound
        if !(se < width) && width > 0 { se = .infinity }
        let linearised = se.isFinite ? clip(q0 - 1.96 * se)...clip(q0 + 1.96 * se) : range
        var result = FluxInterval(flux: flux, name: name, value: q0, range: range, standardError: se, linearised: linearised,
                                  profile: nil, reachesLower: false, reachesUpper: false, lowerMinimum: nil, refits: 0, seconds: 0)
        guard profiled || result.fixedByConstraints else {
            result.reachesLower = !se.isFinite
            result.reachesUpper = !se.isFinite
            result.seconds = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9
            return result
        }
        if result.fixedByConstraints || !cost0.isFinite {
            result.profile = range
            result.seconds = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9
            return result
        }

        let threshold = Self.profileThreshold
        var refits = 0
        var lowest = cost0
        /// The profile's Δobjective at u, re-fitted from `p`: (Δ, parameters) or nil.
        func refit(_ u: Double, from p: [Double]) -> (Double, [Double])? {
            guard let (model, s) = start(u, from: p) else { return nil }
            refits += 1
            guard let d = model.constrainedDescent(from: s, problem, sigmaFloor: 0) else { return nil }
            lowest = min(lowest, d.cost)
            return (d.cost - cost0, d.p)
        }
        // Initial step in u from the linearised SE.
        let seU: Double = logScale ? se / (max(q0, floorQ) * 2.302_585_092_994_046) : se
        var ends: [(Double, Bool)] = []
        for s in [-1.0, 1.0] {
            let boundU = toU(s < 0 ? range.lowerBound : range.upperBound)
            let span = abs(boundU - u0)
            if span <= 1e-12 * max(1, abs(u0)) { ends.append((toQ(boundU), true)); continue }
            var h = seU.isFinite && seU > 0 ? min(seU, span) : span / 8
            if logScale { h = min(max(h, 0.01), 0.5, span) }
            h = max(h, span * 1e-6)
            var prevU = u0, prevD = 0.0, prevP = p0
            var end: (Double, Bool)?
            var failures = 0
            for _ in 0..<60 {
                var target = prevU + s * h
                let atBound = s * (target - boundU) >= 0
                if atBound { target = boundU }
                guard let (d, p) = refit(target, from: prevP) else {
                    // No valid flux state there: shorter steps; after several, treat the last point as the end.
                    failures += 1
                    h /= 4
                    if failures > 6 { end = (toQ(prevU), true); break }
                    continue
                }
                if d >= threshold {
                    // Bracketed: regula falsi (Illinois) on √Δ − √threshold, warm from the inner point.
                    var uIn = prevU, fIn = max(prevD, 0).squareRoot() - threshold.squareRoot()
                    var uOut = target, fOut = d.squareRoot() - threshold.squareRoot()
                    var pIn = prevP
                    var side = 0
                    for _ in 0..<20 {
                        if abs(uOut - uIn) <= 1e-6 * max(abs(uOut - u0), 1e-12) { break }
                        var u = uIn + fIn * (uIn - uOut) / (fOut - fIn)
                        if !(u.isFinite) || s * (u - uIn) <= 0 || s * (u - uOut) >= 0 { u = (uIn + uOut) / 2 }
                        guard let (dm, pm) = refit(u, from: pIn) else { uOut = u; fOut = 0; break }
                        let f = max(dm, 0).squareRoot() - threshold.squareRoot()
                        if abs(dm - threshold) <= 0.005 * threshold { uIn = u; uOut = u; break }
                        if f < 0 {
                            uIn = u; fIn = f; pIn = pm
                            if side == -1 { fOut /= 2 }
                            side = -1
                        } else {
                            uOut = u; fOut = f
                            if side == 1 { fIn /= 2 }
                            side = 1
                        }
                    }
                    end = (toQ((uIn + uOut) / 2), false)
                    break
                }
                if atBound { end = (toQ(boundU), true); break }
                // Next step: aim 20 % past the threshold as the quadratic model predicts it.
                let dist = abs(target - u0)
                if d > 0.01 {
                    let predicted = dist * (threshold / d).squareRoot()
                    h = min(max(1.2 * predicted - dist, h / 2), 4 * h)
                } else {
                    h *= 4
                }
                prevU = target; prevD = d; prevP = p
            }
            ends.append(end ?? (toQ(prevU), true))   // out of steps: conservative, treated as unresolved → bound-like
        }
        result.profile = min(ends[0].0, q0)...max(ends[1].0, q0)
        result.reachesLower = ends[0].1
        result.reachesUpper = ends[1].1
        result.refits = refits
        if lowest < cost0 - 1e-6 * max(cost0, 1) { result.lowerMinimum = lowest }
        result.seconds = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9
        return result
    }

    private func isExchangeParameter(_ k: Int) -> Bool { k >= basis.freeNet.count }

    /// ΔG intervals of the reactions whose exchange flux was profiled (see `DeltaGInterval`).
    private func deltaGIntervals(_ intervals: [FluxInterval], prediction: FluxPrediction) -> [DeltaGInterval] {
        var out: [DeltaGInterval] = []
        for x in intervals where x.flux.kind == .xch {
            let r = x.flux.reaction
            guard let xp = x.profile else { continue }
            let netInterval = intervals.first { $0.flux == ProfiledFlux(reaction: r, kind: .net) }?.profile
            let nets = netInterval.map { [$0.lowerBound, $0.upperBound] } ?? [prediction.net[r]]
            var lo = Double.infinity, hi = -Double.infinity
            var loFromBound = false, hiFromBound = false
            for n in nets {
                for (xv, onBound) in [(xp.lowerBound, x.reachesLower), (xp.upperBound, x.reachesUpper)] {
                    let g = Thermodynamics.deltaG(net: n, xch: max(xv, 0), temperature: temperature)
                    guard !g.isNaN else { continue }
                    if g < lo { lo = g; loFromBound = onBound }
                    if g > hi { hi = g; hiFromBound = onBound }
                }
            }
            let value = prediction.deltaG[r], se = prediction.deltaGSE[r]
            let linear = se.isFinite && value.isFinite ? (value - 1.96 * se)...(value + 1.96 * se) : -Double.infinity...Double.infinity
            guard lo <= hi else { continue }
            out.append(DeltaGInterval(reaction: r, value: value, linearised: linear, profile: lo...hi,
                                      reachesLower: loFromBound, reachesUpper: hiFromBound))
        }
        return out
    }
}
