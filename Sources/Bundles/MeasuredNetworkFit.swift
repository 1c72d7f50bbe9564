import EMU
import FluxML
import FluxSampling
import Foundation
import MLFluxCore
import Prediction
import SafeIO

/// A 13C-MFA problem read from one FluxML file with a `measurement` section (as 13CFLUX
/// writes it): the network, the configurations that carry labeling data as tracer
/// experiments, the measured fragments, MIDs with their σ, and measured fluxes — everything
/// a least-squares fit needs, with no bundle.
public struct MeasuredNetworkFit: Sendable {
    public let path: String
    public let network: MetabolicNetwork
    public let basis: FreeFluxBasis
    public let layout: LabelingLayout
    public let measured: MeasuredLabeling
    public let fluxes: [FluxMeasurementRow]
    public let sampler: FluxSpaceSampler
    public let simulator: EMUSimulator

    /// - Parameter bounds: flux bounds (a `FluxBoundsTable`) in place of the file's bounds on
    ///   those fluxes — for files that leave exchange fluxes unbounded, as 13CFLUX allows.
    /// - Throws: `FluxMLError` naming the file and line, or a `MeasurementSetError` wrapped
    ///   with the file; `NetworkFitError` when the file has no labeling data.
    public init(path: String, bounds: [FluxConstraint] = []) throws {
        let document = try FluxMLReader.readDocument(contentsOf: path)
        let set = document.measurements
        guard !set.labeling.isEmpty else { throw NetworkFitError(file: path, reason: "the FluxML file has no labeling measurement to fit (a configuration's <measurement> section)") }
        let ids = set.experimentIDs
        let experiments = ids.compactMap { id in document.network.experiments.first { $0.id == id } }
        guard experiments.count == ids.count else {
            throw NetworkFitError(file: path, reason: "labeling data of configuration(s) \(ids.filter { id in !experiments.contains { $0.id == id } }.joined(separator: ", ")) without tracer inputs")
        }
        network = try document.network.with(experiments: experiments).applyingBounds(bounds)
        basis = try FreeFluxBasis(network: network)
        layout = set.layout(experimentIDs: ids)
        do {
            measured = try set.measuredLabeling(in: layout)
            fluxes = try set.fluxRows(in: network)
        } catch let e as MeasurementSetError {
            throw NetworkFitError(file: path, reason: e.line.map { "line \($0): \(e.message)" } ?? e.message)
        }
        sampler = try FluxSpaceSampler(network: network, basis: basis, settings: .automatic(for: basis))
        // A measured flux more than 3σ outside what the constraints allow is named, not fitted.
        _ = try sampler.resolve(set.fluxes, file: path, scaled: false)
        simulator = try EMUSimulator(network: network, measured: set.fragments, experiments: experiments,
                                     measurementMaps: document.naturalAbundance.mapValues(MeasurementMap.init),
                                     dilution: document.dilution)
        self.path = path
    }

    /// The least-squares fitter of this problem, its random starts drawn from the flux polytope.
    public func leastSquares(starts: Int, maxIterations: Int, seed: UInt64, threads: Int) -> LeastSquaresMFA {
        var mfa = LeastSquaresMFA(simulator: simulator, basis: basis, network: network, bounds: sampler.bounds)
        mfa.startCount = starts
        mfa.maxIterations = maxIterations
        mfa.seed = seed
        mfa.threads = threads
        let sampler = self.sampler
        mfa.startSampler = { count, seed in
            var rng = SplitMix64(seed: seed)
            return sampler.sample(count: count, using: &rng)
        }
        return mfa
    }

    /// Free-flux vectors of the flux states in `file`: a JSON list of flux states, or an
    /// object whose `fluxes` is one (`{"REACTION": {"net": x, "xch": y}}` each).
    public func startVectors(from file: String) throws -> [[Double]] {
        let data = try InputFile.read(file, limit: 64 << 20, what: "starts file")
        let object = try? JSONSerialization.jsonObject(with: data)
        let list = (object as? [Any]) ?? ((object as? [String: Any])?["fluxes"] as? [Any])
        guard let list, !list.isEmpty else {
            throw NetworkFitError(file: file, reason: "expected a JSON list of flux states (or an object with one under 'fluxes')")
        }
        return try list.enumerated().map { i, item in
            guard let entry = try? JSONSerialization.data(withJSONObject: item) else {
                throw NetworkFitError(file: file, reason: "state \(i) is not a JSON object")
            }
            let state = try FluxStateFile.decode(entry, path: "\(file)[\(i)]", network: network)
            return basis.freeFluxes(of: state)
        }
    }
}

/// A FluxML fit problem that cannot be set up; names the file.
public struct NetworkFitError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "\(file): \(reason)" }
}
