import Bundles
import Foundation
import Hummingbird
import MLFluxCore
import SafeIO

/// The JSON API: models, templates, predictions. Every refusal is `{"error": "one line"}`
/// with its status (400 bad input, 404 unknown model, 413 too large, 415 media type, 503 busy).
struct APIHandlers: Sendable {
    let service: PredictionService
    let maxBody: Int

    /// Media types of a bare MID table body (`?model=…&predictor=…`).
    static let tableTypes: Set<String> = ["text/csv", "text/plain", "text/tab-separated-values"]

    func models() async -> Response {
        let entries = await service.cache.loadedEntries()
        return .json(API.Models(models: entries.map(API.Model.init)))
    }

    func template(_ name: String) async -> Response {
        let name = name.removingPercentEncoding ?? name
        do {
            let entry = try await service.entry(name)
            return .text(LabelingTable.template(entry.bundle.layout), type: "text/csv; charset=utf-8")
        } catch let e as ServiceError { return .error(e) }
        catch { return .error(ServiceError(500, "\(error)")) }
    }

    func predict(_ request: Request) async -> Response {
        do {
            let prediction = try await Self.request(request, maxBody: maxBody)
            return .json(API.PredictResponse(try await service.predict(prediction)))
        } catch let e as ServiceError {
            return .error(e)
        } catch {
            return .error(ServiceError(500, "\(error)"))
        }
    }

    /// The prediction a request asks for: a JSON body, or a table body with the names in the query.
    static func request(_ request: Request, maxBody: Int) async throws -> PredictionRequest {
        let type = HTTPInput.mediaType(request)
        if type == "application/json" {
            let bytes = try await HTTPInput.body(request, limit: maxBody)
            let body: API.PredictBody
            do { body = try JSONDecoder().decode(API.PredictBody.self, from: Data(bytes)) }
            catch let e as DecodingError { throw ServiceError.badRequest("request body: \(DecodingErrorText.describe(e))") }
            return PredictionRequest(model: body.model, mids: body.mids, predictors: body.predictors ?? ["ann"],
                                     imputer: body.imputer, stddev: body.stddev)
        }
        guard tableTypes.contains(type) else {
            throw ServiceError(415, "unsupported Content-Type '\(type.isEmpty ? "none" : type)': send application/json ({\"model\": NAME, \"mids\": TABLE, …}) or a table as text/csv with ?model=NAME&predictor=NAME")
        }
        let query = request.uri.queryParameters
        guard let model = query["model"].map(String.init), !model.isEmpty else {
            throw ServiceError.badRequest("query parameter 'model' is missing (a table body needs ?model=NAME)")
        }
        let predictors = query[values: "predictor"].map(String.init)
        var stddev: Double?
        if let s = query["stddev"] {
            guard let v = Double(s) else { throw ServiceError.badRequest("query parameter 'stddev': '\(s.prefix(40))' is not a number") }
            stddev = v
        }
        let imputer = query["imputer"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let text = try HTTPInput.text(try await HTTPInput.body(request, limit: maxBody), what: "the request body")
        return PredictionRequest(model: model, mids: text, predictors: predictors.isEmpty ? ["ann"] : predictors,
                                 imputer: imputer, stddev: stddev)
    }
}
