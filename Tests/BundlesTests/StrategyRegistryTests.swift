import Bundles
import Foundation
import MLFluxCore
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
