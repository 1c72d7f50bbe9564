import Bundles
import Foundation
import MLFluxCore
import Prediction
import Testing
import TestSupport

/// The one strategy table: names per kind, errors that list the known names, the shipped
/// imputers load for their bundles and honour the `Imputer` contract on simulated data.
@Suite struct StrategyRegistryTests {
    let registry = BundleRegistry(searchPaths: SearchPaths(plugins: [repositoryRoot() + "/Plugins"]))

    @Test func tableListsEachKind() {
        #expect(StrategyRegistry.known(.predictor) == ["ann", "mfa", "hybrid"])
        #expect(StrategyRegistry.known(.imputer) == ["knn", "mlp", "pcnn"])
        #expect(Set(StrategyRegistry.table.map { "\($0.kind)/\($0.name)" }).count == StrategyRegistry.table.count)
    }

    @Test func unknownNamesListTheKnownOnes() throws {
        let bundle = try registry.load("toy")
        #expect(throws: UnknownStrategyError(kind: "imputer", name: "pcn", known: ["knn", "mlp", "pcnn"])) {
            try StrategyRegistry.imputer("pcn", bundle: bundle)
        }
        #expect(UnknownStrategyError(kind: "imputer", name: "pcn", known: ["knn", "mlp", "pcnn"]).description == "unknown imputer 'pcn'; known: knn, mlp, pcnn")
        // A predictor name is not an imputer.
        #expect(throws: UnknownStrategyError.self) { try StrategyRegistry.imputer("ann", bundle: bundle) }
    }

    /// A bundle without imputers: none available, no default, and the ANN's incomplete-input
    /// error names the missing MIDs and both ways out.
    @Test func bundleWithoutImputers() throws {
        let bundle = try registry.load("ccm")
        #expect(StrategyRegistry.available(.imputer, in: bundle).isEmpty)
        #expect(StrategyRegistry.defaultImputer(of: bundle) == nil)
        let layout = LabelingLayout(experimentIDs: ["X", "Y"], fragments: [("a", 2), ("b", 3)])
        var mask = [Bool](repeating: true, count: layout.count)
        for i in layout.range(experiment: 1, fragment: 0) { mask[i] = false }
        let m = MeasuredLabeling(layout: layout, values: mask.map { $0 ? 0.5 : .nan }, stddev: mask.map { _ in .nan }, mask: mask)
        let text = IncompleteLabelingError(predictor: "ann", measured: m).description
        #expect(text.contains("2 of 10 MID entries are missing (1 MID: Y a)") && text.contains("--imputer") && text.contains("--predictor mfa"), "\(text)")
        #expect(!text.contains("\n"))
    }

    @Test(arguments: ["toy", "glycolysis"])
    func shippedImputersCompleteSimulatedLabeling(_ name: String) throws {
        let bundle = try registry.load(name)
        #expect(StrategyRegistry.available(.imputer, in: bundle) == ["knn", "mlp", "pcnn"])
        let labeling = try bundle.simulator().simulate(try bundle.exampleFluxState())
        let layout = bundle.layout
        let values = labeling.values
        var mask = [Bool](repeating: false, count: layout.count)
        for f in layout.fragmentNames.indices where f % 2 == 0 { for i in layout.range(experiment: 0, fragment: f) { mask[i] = true } }
        let input = MeasuredLabeling(layout: layout, values: zip(values, mask).map { $1 ? $0 : .nan },
                                     stddev: values.map { _ in .nan }, mask: mask)
        for imputer in StrategyRegistry.known(.imputer) {
            let out = try StrategyRegistry.imputer(imputer, bundle: bundle).impute(input)
            var error = 0.0
            for i in values.indices {
                if mask[i] { #expect(out.values[i] == values[i]) } else { error += abs(out.values[i] - values[i]) }
            }
            let mae = error / Double(mask.filter { !$0 }.count)
            #expect(mae < 0.05, "\(name) \(imputer): MAE \(mae)")
        }
    }
}

/// The hybrid on partial measurements: the ANN starts from an imputer's completion, the fit
/// sees the measured entries only — so even an imputer that fills in nonsense cannot move
/// the fitted fluxes away from the truth the measured MIDs determine.
@Suite struct HybridImputationRouteTests {
    let registry = BundleRegistry(searchPaths: SearchPaths(plugins: [repositoryRoot() + "/Plugins"]))

    /// Fills every missing MID with a uniform distribution (far from any toy pattern).
    struct UniformFill: Imputer {
        let name = "uniform"
        let layout: LabelingLayout
        func impute(_ measured: MeasuredLabeling) throws -> ImputedLabeling {
            var estimate = [Double](repeating: 0, count: layout.count)
            for e in layout.experimentIDs.indices {
                for f in layout.fragmentNames.indices {
                    let r = layout.range(experiment: e, fragment: f)
                    for i in r { estimate[i] = 1 / Double(r.count) }
                }
            }
            return ImputedLabeling(completing: measured, estimate: estimate)
        }
    }

    @Test func fitsMeasuredEntriesOnly() throws {
        let bundle = try registry.load("toy")
        let truth = try bundle.exampleFluxState()
        let values = try bundle.simulator().simulate(truth).values
        let layout = bundle.layout
        // Three of the six tracer experiments measured, whole.
        var mask = [Bool](repeating: false, count: layout.count)
        for e in 0..<3 { for f in layout.fragmentNames.indices { for i in layout.range(experiment: e, fragment: f) { mask[i] = true } } }
        let sd = 1e-4
        let measured = MeasuredLabeling(layout: layout, values: zip(values, mask).map { $1 ? $0 : .nan },
                                        stddev: values.map { _ in sd }, mask: mask)
        var options = StrategyRegistry.Options()
        options.imputer = "knn"
        options.measurementStddev = sd
        var hybrid = try #require(try StrategyRegistry.predictor("hybrid", bundle: bundle, options: options) as? HybridPredictor)
        #expect(hybrid.imputer?.name == "knn")
        // The route leaves the measurement to the hybrid, unchanged.
        let route = try ImputationRoute(measured: measured, predictor: hybrid, imputer: "knn", bundle: bundle, options: options)
        #expect(route.input.mask == mask && route.imputed == nil && route.imputer == "knn")
        for imputer in [hybrid.imputer!, UniformFill(layout: layout)] {
            hybrid.imputer = imputer
            let fit = try hybrid.leastSquaresFit(measured: measured)
            // Only measured entries count: the independent values of three experiments' MIDs.
            #expect(fit.measurements == measured.independentValues, "\(imputer.name)")
            for r in bundle.network.reactions.indices {
                let t = truth.net[r], p = fit.prediction.net[r]
                #expect(abs(p - t) <= max(0.01 * abs(t), 1e-3), "\(imputer.name) \(bundle.network.reactions[r].id): \(p) vs \(t)")
            }
        }
    }
}
