import Bundles
import Foundation
import MLFluxCore
import Testing
import TestSupport

@Suite struct ShippedBundleTests {
    static let expected: [(name: String, experiments: Int, measured: Int)] = [
        ("toy", 6, 5), ("glycolysis", 2, -1), ("glyppp", 24, -1), ("ccm", 20, 30),
    ]

    let registry = BundleRegistry(searchPaths: SearchPaths(plugins: [repositoryRoot() + "/Plugins"]))

    @Test(arguments: ["toy", "glycolysis", "glyppp", "ccm"])
    func loadsWithFeasibleExample(_ name: String) throws {
        let bundle = try registry.load(name)
        let row = Self.expected.first { $0.name == name }!
        #expect(bundle.experiments.count == row.experiments)
        if row.measured >= 0 { #expect(bundle.measured.count == row.measured) }
        #expect(bundle.manifest.freeFluxes.count == bundle.basis.count)
        let state = try bundle.exampleFluxState()
        let problems = bundle.basis.violations(of: state, in: bundle.network, tolerance: 1e-9)
        #expect(problems.isEmpty, "\(name): \(problems)")
        // The measured fragments simulate, and every MID sums to 1.
        let labeling = try bundle.simulator().simulate(state)
        for e in labeling.experimentIDs.indices {
            for f in labeling.fragments.indices {
                let mid = labeling.mid(experiment: e, fragment: f)
                #expect(abs(mid.reduce(0, +) - 1) < 1e-9)
                #expect(mid.allSatisfy { $0 >= -1e-12 })
            }
        }
    }

    @Test func measuredIsEveryBalancedPool() throws {
        for name in ["toy", "glycolysis", "glyppp"] {
            let b = try registry.load(name)
            #expect(b.measured.map(\.pool) == b.network.balancedPools.map(\.id), "\(name)")
            #expect(b.measured.allSatisfy { f in f.atoms.count == b.network.pool(f.pool)!.atomCount })
        }
    }

    /// The ML-Flux reference CCM state (mfapy forward/reverse fluxes) maps onto our
    /// reaction names: net = f − r, xch = min(f, r), names without underscores. It is
    /// mass balanced; it comes from a variant model, so its bounds are not checked here.
    @Test func ccmReferenceStateIsMassBalanced() throws {
        let bundle = try registry.load("ccm")
        let reference = "/work/shared/reference/ml-flux/constraints/CCM_example_flux_state.csv"
        guard let csv = try? String(contentsOfFile: reference, encoding: .utf8) else { return }  // reference not shipped
        var values: [String: Double] = [:]
        for line in csv.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",")
            guard f.count >= 4, f[0] == "reaction", let v = Double(f[3]) else { continue }
            values[String(f[1])] = v
        }
        var state = FluxState(net: [Double](repeating: 0, count: bundle.network.reactions.count),
                              exchange: [Double](repeating: 0, count: bundle.network.reactions.count))
        for (j, r) in bundle.network.reactions.enumerated() {
            let key = r.id.replacingOccurrences(of: "_", with: "")
            if let v = values[key] {
                state.net[j] = v
            } else if let f = values[key + "f"], let b = values[key + "r"] {
                state.net[j] = f - b
                state.exchange[j] = min(f, b)
            } else {
                Issue.record("no reference flux for \(r.id)")
            }
        }
        let residual = state.balanceResidual(in: bundle.network)
        #expect(residual.allSatisfy { abs($0) < 1e-5 }, "\(residual)")
    }
}
