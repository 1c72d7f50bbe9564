import Bundles
import Foundation
import MLFluxCore
import MLFluxOutput
import Prediction

/// What a client asks to predict: a model's name, a MID table as text (any format
/// `mlflux predict` reads: CSV or TSV, long or wide, a `sample` column for several samples),
/// predictors (default `ann`), an imputer (default: the route's, `ImputationRoute`) and the σ
/// of MID entries without one (default 0.01).
public struct PredictionRequest: Sendable {
    public var model: String
    public var mids: String
    public var predictors: [String]
    public var imputer: String?
    public var stddev: Double?

    public init(model: String, mids: String, predictors: [String] = ["ann"], imputer: String? = nil, stddev: Double? = nil) {
        self.model = model
        self.mids = mids
        self.predictors = predictors
        self.imputer = imputer
        self.stddev = stddev
    }
}

/// Every predictor's result on every sample of one request.
public struct PredictionResults: Sendable {
    public struct Prediction: Sendable {
        /// The name the client asked for.
        public var predictor: String
        public var outcome: PredictionJob.Outcome
        /// MIDs simulated from the predicted fluxes, in the layout's order (for the MID plot).
        public var simulated: [Double]
        /// The object `mlflux predict --format json` prints for this sample.
        public var document: PredictionOutput.Document
    }
    public struct Sample: Sendable {
        /// "" for a table without a `sample` column.
        public var name: String
        public var measured: MeasuredLabeling
        public var predictions: [Prediction]
    }
    public var model: ModelCache.Entry
    public var samples: [Sample]
}

/// A request the server refuses: the HTTP status and one line for the client.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var description: String { message }

    public init(_ status: Int, _ message: String) {
        self.status = status
        // One line, bounded: error texts may quote the client's input.
        let line = message.split(whereSeparator: \.isNewline).joined(separator: "; ")
        self.message = line.count > 2000 ? String(line.prefix(2000)) + "…" : line
    }

    public static func badRequest(_ message: String) -> ServiceError { ServiceError(400, message) }
}

/// Predictions for the API and the pages: names checked against the discovered bundles and
/// the strategy table, the table read and the predictors run on the worker pool.
public struct PredictionService: Sendable {
    public let cache: ModelCache
    public let pool: WorkerPool
    /// What the uploaded table is called in messages.
    public static let inputName = "mids"

    public init(cache: ModelCache, pool: WorkerPool) {
        self.cache = cache
        self.pool = pool
    }

    /// The loaded bundle `name`: 404 when no discovered bundle has that name.
    public func entry(_ name: String) async throws -> ModelCache.Entry {
        do { return try await cache.entry(name) }
        catch let e as ModelNotFoundError { throw ServiceError(404, e.description) }
        catch { throw ServiceError(500, "\(error)") }
    }

    public func predict(_ request: PredictionRequest) async throws -> PredictionResults {
        let entry = try await entry(request.model)
        let bundle = entry.bundle
        var names: [String] = []
        for n in request.predictors where !names.contains(n) { names.append(n) }
        guard !names.isEmpty else { throw ServiceError.badRequest("no predictor named; known: \(StrategyRegistry.known(.predictor).joined(separator: ", "))") }
        for n in names {
            do { _ = try StrategyRegistry.strategy(n, kind: .predictor) } catch { throw ServiceError.badRequest("\(error)") }
            guard entry.predictors.contains(n) else {
                throw ServiceError.badRequest("predictor '\(n)' of model '\(bundle.name)' is not trained (its weights file is missing); available: \(entry.predictors.joined(separator: ", "))")
            }
        }
        if let i = request.imputer {
            do { _ = try StrategyRegistry.strategy(i, kind: .imputer) } catch { throw ServiceError.badRequest("\(error)") }
            guard entry.imputers.contains(i) else {
                throw ServiceError.badRequest("imputer '\(i)' of model '\(bundle.name)' is not trained (its weights file is missing); available: \(entry.imputers.isEmpty ? "none" : entry.imputers.joined(separator: ", "))")
            }
        }
        if let s = request.stddev, !(s.isFinite && s >= MeasuredLabeling.minimumStddev && s <= 1) {
            throw ServiceError.badRequest("stddev \(s) must be a number in [\(MeasuredLabeling.minimumStddev), 1] (σ of a MID fraction)")
        }
        var options = StrategyRegistry.Options()
        options.measurementStddev = request.stddev
        options.threads = 1   // requests run side by side on the worker pool
        options.imputer = request.imputer
        var predictors: [any FluxPredictor] = []
        for n in names {
            do { predictors.append(try await cache.predictor(n, of: entry, options: options)) }
            catch { throw ServiceError(500, "predictor '\(n)' of model '\(bundle.name)' cannot be set up: \(error)") }
        }
        let prepared: ModelCache.Prepared
        do { prepared = try await cache.prepared(entry) }
        catch { throw ServiceError(500, "model '\(bundle.name)' cannot be prepared: \(error)") }
        let job = PredictionJob(bundle: bundle, predictors: predictors, imputer: request.imputer, options: options,
                                simulator: prepared.simulator, imputers: cache.imputers)
        let mids = request.mids, requested = names
        do {
            return try await pool.run {
                let samples = try Self.readSamples(mids, layout: bundle.layout, model: bundle.name)
                let provenance = PredictionOutput.Provenance(version: MLFluxVersion.current, bundle: bundle.directory,
                                                             bundleSHA256: prepared.fingerprint)
                let runs = try Self.scrubbing { try job.run(samples: samples, input: Self.inputName) }
                return PredictionResults(model: entry, samples: try zip(samples, runs).map { sample, run in
                    let predictions = try zip(requested, run.outcomes).map { name, o -> PredictionResults.Prediction in
                        var o = o
                        o.notes = sample.labeling.notes + o.notes
                        let simulated = try prepared.simulator.simulate(o.prediction.fluxState).values
                        let document = PredictionOutput.document(o.prediction, fit: o.fit, network: bundle.network, model: bundle.name,
                                                                 predictor: name, freeNames: bundle.basis.names, provenance: provenance,
                                                                 basis: bundle.basis)
                        return .init(predictor: name, outcome: o, simulated: simulated, document: document)
                    }
                    return PredictionResults.Sample(name: sample.sample, measured: sample.labeling, predictions: predictions)
                })
            }
        } catch let e as WorkerPool.Busy {
            throw ServiceError(503, e.description)
        } catch let e as ServiceError {
            throw e
        } catch {
            throw ServiceError.badRequest("\(error)")
        }
    }

    /// The table text split by its `sample` column, read as `mlflux predict` reads a file: the
    /// text goes to a file in a fresh temporary folder (removed afterwards) and messages name
    /// it `mids`. A sample with nothing measured is an error.
    static func readSamples(_ text: String, layout: LabelingLayout, model: String) throws -> [(sample: String, labeling: MeasuredLabeling)] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlflux-serve-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("mids.csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .withoutOverwriting)
        return try scrubbing(path: file) {
            let samples = try LabelingTable.readSamples(contentsOf: file, layout: layout)
            return try samples.map { s in
                var labeling = s.labeling
                labeling.notes = labeling.notes.map { $0.replacingOccurrences(of: file, with: inputName) }
                let name = s.sample.isEmpty ? inputName : "\(inputName) (sample \(s.sample))"
                guard labeling.mask.contains(true) else {
                    throw ServiceError.badRequest("\(name): no MID was measured (the table has no row with a fraction); fill in the fraction column of the template of '\(model)'")
                }
                return (s.sample, labeling)
            }
        }
    }

    /// Runs `body`; an error's text has `path` replaced by `mids` and becomes a 400.
    static func scrubbing<T>(path: String? = nil, _ body: () throws -> T) throws -> T {
        do { return try body() }
        catch let e as ServiceError { throw e }
        catch {
            let text = "\(error)"
            throw ServiceError.badRequest(path.map { text.replacingOccurrences(of: $0, with: inputName) } ?? text)
        }
    }
}
