import Bundles
import MLFluxOutput

/// The JSON bodies of the API (`GET /api/v1/openapi.json` describes them).
enum API {
    /// `POST /api/v1/predict` with `Content-Type: application/json`.
    struct PredictBody: Decodable {
        var model: String
        var mids: String
        var predictors: [String]?
        var imputer: String?
        var stddev: Double?
    }

    struct Model: Encodable {
        var name: String
        var description: String
        var experiments: [String]
        var metabolites: [String]
        /// Reactions of the network.
        var reactions: Int
        var predictors: [String]
        var imputers: [String]
        var defaultImputer: String?

        init(_ e: ModelCache.Entry) {
            name = e.bundle.name
            description = e.bundle.manifest.description
            experiments = e.bundle.layout.experimentIDs
            metabolites = e.bundle.layout.fragmentNames
            reactions = e.bundle.network.reactions.count
            predictors = e.predictors
            imputers = e.imputers
            defaultImputer = e.defaultImputer
        }

        /// `defaultImputer` is written as null when there is none (not left out).
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(description, forKey: .description)
            try c.encode(experiments, forKey: .experiments)
            try c.encode(metabolites, forKey: .metabolites)
            try c.encode(reactions, forKey: .reactions)
            try c.encode(predictors, forKey: .predictors)
            try c.encode(imputers, forKey: .imputers)
            try c.encode(defaultImputer, forKey: .defaultImputer)
        }
        enum CodingKeys: String, CodingKey { case name, description, experiments, metabolites, reactions, predictors, imputers, defaultImputer }
    }

    struct Models: Encodable { var models: [Model] }

    struct Prediction: Encodable {
        var predictor: String
        /// Wall time of this prediction, s.
        var seconds: Double
        var notes: [String]
        var warnings: [String]
        var result: PredictionOutput.Document
    }

    struct Sample: Encodable {
        var sample: String
        var predictions: [Prediction]
    }

    struct PredictResponse: Encodable {
        var model: String
        var samples: [Sample]

        init(_ r: PredictionResults) {
            model = r.model.bundle.name
            samples = r.samples.map { s in
                Sample(sample: s.name, predictions: s.predictions.map {
                    Prediction(predictor: $0.predictor, seconds: $0.outcome.seconds, notes: $0.outcome.notes,
                               warnings: $0.outcome.warnings, result: $0.document)
                })
            }
        }
    }

    struct ErrorBody: Encodable { var error: String }
}
