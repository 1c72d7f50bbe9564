import Bundles
import EMU
import FluxML
import FluxSampling
import Foundation
import IsotopeCorrection
import MLFluxCore
import NeuralNetworks
import Prediction
import Testing
import TestSupport

/// Fragments with aliases, atom subsets and formulas in the manifest; the simulator's
/// natural-abundance map; fits of uncorrected data.
@Suite struct NaturalAbundanceTests {
    /// `F12` = molF[1-2] as a TBDMS-like ion C8H20NOSi2, molD with a formula C5H12OSi, molB[1,3] plain.
    static var fragments: [String: Any] { [
        "F12": ["atoms": "molF[1-2]", "formula": "C8H20NOSi2"],
        "molD": ["formula": "C5H12OSi"],
    ] }
    static var overrides: [String: Any?] { ["measured": ["F12", "molD", "molB[1,3]"], "fragments": fragments] }

    static func load(_ overrides: [String: Any?] = Self.overrides) throws -> (TempDir, ModelBundle) {
        let dir = TempDir()
        let folder = makeToyBundle(in: dir, folder: "na", overrides)
        return (dir, try ModelBundle.load(directory: folder, networkSearchPath: repoNetworks))
    }

    @Test func manifestFragmentsResolveToAliasesAndMatrices() throws {
        let (_, b) = try Self.load()
        #expect(b.measured.map(\.name) == ["F12", "molD", "molB_1:3"])
        #expect(b.measured[0].pool == "molF" && b.measured[0].atoms == [0, 1])
        #expect(b.layout.fragmentNames == ["F12", "molD", "molB_1:3"])
        #expect(b.naturalAbundance.keys.sorted() == ["F12", "molD"])
        #expect(b.naturalAbundance["F12"]?.tracedAtoms == 2)
        #expect(b.naturalAbundance["molD"]?.tracedAtoms == 3)
        #expect(b.naturalAbundance["F12"]?.formula.description == "C8H20NOSi2")
    }

    @Test func badFragmentDefinitionsNameTheField() throws {
        func reason(_ fragments: [String: Any], measured: [String] = ["F12", "molD"]) -> String {
            do { _ = try Self.load(["measured": measured, "fragments": fragments]); return "accepted" } catch { return "\(error)" }
        }
        let badFormula = reason(["F12": ["atoms": "molF[1-2]", "formula": "C8Xx"]])
        #expect(badFormula.contains("field 'fragments.F12.formula'") && badFormula.contains("unknown element 'Xx'"), "\(badFormula)")
        let fewCarbons = reason(["molD": ["formula": "C2H5"]], measured: ["molD"])
        #expect(fewCarbons.contains("fragments.molD.formula") && fewCarbons.contains("fewer than the 3 traced"), "\(fewCarbons)")
        let badAtoms = reason(["F12": ["atoms": "molF[1-7]"]])
        #expect(badAtoms.contains("fragments.F12.atoms") && badAtoms.contains("outside 1...3"), "\(badAtoms)")
        let unused = reason(["molC": ["formula": "C2"]])
        #expect(unused.contains("fragments.molC") && unused.contains("not listed in measured"), "\(unused)")
        let twice = reason(["F12": ["atoms": "molD"]], measured: ["F12", "F12"])
        #expect(twice.contains("listed twice"), "\(twice)")
    }

    /// Mapped MIDs are C·x renormalised (x: the formula-free simulation); `correct` gives x back;
    /// the mapped Jacobian equals central differences of the mapped MIDs.
    @Test func simulatorMapsMIDsAndJacobian() throws {
        let (_, b) = try Self.load()
        let mapped = try b.simulator()
        let pure = try EMUSimulator(network: b.network, measured: b.measured, experiments: b.experiments)
        let theta = [1, 0.3, 0.8]
        let state = try b.basis.fluxState(free: theta)
        let y = try mapped.simulate(state), x = try pure.simulate(state)
        for e in b.experiments.indices {
            for (f, fragment) in b.measured.enumerated() {
                let want = b.naturalAbundance[fragment.name].map { $0.measured(from: x.mid(experiment: e, fragment: f)) }
                    ?? x.mid(experiment: e, fragment: f)
                for (a, w) in zip(y.mid(experiment: e, fragment: f), want) { #expect(abs(a - w) < 1e-14) }
            }
        }
        // Round trip through the correction.
        let table = MeasuredLabeling(layout: b.layout, values: y.values, stddev: y.values.map { _ in .nan },
                                     mask: y.values.map { _ in true })
        let matrices = b.naturalAbundance
        let rows = try LabelingCorrection.correct(table, matrices: matrices.merging(
            ["molB_1:3": try CorrectionMatrix(tracedAtoms: 2, formula: ElementalFormula(parsing: "C2"), tracerNaturalAbundance: false)]) { a, _ in a })
        #expect(rows.count == 6)
        for r in rows {
            let pureMID = x.mid(experiment: b.layout.experimentIndex(r.experiment)!, named: r.fragment)!
            for (a, w) in zip(r.corrected.fractions, pureMID) { #expect(abs(a - w) < 1e-10, "\(r.experiment) \(r.fragment)") }
        }
        // Jacobian of the mapped MIDs.
        let (_, jac) = try mapped.simulate(state, basis: b.basis)
        let h = 1e-6
        for q in [1, 2] {
            var up = theta, down = theta
            up[q] += h; down[q] -= h
            let yu = try mapped.simulate(b.basis.fluxState(free: up)).values
            let yd = try mapped.simulate(b.basis.fluxState(free: down)).values
            for i in yu.indices { #expect(abs(jac[i, q] - (yu[i] - yd[i]) / (2 * h)) < 1e-7, "row \(i) column \(q)") }
        }
    }

    /// Uncorrected data (natural abundance, σ = 0.002 noise): the natural-abundance fit recovers
    /// the true free fluxes within 3 standard errors and passes the χ² test; the same fit with
    /// pure-tracer MIDs fails it.
    @Test func fitOfUncorrectedDataNeedsTheMap() throws {
        let (_, b) = try Self.load()
        let truth = [1, 0.3, 0.8], sd = 0.002
        let clean = try b.simulator().simulate(b.basis.fluxState(free: truth)).values
        let layout = b.layout
        var rng = SplitMix64(seed: 16)
        let noisy = noisyMIDs(clean, layout, sd: sd) { rng.nextGaussian() }
        let measured = MeasuredLabeling(layout: layout, values: noisy, stddev: noisy.map { _ in sd },
                                        mask: noisy.map { _ in true })
        let bounds: [(lower: Double, upper: Double)] = [(1, 1), (0.001, 0.999), (0, 100)]
        var aware = LeastSquaresMFA(simulator: try b.simulator(), basis: b.basis, network: b.network, bounds: bounds)
        aware.startCount = 5
        let fit = try #require(aware.fit(measured))
        for k in [1, 2] {
            #expect(abs(fit.prediction.free[k] - truth[k]) < 3 * fit.prediction.freeSE[k],
                    "free \(k): \(fit.prediction.free[k]) ± \(fit.prediction.freeSE[k]), truth \(truth[k])")
        }
        let chi = ChiSquaredTest(vssr: fit.vssr, measurements: fit.measurements, identifiable: fit.identifiable)
        #expect(chi.passes, "VSSR \(fit.vssr) outside [\(chi.lower), \(chi.upper)]")

        let pure = try EMUSimulator(network: b.network, measured: b.measured, experiments: b.experiments)
        var naive = LeastSquaresMFA(simulator: pure, basis: b.basis, network: b.network, bounds: bounds)
        naive.startCount = 5
        let wrong = try #require(naive.fit(measured))
        let naiveChi = ChiSquaredTest(vssr: wrong.vssr, measurements: wrong.measurements, identifiable: wrong.identifiable)
        #expect(!naiveChi.passes && wrong.vssr > naiveChi.upper, "VSSR \(wrong.vssr), range [\(naiveChi.lower), \(naiveChi.upper)]")
    }

    /// The same through a FluxML file whose MS groups carry `name` and `formula`: `mlflux fit`'s
    /// problem maps the fragments and fits the uncorrected data.
    @Test func fluxMLGroupsWithFormulasAreFitted() throws {
        let (dir, b) = try Self.load()
        let truth = [1, 0.3, 0.8]
        let values = try b.simulator().simulate(b.basis.fluxState(free: truth)).values
        var labeling: [LabelingMeasurement] = []
        for (e, experiment) in b.layout.experimentIDs.enumerated() {
            for (f, fragment) in b.measured.enumerated() {
                let n = fragment.atoms.count + 1, start = e * b.layout.blockSize + b.layout.offsets[f]
                labeling.append(LabelingMeasurement(id: "ms_\(f)", experiment: experiment, fragment: fragment,
                                                    isotopologues: Array(0..<n), values: Array(values[start..<(start + n)]),
                                                    stddevs: [Double](repeating: 0.002, count: n)))
            }
        }
        let set = try MeasurementSet(fluxes: [], labeling: labeling)
        let text = try FluxMLWriter.write(b.network, measurements: set,
                                          formulas: b.naturalAbundance.mapValues(\.formula))
        let path = dir.write("measured.fml", text)
        let problem = try MeasuredNetworkFit(path: path)
        #expect(problem.simulator.mapsByName.keys.sorted() == ["F12", "molD"])
        #expect(problem.layout.fragmentNames == ["F12", "molD", "molB_1:3"])
        let fit = try #require(problem.leastSquares(starts: 3, maxIterations: 200, seed: 1, threads: 1).fit(problem.measured))
        #expect(fit.vssr < 1e-8, "exact uncorrected data are fitted exactly: VSSR \(fit.vssr)")
        #expect(abs(fit.prediction.free[1] - truth[1]) < 1e-4 && abs(fit.prediction.free[2] - truth[2]) < 1e-3,
                "\(fit.prediction.free)")
    }

    /// Datasets (ANN and imputer training data) of a bundle with formulas are simulated as measured.
    @Test func datasetsAreSimulatedAsMeasured() throws {
        let (dir, b) = try Self.load()
        defer { withExtendedLifetime(dir) {} }
        var source = DatasetSource(modelName: b.name, network: b.network, networkFile: b.networkPath,
                                   basis: b.basis, experiments: b.experiments, measured: b.measured)
        source.measurementMaps = b.measurementMaps
        let generator = try DatasetGenerator(source: source, request: DatasetRequest(samples: 4, seed: 1, sampler: .automatic(for: b.basis)))
        let state = try b.exampleFluxState()
        let fromDataset = try generator.makeSimulator().simulate(state).values
        let fromBundle = try b.simulator().simulate(state).values
        #expect(fromDataset == fromBundle)
        #expect(try generator.makeSimulator().replica().mapsByName == b.measurementMaps)
        #expect(b.measurementMaps.keys.sorted() == ["F12", "molD"])
        // The recorded network hash covers the formulas: a dataset made without them is refused.
        let (plainDir, plain) = try Self.load(["measured": ["F12", "molD", "molB[1,3]"], "fragments": ["F12": ["atoms": "molF[1-2]"]]])
        defer { withExtendedLifetime(plainDir) {} }
        #expect(try plain.networkHash() == DatasetDescription.networkHash(networkFile: plain.networkPath))
        #expect(try b.networkHash() != plain.networkHash())
    }
}
