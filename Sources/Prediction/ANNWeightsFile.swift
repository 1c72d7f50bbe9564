import Foundation
import MLFluxCore
import NeuralNetworks
import SafeIO

/// Saves and loads an `ANNPredictor` as one safetensors file.
///
/// Tensors: `members.<m>.layers.<i>.weight` `[inputs, outputs]`, `members.<m>.layers.<i>.bias`
/// `[outputs]`, `members.<m>.input.mean` / `.std` `[layout.count]` (all F32).
/// Metadata (strings): `format` = `mlflux-ann-2`, `members`, `widths` (JSON, per member),
/// `activations`, `transform` (JSON of `FluxTransform`), `layout` (JSON of `LabelingLayout`),
/// `free_fluxes` (JSON list of names), `network`, `features` (`raw`, `logs` or `logs-sigma`),
/// `head` (`diagonal`: mean and log-variance per target; `cholesky`: a full covariance, see
/// `Loss.gaussianCholeskyNLL`), `noise` (JSON `MeasurementNoise`, noise-aware networks only),
/// and optionally `sigma_calibration` (JSON `SigmaCalibration`: σ factors per context class,
/// target and predicted range; files with the older per-target `sigma_scale` still load) and
/// `derived_calibration` (JSON `DerivedCalibration`: factors on every flux's and ΔG's propagated σ)
/// and `hybrid_calibration` (the same for the hybrid MAP fit from this network)
/// and `quantile_calibration` (JSON `QuantileCalibration`: the shape of each free flux's
/// standardised error; absent = Gaussian, as in files before it) and `error_shape` (JSON
/// `ErrorShapeHeader`: the conditional error shape's `kind`, `components`, `widths`, `activations`,
/// `covered` and `probabilities`, with tensors `error_shape.layers.<i>.weight` / `.bias` and
/// `error_shape.features.mean` / `.std`; see `ConditionalErrorShape`).
///
/// Files of format `mlflux-ann-1` (before noise-aware training and covariance heads) load as
/// `head = diagonal` without `noise`.
public enum ANNWeightsFile {
    public static let format = "mlflux-ann-2"
    /// Formats `read` accepts.
    public static let readableFormats = ["mlflux-ann-1", "mlflux-ann-2"]

    /// Writes `p` to `url` through a synced temporary file renamed into place: a failed
    /// write leaves the old weights byte-identical.
    /// - Throws: `OutputError` naming the file.
    public static func write(_ p: ANNPredictor, to url: URL, extraMetadata: [String: String] = [:]) throws {
        try safeTensors(p, extraMetadata: extraMetadata).write(to: url)
    }

    /// The safetensors file of `p` (tensors and metadata as above), not yet written.
    public static func safeTensors(_ p: ANNPredictor, extraMetadata: [String: String] = [:]) throws -> SafeTensors {
        var tensors: [String: SafeTensor] = [:]
        var widths: [[Int]] = [], activations: [[String]] = []
        for (m, member) in p.members.enumerated() {
            for (name, shape, values) in member.mlp.parameters {
                tensors["members.\(m).\(name)"] = SafeTensor(values, shape: shape)
            }
            tensors["members.\(m).input.mean"] = SafeTensor(member.inputScaler.mean, shape: [member.inputScaler.columns])
            tensors["members.\(m).input.std"] = SafeTensor(member.inputScaler.std, shape: [member.inputScaler.columns])
            widths.append(member.mlp.widths)
            activations.append(member.mlp.layers.map(\.activation.rawValue))
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try enc.encode(v), as: UTF8.self) }
        var meta = extraMetadata
        meta["format"] = format
        meta["members"] = String(p.members.count)
        meta["widths"] = try json(widths)
        meta["activations"] = try json(activations)
        meta["transform"] = try json(p.members[0].transform)
        meta["layout"] = try json(p.layout)
        meta["free_fluxes"] = try json(p.basis.names)
        meta["network"] = p.network.name
        meta["features"] = p.members[0].features.rawValue
        meta["head"] = p.members[0].head.rawValue
        if let noise = p.noise { meta["noise"] = try json(noise) }
        if let c = p.calibration { meta["sigma_calibration"] = try json(c) }
        if let d = p.derivedCalibration { meta["derived_calibration"] = try json(d) }
        if let h = p.hybridCalibration { meta["hybrid_calibration"] = try json(h) }
        if let q = p.quantileCalibration { meta["quantile_calibration"] = try json(q) }
        if let e = p.errorShape {
            for (name, shape, values) in e.mlp.parameters { tensors["error_shape.\(name)"] = SafeTensor(values, shape: shape) }
            tensors["error_shape.features.mean"] = SafeTensor(e.features.mean, shape: [e.features.columns])
            tensors["error_shape.features.std"] = SafeTensor(e.features.std, shape: [e.features.columns])
            meta["error_shape"] = try json(ErrorShapeHeader(head: e.head, widths: e.mlp.widths,
                                                            activations: e.mlp.layers.map(\.activation.rawValue),
                                                            covered: e.covered, probabilities: e.probabilities))
        }
        return SafeTensors(tensors: tensors, metadata: meta)
    }

    /// Loads weights for a bundle; the file's layout and free fluxes must match the bundle's.
    public static func read(_ url: URL, network: MetabolicNetwork, basis: FreeFluxBasis, layout: LabelingLayout)
        throws -> ANNPredictor {
        let file = url.path
        let st = try SafeTensors(contentsOf: url)
        func meta(_ key: String) throws -> String {
            guard let v = st.metadata[key] else { throw PredictionError.incompatibleWeights(file: file, reason: "metadata '\(key)' is missing") }
            return v
        }
        let fileFormat = try meta("format")
        guard readableFormats.contains(fileFormat) else {
            throw PredictionError.incompatibleWeights(file: file, reason: "format '\(Excerpt.quote(fileFormat))' is not one of \(readableFormats.joined(separator: ", "))")
        }
        let dec = JSONDecoder()
        func decode<T: Decodable>(_ t: T.Type, _ key: String) throws -> T {
            do { return try dec.decode(t, from: Data(try meta(key).utf8)) } catch let e as PredictionError { throw e } catch {
                let why = (error as? DecodingError).map(DecodingErrorText.describe) ?? Excerpt.reason(error)
                throw PredictionError.incompatibleWeights(file: file, reason: "metadata '\(key)' is not valid: \(why)")
            }
        }
        let fileLayout = try decode(LabelingLayout.self, "layout")
        guard fileLayout == layout else {
            throw PredictionError.incompatibleWeights(file: file, reason: "trained for a different labeling layout than the bundle's")
        }
        guard try decode([String].self, "free_fluxes") == basis.names else {
            throw PredictionError.incompatibleWeights(file: file, reason: "trained for other free fluxes than the bundle's")
        }
        let transform = try decode(FluxTransform.self, "transform")
        if let why = transform.inconsistency(for: basis) {
            throw PredictionError.incompatibleWeights(file: file, reason: "metadata 'transform': \(why)")
        }
        let widths = try decode([[Int]].self, "widths")
        let activations = try decode([[String]].self, "activations")
        guard let count = Int(try meta("members")), count == widths.count, count == activations.count, count > 0, count <= 1024 else {
            throw PredictionError.incompatibleWeights(file: file, reason: "metadata 'members' does not match 'widths'")
        }
        let features = InputFeatures(rawValue: st.metadata["features"] ?? "raw")
        guard let features else {
            throw PredictionError.incompatibleWeights(file: file, reason: "unknown input features '\(Excerpt.quote(st.metadata["features"]!))'")
        }
        guard let head = OutputHead(rawValue: fileFormat == "mlflux-ann-1" ? "diagonal" : try meta("head")) else {
            throw PredictionError.incompatibleWeights(file: file, reason: "unknown output head '\(Excerpt.quote(st.metadata["head"] ?? ""))' (known: diagonal, cholesky)")
        }
        var noise: MeasurementNoise? = nil
        if st.metadata["noise"] != nil {
            noise = try decode(MeasurementNoise.self, "noise")
            if let why = noise!.inconsistency { throw PredictionError.incompatibleWeights(file: file, reason: "metadata 'noise' \(why)") }
        }
        guard (noise != nil) == features.usesSigma else {
            throw PredictionError.incompatibleWeights(file: file, reason: features.usesSigma ? "features 'logs-sigma' need metadata 'noise'" : "metadata 'noise' needs features 'logs-sigma'")
        }
        func finite(_ values: [Float], _ tensor: String) throws -> [Float] {
            if let j = values.firstIndex(where: { !$0.isFinite }) {
                throw PredictionError.incompatibleWeights(file: file, reason: "tensor '\(tensor)' entry \(j) is \(values[j]), not a finite number")
            }
            return values
        }
        var members: [ANNMember] = []
        for m in 0..<count {
            let w = widths[m]
            guard w.count >= 2, w.first == features.width(layout.count), w.last == head.outputWidth(transform.targetCount),
                  activations[m].count == w.count - 1 else {
                throw PredictionError.incompatibleWeights(file: file, reason: "member \(m): widths \(w) do not fit the layout and targets")
            }
            var layers: [Dense] = []
            for i in 0..<(w.count - 1) {
                guard let act = Activation(rawValue: activations[m][i]) else {
                    throw PredictionError.incompatibleWeights(file: file, reason: "unknown activation '\(Excerpt.quote(activations[m][i]))'")
                }
                guard w[i] >= 1, w[i + 1] >= 1, w[i] <= 1 << 20, w[i + 1] <= 1 << 20 else {
                    throw PredictionError.incompatibleWeights(file: file, reason: "member \(m): layer widths \(w) must be 1 … 1048576")
                }
                let weight = try finite(st.floats("members.\(m).layers.\(i).weight", shape: [w[i], w[i + 1]]), "members.\(m).layers.\(i).weight")
                let bias = try finite(st.floats("members.\(m).layers.\(i).bias", shape: [w[i + 1]]), "members.\(m).layers.\(i).bias")
                layers.append(Dense(weight: Matrix(rows: w[i], columns: w[i + 1], storage: weight), bias: bias, activation: act))
            }
            let mean = try finite(st.floats("members.\(m).input.mean", shape: [features.width(layout.count)]), "members.\(m).input.mean")
            let std = try finite(st.floats("members.\(m).input.std", shape: [features.width(layout.count)]), "members.\(m).input.std")
            if let j = std.firstIndex(where: { !($0 > 0) }) {
                throw PredictionError.incompatibleWeights(file: file, reason: "tensor 'members.\(m).input.std' entry \(j) is \(std[j]); input scales must be positive")
            }
            members.append(ANNMember(features: features, inputScaler: Standardizer(mean: mean, std: std), mlp: MLP(layers: layers), transform: transform, head: head))
        }
        // 'sigma_calibration' (binned factors) or, from older files, 'sigma_scale' (one per target).
        var calibration: SigmaCalibration?
        if st.metadata["sigma_calibration"] != nil {
            calibration = try decode(SigmaCalibration.self, "sigma_calibration")
        } else if st.metadata["sigma_scale"] != nil {
            calibration = SigmaCalibration(uniform: try decode([Float].self, "sigma_scale"))
        }
        if let c = calibration {
            let key = st.metadata["sigma_calibration"] != nil ? "sigma_calibration" : "sigma_scale"
            guard c.targetCount == transform.targetCount else {
                throw PredictionError.incompatibleWeights(file: file, reason: "metadata '\(key)' has \(c.targetCount) targets, the network \(transform.targetCount)")
            }
            if let why = c.inconsistency { throw PredictionError.incompatibleWeights(file: file, reason: "metadata '\(key)': \(why)") }
        }
        var predictor = ANNPredictor(network: network, basis: basis, layout: layout, members: members, calibration: calibration, noise: noise)
        if st.metadata["derived_calibration"] != nil {
            let d = try decode(DerivedCalibration.self, "derived_calibration")
            if let why = d.inconsistency(reactions: basis.reactionCount) {
                throw PredictionError.incompatibleWeights(file: file, reason: "metadata 'derived_calibration': \(why)")
            }
            predictor.derivedCalibration = d
        }
        if st.metadata["hybrid_calibration"] != nil {
            let h = try decode(DerivedCalibration.self, "hybrid_calibration")
            if let why = h.inconsistency(reactions: basis.reactionCount) {
                throw PredictionError.incompatibleWeights(file: file, reason: "metadata 'hybrid_calibration': \(why)")
            }
            predictor.hybridCalibration = h
        }
        if st.metadata["quantile_calibration"] != nil {
            let q = try decode(QuantileCalibration.self, "quantile_calibration")
            if let why = q.inconsistency(names: basis.names) {
                throw PredictionError.incompatibleWeights(file: file, reason: "metadata 'quantile_calibration': \(why)")
            }
            predictor.quantileCalibration = q
        }
        if st.metadata["error_shape"] != nil {
            let h = try decode(ErrorShapeHeader.self, "error_shape")
            func bad(_ why: String) -> PredictionError { .incompatibleWeights(file: file, reason: "metadata 'error_shape': \(why)") }
            let n = basis.count
            guard h.covered.count == n else { throw bad("covers \(h.covered.count) free fluxes, the network has \(n)") }
            let head: ConditionalErrorShape.Head
            switch h.kind {
            case "mixture":
                guard let k = h.components, (1...64).contains(k) else { throw bad("a mixture needs 1 … 64 components, not \(h.components.map(String.init) ?? "none")") }
                head = .mixture(components: k)
            case "quantiles": head = .quantiles
            default: throw bad("unknown kind '\(Excerpt.quote(h.kind))' (known: mixture, quantiles)")
            }
            guard h.probabilities.count >= 2, h.probabilities.count <= 10_000, h.probabilities.allSatisfy({ $0 > 0 && $0 < 1 }),
                  zip(h.probabilities, h.probabilities.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw bad("probabilities must be 2 … 10000, strictly ascending, inside (0, 1)")
            }
            let outputs = head.width(probabilities: h.probabilities.count) * n
            guard h.widths.count >= 2, h.widths.first == 2 * n + 1, h.widths.last == outputs,
                  h.activations.count == h.widths.count - 1, h.widths.allSatisfy({ (1...(1 << 20)).contains($0) }) else {
                throw bad("widths \(h.widths) do not take \(2 * n + 1) features to the \(outputs) outputs of a \(h.kind) head for \(n) free fluxes")
            }
            var layers: [Dense] = []
            for i in 0..<(h.widths.count - 1) {
                guard let act = Activation(rawValue: h.activations[i]) else { throw bad("unknown activation '\(Excerpt.quote(h.activations[i]))'") }
                let w = try finite(st.floats("error_shape.layers.\(i).weight", shape: [h.widths[i], h.widths[i + 1]]), "error_shape.layers.\(i).weight")
                let b = try finite(st.floats("error_shape.layers.\(i).bias", shape: [h.widths[i + 1]]), "error_shape.layers.\(i).bias")
                layers.append(Dense(weight: Matrix(rows: h.widths[i], columns: h.widths[i + 1], storage: w), bias: b, activation: act))
            }
            let mean = try finite(st.floats("error_shape.features.mean", shape: [2 * n + 1]), "error_shape.features.mean")
            let std = try finite(st.floats("error_shape.features.std", shape: [2 * n + 1]), "error_shape.features.std")
            if let j = std.firstIndex(where: { !($0 > 0) }) {
                throw PredictionError.incompatibleWeights(file: file, reason: "tensor 'error_shape.features.std' entry \(j) is \(std[j]); feature scales must be positive")
            }
            predictor.errorShape = ConditionalErrorShape(mlp: MLP(layers: layers), features: Standardizer(mean: mean, std: std),
                                                         head: head, covered: h.covered, probabilities: h.probabilities)
        }
        return predictor
    }
}

/// The metadata of a stored `ConditionalErrorShape` (its tensors hold the weights).
struct ErrorShapeHeader: Codable, Equatable {
    /// `mixture` or `quantiles` (`ConditionalErrorShape.Head`).
    var kind: String
    /// Mixture components (mixture heads only).
    var components: Int?
    var widths: [Int]
    var activations: [String]
    var covered: [Bool]
    var probabilities: [Double]

    init(head: ConditionalErrorShape.Head, widths: [Int], activations: [String], covered: [Bool], probabilities: [Double]) {
        switch head {
        case .mixture(let k): (kind, components) = ("mixture", k)
        case .quantiles: (kind, components) = ("quantiles", nil)
        }
        self.widths = widths
        self.activations = activations
        self.covered = covered
        self.probabilities = probabilities
    }
}
