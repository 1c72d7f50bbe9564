import FluxML
import FluxSampling
import Foundation
import MLFluxCore
import SafeIO

/// What `mlflux bundle new` is asked to make: a self-contained bundle from a FluxML network,
/// with everything the manifest needs chosen automatically unless given.
public struct NewBundleRequest: Sendable {
    /// Model name (`--model NAME`).
    public var name: String
    /// The FluxML file; it is copied into the bundle.
    public var networkFile: String
    /// Tracer experiments from the command line, one string each: `POOL=PATTERN[:FRACTION]`,
    /// several joined by `+` for one experiment (`GLC=100000:0.5+GLC=111111:0.5`).
    public var tracers: [String] = []
    /// A tracer table (`TracerTable`); copied into the bundle.
    public var tracerFile: String?
    /// Measured fragments (`MeasuredSpec`); empty: every balanced pool with atoms.
    public var measured: [String] = []
    /// A flux bounds table (`FluxBoundsTable`); copied into the bundle.
    public var constraintsFile: String?
    /// Preferred free fluxes (`v3`, `v3.net`, `v3.xch`), most wanted first; the rest is chosen.
    public var preferFree: [String] = []
    public var description: String?
    /// Flux states averaged into the example state.
    public var exampleSamples = 256
    public var seed: UInt64 = 1

    public init(name: String, networkFile: String) {
        self.name = name
        self.networkFile = networkFile
    }
}

/// A problem with a `NewBundleRequest`: one line naming the option or file.
public struct NewBundleError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Makes a new bundle folder from a `NewBundleRequest` (see `create(_:at:)`).
public enum NewBundle {
    /// File names inside a new bundle.
    public static let constraintsFileName = "constraints.csv"
    public static let tracersFileName = "tracers.csv"
    public static let exampleFileName = "fluxes.json"

    /// The experiment id of a command-line tracer: its parts joined by `+`, each `POOL_PATTERN`
    /// (and `xFRACTION` when a fraction is given), e.g. `GLC_100000x0.5+GLC_111111x0.5`.
    public static func experimentID(_ tracer: String) -> String {
        tracer.split(separator: "+").map { part in
            part.replacingOccurrences(of: "=", with: "_").replacingOccurrences(of: ":", with: "x")
        }.joined(separator: "+")
    }

    /// Writes the bundle into `destination`, which must not exist; a failure leaves nothing behind.
    ///
    /// The network file is copied (so the folder works wherever it is put), with the
    /// constraints table and the tracers (the table, or the `--tracer` experiments written as
    /// one) beside it. Experiments: those of the tracer table and the `--tracer`s, else every
    /// FluxML configuration. Measured: the given fragments, else every balanced pool with atoms.
    /// Free fluxes: `FreeFluxBasis` with `preferFree`. Example state: the mean of
    /// `exampleSamples` states from the flux-space sampler (a convex combination of feasible
    /// states, so feasible), checked against every constraint.
    /// - Returns: the new bundle, loaded and checked.
    /// - Throws: `NewBundleError`, `OutputError` (destination exists), or the reader's error
    ///   naming the file and line.
    public static func create(_ request: NewBundleRequest, at destination: String) throws -> ModelBundle {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: destination) else {
            throw OutputError(file: destination, reason: "exists; bundle new makes a new folder and overwrites nothing (choose another --out, or remove it)")
        }
        guard !request.name.isEmpty, !request.name.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw NewBundleError("model name '\(request.name)' must be a non-empty word without spaces or '/'")
        }
        var network = try FluxMLReader.read(contentsOf: request.networkFile)
        if let c = request.constraintsFile { network = try network.applyingBounds(FluxBoundsTable.read(contentsOf: c)) }

        // Experiments.
        var tableExperiments: [TracerExperiment] = []
        if let t = request.tracerFile { tableExperiments = try TracerTable.read(contentsOf: t, network: network) }
        for spec in request.tracers {
            let id = experimentID(spec)
            guard !tableExperiments.contains(where: { $0.id == id }) else { throw NewBundleError("--tracer '\(spec)' is given twice") }
            let parts = spec.split(separator: "+").map(String.init)
            do { tableExperiments.append(try TracerSpec.experiment(id: id, specs: parts, network: network)) }
            catch let e as TracerSpec.ParseError { throw NewBundleError("--tracer: \(e)") }
        }
        let experiments = (tableExperiments.isEmpty ? network.experiments : tableExperiments).map(\.id)
        guard !experiments.isEmpty else {
            throw NewBundleError("\(request.networkFile): the network has no tracer configuration; give --tracer POOL=PATTERN or --tracers FILE.csv")
        }
        network = try network.with(experiments: TracerTable.merged(tableExperiments, into: network.experiments))

        // Measured fragments.
        let measured = request.measured.isEmpty
            ? network.balancedPools.filter { $0.atomCount > 0 }.map(\.id) : request.measured
        for spec in measured {
            do { _ = try MeasuredSpec.parse(spec, in: network) }
            catch let e as MeasuredSpec.ParseError { throw NewBundleError("--measured '\(spec)': \(e.reason)") }
        }
        guard !measured.isEmpty else { throw NewBundleError("\(request.networkFile): no balanced pool has atoms to measure; give --measured") }

        // Free fluxes and an example state.
        let basis: FreeFluxBasis
        do { basis = try FreeFluxBasis(network: network, preferFree: request.preferFree) }
        catch { throw NewBundleError("free fluxes: \(error)") }
        let state = try exampleState(network: network, basis: basis, samples: request.exampleSamples, seed: request.seed)

        // Write into a hidden sibling, then rename into place.
        // (URL, not NSString: Foundation's deletingLastPathComponent traps on one-letter paths.)
        let target = URL(fileURLWithPath: destination)
        let staging = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString)").path
        do { try fm.createDirectory(atPath: staging, withIntermediateDirectories: true) }
        catch { throw OutputError(file: destination, reason: "cannot create the folder: \(Excerpt.reason(error))") }
        do {
            let networkName = (request.networkFile as NSString).lastPathComponent
            try OutputFile.write(try InputFile.read(request.networkFile, limit: FluxMLReader.Limits.fileBytes, what: "network"),
                                 to: (staging as NSString).appendingPathComponent(networkName))
            var manifest = BundleManifest(
                name: request.name,
                description: request.description ?? "\(network.name) from \(networkName)",
                network: networkName, experiments: experiments, measured: measured, freeFluxes: basis.names,
                exampleFluxes: exampleFileName)
            if let c = request.constraintsFile {
                try OutputFile.write(try InputFile.read(c, limit: 16 << 20, what: "flux bounds table"),
                                     to: (staging as NSString).appendingPathComponent(constraintsFileName))
                manifest.constraints = constraintsFileName
            }
            if !tableExperiments.isEmpty {
                try OutputFile.write(TracerTable.format(tableExperiments), to: (staging as NSString).appendingPathComponent(tracersFileName))
                manifest.tracers = tracersFileName
            }
            try OutputFile.write(FluxStateFile.encode(state, network: network),
                                 to: (staging as NSString).appendingPathComponent(exampleFileName))
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            var data = try enc.encode(manifest)
            data.append(0x0a)
            try OutputFile.write(data, to: (staging as NSString).appendingPathComponent(ModelBundle.manifestFileName))
            _ = try ModelBundle.load(directory: staging)
            guard !fm.fileExists(atPath: destination) else {
                throw OutputError(file: destination, reason: "appeared while the bundle was made; nothing was overwritten")
            }
            try fm.moveItem(atPath: staging, toPath: destination)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        return try ModelBundle.load(directory: destination)
    }

    /// A feasible flux state well inside the flux space: the mean of `samples` states from
    /// the flux-space sampler (automatic settings, generator seeded with `seed`).
    /// - Throws: the sampler's error (infeasible or unbounded constraints, naming them), or
    ///   `NewBundleError` if the mean violates a constraint beyond round-off.
    public static func exampleState(network: MetabolicNetwork, basis: FreeFluxBasis, samples: Int = 256,
                                    seed: UInt64 = 1) throws -> FluxState {
        let sampler: FluxSpaceSampler
        do {
            sampler = try FluxSpaceSampler(network: network, basis: basis, settings: .automatic(for: basis))
        } catch FluxSamplingError.unbounded(let flux, let direction) {
            let isExchange = flux.hasSuffix(".xch")
            let reaction = flux.hasSuffix(".net") || isExchange ? String(flux.dropLast(4)) : flux
            let row = isExchange ? "\(reaction),xch,0,UPPER" : "\(reaction),net,LOWER,UPPER"
            throw NewBundleError("free flux '\(flux)' has no \(direction) bound, so the flux space cannot be sampled; bound it in a --constraints table (reaction,kind,lower,upper), e.g. the row '\(row)'")
        }
        var rng = SplitMix64(seed: seed)
        let draws = sampler.sample(count: max(samples, 1), using: &rng)
        var mean = [Double](repeating: 0, count: basis.count)
        for θ in draws { for k in mean.indices { mean[k] += θ[k] / Double(draws.count) } }
        for (k, v) in basis.fixed { mean[k] = v }
        let state = basis.fluxState(free: mean)
        let problems = basis.violations(of: state, in: network, tolerance: 1e-7)
        guard problems.isEmpty else {
            throw NewBundleError("the mean of \(draws.count) sampled flux states is not feasible: \(problems[0])")
        }
        return state
    }
}
