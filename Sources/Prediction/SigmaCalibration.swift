import Foundation

/// Factors on an ANN's stated σ, per target and per range of the predicted value (and, with
/// exchange fluxes, per exchange regime of the whole prediction), fitted on held-out data so
/// that the stated 1σ covers 68.27 % of the errors in every range.
///
/// How well labeling resolves an exchange flux varies by orders of magnitude across its
/// range, and a network's σ head (or an ensemble's spread) is not equally well calibrated
/// everywhere: one factor per target leaves some decades over- and others under-covered.
/// The ranges are equal-count bins of the predicted target (for exchange fluxes: of the
/// predicted log10 flux), so each factor rests on the same number of held-out rows.
///
/// The **context** of a prediction is the mean of its predicted exchange targets (how fast
/// exchange is overall in this state; near-equilibrium states resolve differently from
/// states with some slow exchanges). Rows are split into equal-count context classes first,
/// then binned per target within each class.
public struct SigmaCalibration: Codable, Sendable, Equatable {
    /// What the context classes are classes of.
    public enum ContextKind: String, Codable, Sendable {
        /// The mean predicted exchange target (networks trained on exact MIDs).
        case exchange
        /// log10 of the measurement σ the network was told (noise-aware networks: how well a
        /// network's own σ tracks its error changes with the noise level).
        case sigma
    }

    /// Targets whose mean predicted value is the context of a prediction (empty: one class).
    public var contextTargets: [Int]
    /// `nil` (files before noise-aware networks) means `.exchange`.
    public var contextKind: ContextKind?
    /// Interior edges of the context classes, ascending (`c` edges → `c + 1` classes).
    public var contextEdges: [Float]
    /// Per class, per target: interior bin edges in target space, ascending (`k` edges → `k + 1` bins).
    public var edges: [[[Float]]]
    /// Per class, per target: one factor per bin.
    public var factors: [[[Float]]]

    public init(contextTargets: [Int], contextEdges: [Float], edges: [[[Float]]], factors: [[[Float]]],
                contextKind: ContextKind? = nil) {
        self.contextKind = contextKind
        self.contextTargets = contextTargets
        self.contextEdges = contextEdges
        self.edges = edges
        self.factors = factors
    }

    /// One factor per target, whatever the prediction (the format before binning).
    public init(uniform scale: [Float]) {
        self.init(contextTargets: [], contextEdges: [], edges: [scale.map { _ in [] }], factors: [scale.map { [$0] }])
    }

    public var targetCount: Int { factors.first?.count ?? 0 }

    /// A description of what is wrong with the shapes, or nil when consistent.
    public var inconsistency: String? {
        guard !factors.isEmpty, factors.count == contextEdges.count + 1, edges.count == factors.count else {
            return "needs one set of factors per context class (\(contextEdges.count + 1))"
        }
        guard factors.allSatisfy({ $0.count == targetCount }), zip(edges, factors).allSatisfy({ e, f in
            e.count == f.count && zip(e, f).allSatisfy { $0.count + 1 == $1.count }
        }) else { return "every target needs one factor per bin (edges + 1) in every class" }
        guard factors.joined().joined().allSatisfy({ $0.isFinite && $0 > 0 }) else { return "factors must be positive" }
        guard contextTargets.allSatisfy({ $0 >= 0 && $0 < targetCount }) else { return "context target out of range" }
        return nil
    }

    /// The context class of a prediction with target means `mean`, told measurement σ `sigma`.
    public func context(_ mean: [Float], sigma: Float? = nil) -> Int {
        guard !contextEdges.isEmpty else { return 0 }
        if contextKind == .sigma { return Self.bin(log10f(max(sigma ?? 0.01, 1e-12)), contextEdges) }
        guard !contextTargets.isEmpty else { return 0 }
        let c = contextTargets.reduce(Float(0)) { $0 + mean[$1] } / Float(contextTargets.count)
        return Self.bin(c, contextEdges)
    }

    /// The factor for target `j` at predicted target value `mean` in context class `context`.
    @inline(__always)
    public func factor(_ j: Int, mean: Float, context: Int = 0) -> Float {
        factors[context][j][Self.bin(mean, edges[context][j])]
    }

    @inline(__always)
    static func bin(_ x: Float, _ e: [Float]) -> Int {
        var lo = 0, hi = e.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if x < e[mid] { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// Fits the factors. Rows are split into `contextClasses` equal-count classes of their
    /// context (fewer when a class would hold under `bins · minimumRows` rows); within each,
    /// for target `j`, rows are sorted by predicted mean and cut into `bins` equal-count
    /// ranges (fewer when a range would hold under `minimumRows`); each range's factor is the
    /// 68.27th percentile of |truth − mean| / σ there.
    /// With `sigmas` (one measurement σ per row, noise-aware networks) the classes are classes
    /// of log10 σ instead (`contextKind = .sigma`).
    public static func fit(means: [[Float]], stds: [[Float]], truths: [[Float]], contextTargets: [Int] = [],
                           sigmas: [Float]? = nil,
                           contextClasses: Int = 2, bins: Int = 6, minimumRows: Int = 300) -> SigmaCalibration {
        let targets = means.first?.count ?? 0
        let useContext = (!contextTargets.isEmpty || sigmas != nil) && contextClasses > 1
        let classes = useContext ? max(1, min(contextClasses, means.count / max(bins * minimumRows, 1))) : 1
        let context = sigmas.map { $0.map { log10f(max($0, 1e-12)) } }
            ?? means.map { m in contextTargets.reduce(Float(0)) { $0 + m[$1] } / Float(max(contextTargets.count, 1)) }
        let byContext = means.indices.sorted { context[$0] < context[$1] }
        var contextEdges: [Float] = [], edges: [[[Float]]] = [], factors: [[[Float]]] = []
        for c in 0..<classes {
            let members = Array(byContext[(c * means.count / classes)..<((c + 1) * means.count / classes)])
            if c > 0, let first = members.first { contextEdges.append(context[first]) }
            var classEdges: [[Float]] = [], classFactors: [[Float]] = []
            for j in 0..<targets {
                let rows = members.sorted { means[$0][j] < means[$1][j] }
                let k = max(1, min(bins, rows.count / max(minimumRows, 1)))
                var e: [Float] = [], f: [Float] = []
                for b in 0..<k {
                    let slice = rows[(b * rows.count / k)..<((b + 1) * rows.count / k)]
                    if b > 0, let first = slice.first { e.append(means[first][j]) }
                    var z = slice.map { abs(truths[$0][j] - means[$0][j]) / max(stds[$0][j], 1e-12) }
                    z.sort()
                    f.append(z.isEmpty ? 1 : max(z[min(z.count - 1, Int(0.6827 * Double(z.count)))], 1e-3))
                }
                classEdges.append(e)
                classFactors.append(f)
            }
            edges.append(classEdges)
            factors.append(classFactors)
        }
        return SigmaCalibration(contextTargets: useContext && sigmas == nil ? contextTargets : [], contextEdges: contextEdges,
                                edges: edges, factors: factors, contextKind: useContext && sigmas != nil ? .sigma : nil)
    }
}
