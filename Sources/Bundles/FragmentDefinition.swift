import EMU
import IsotopeCorrection
import MLFluxCore

/// A measured fragment as a lab names it, in the manifest's optional `fragments` object:
///
/// ```json
/// "measured": ["Ala232", "molF"],
/// "fragments": {
///   "Ala232": {"atoms": "Ala[2-3]", "formula": "C11H26NO2Si2"},
///   "molF": {"formula": "C3H7O3"}
/// }
/// ```
///
/// `atoms` is a `measured` spec (`POOL[LIST]`, see `MeasuredSpec`); the fragment then takes
/// the key as its name (an alias: MID tables and outputs say `Ala232`). Without `atoms` the
/// key itself is the spec. `formula` is the elemental formula of the measured ion (the
/// traced atoms it keeps plus every other atom, derivative included): simulated MIDs are
/// then mapped through the fragment's natural-abundance `CorrectionMatrix` before they meet
/// data, so uncorrected measurements are fitted as measured (the 13CFLUX2/INCA way).
/// The tracer's purity is not part of the map: FluxML tracer inputs carry it already.
public struct FragmentDefinition: Codable, Hashable, Sendable {
    /// The measured atoms as a `measured` spec (`"Ala[2-3]"`); `nil`: the key is the spec.
    public var atoms: String?
    /// Elemental formula of the measured ion (`"C11H26NO2Si2"`); `nil`: no natural abundance.
    public var formula: String?
    /// `true`: the fragment's pool is diluted by unlabeled material outside the mass balances
    /// (labeling-only mixing, e.g. amino acids from the medium or protein turnover): its MID is
    /// `M·(f·x + (1 − f)·e₀)` with one share f per pool, shared by the pool's fragments and
    /// experiments, fitted by least squares (`mfa`) only.
    public var dilution: Bool?

    public init(atoms: String? = nil, formula: String? = nil, dilution: Bool? = nil) {
        self.atoms = atoms
        self.formula = formula
        self.dilution = dilution
    }

    /// The manifest's measured fragments, in `measured` order, the natural-abundance matrix of
    /// each fragment that has a formula, and the pool of each diluted fragment (by fragment name).
    /// - Throws: `BundleError.invalidField` naming `measured[i]` or `fragments.KEY.field`.
    static func resolve(_ manifest: BundleManifest, network: MetabolicNetwork, manifestPath m: String) throws
        -> (measured: [MeasuredFragment], naturalAbundance: [String: CorrectionMatrix], dilution: [String: String]) {
        func invalid(_ field: String, _ why: String) -> BundleError { .invalidField(manifest: m, field: field, reason: why) }
        let definitions = manifest.fragments ?? [:]
        for key in definitions.keys.sorted() where !manifest.measured.contains(key) {
            throw invalid("fragments.\(key)", "'\(key)' is not listed in measured")
        }
        var measured: [MeasuredFragment] = []
        var matrices: [String: CorrectionMatrix] = [:]
        var dilution: [String: String] = [:]
        for (i, spec) in manifest.measured.enumerated() {
            let definition = definitions[spec]
            var fragment: MeasuredFragment
            do {
                fragment = try MeasuredSpec.parse(definition?.atoms ?? spec, in: network)
            } catch let e as MeasuredSpec.ParseError {
                throw invalid(definition?.atoms == nil ? "measured[\(i)]" : "fragments.\(spec).atoms", e.reason)
            }
            if definition?.atoms != nil {
                guard !spec.isEmpty, !spec.contains(where: { $0.isWhitespace || $0 == "," || $0 == "[" }) else {
                    throw invalid("fragments.\(spec)", "the alias '\(spec)' must be a word without spaces, commas or '['")
                }
                fragment.name = spec
            }
            guard !measured.contains(where: { $0.name == fragment.name }) else {
                throw invalid("measured[\(i)]", "'\(spec)' is listed twice (as fragment '\(fragment.name)')")
            }
            if let text = definition?.formula {
                let field = "fragments.\(spec).formula"
                let formula: ElementalFormula
                do { formula = try ElementalFormula(parsing: text) } catch { throw invalid(field, "\(error)") }
                let pool = network.pool(fragment.pool)!
                let elements = Set(fragment.atoms.map { pool.element(at: $0) })
                guard elements.count == 1, let traced = elements.first else {
                    throw invalid(field, "fragment '\(fragment.name)' keeps both traced carbons and hydrogens; a natural-abundance formula needs one traced element")
                }
                do {
                    matrices[fragment.name] = try CorrectionMatrix(
                        tracedAtoms: fragment.atoms.count, formula: formula,
                        tracer: traced == .carbon ? .carbon : .hydrogen)
                } catch { throw invalid(field, "\(error)") }
            }
            if definition?.dilution == true { dilution[fragment.name] = fragment.pool }
            measured.append(fragment)
        }
        return (measured, matrices, dilution)
    }
}

extension MeasurementMap {
    /// The simulator's map of a natural-abundance correction matrix.
    public init(_ matrix: CorrectionMatrix) {
        self.init(size: matrix.tracedAtoms + 1, matrix: matrix.values)
    }
}
