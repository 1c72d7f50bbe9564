import Bundles
import Foundation
import Hummingbird
import MLFluxCore
import MLFluxOutput

/// The browser pages: `/` (models and the upload form) and `POST /predict` (results).
/// Server-rendered HTML without JavaScript; every text from a request is escaped.
struct PageHandlers: Sendable {
    let service: PredictionService
    let maxBody: Int
    let fluxMap: FluxMapRenderer?

    func index() async -> Response {
        let entries = await service.cache.loadedEntries()
        var b = "<h1>MLFlux: fluxes from measured MIDs</h1>\n"
        if entries.isEmpty {
            b += "<p class=\"error\">No model bundles were found (searched \(HTML.escape(service.cache.registry.searchPaths.plugins.joined(separator: ", ")))).</p>"
            return .text(HTML.page(title: "MLFlux", body: b), type: "text/html; charset=utf-8")
        }
        b += "<h2>Models</h2>\n<table><tr><th>Model</th><th>Description</th><th>Experiments</th><th>Measured metabolites</th><th>Reactions</th><th>Predictors</th><th>Imputers</th><th>Template</th></tr>\n"
        for e in entries {
            let m = API.Model(e)
            b += "<tr><td>\(HTML.escape(m.name))</td><td>\(HTML.escape(m.description))</td><td>\(HTML.escape(m.experiments.joined(separator: ", ")))</td>"
            b += "<td>\(m.metabolites.count)</td><td class=\"n\">\(m.reactions)</td><td>\(HTML.escape(m.predictors.joined(separator: ", ")))</td>"
            b += "<td>\(HTML.escape(m.imputers.isEmpty ? "none" : m.imputers.joined(separator: ", ")))</td>"
            b += "<td><a href=\"/api/v1/models/\(HTML.escape(m.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? m.name))/template\" download=\"\(HTML.escape(m.name))_template.csv\">template.csv</a></td></tr>\n"
        }
        b += "</table>\n"
        let predictors = Array(Set(entries.flatMap(\.predictors))).sorted { a, b in
            (StrategyRegistry.known(.predictor).firstIndex(of: a) ?? 99) < (StrategyRegistry.known(.predictor).firstIndex(of: b) ?? 99)
        }
        let imputers = Array(Set(entries.flatMap(\.imputers))).sorted()
        b += """
        <h2>Predict</h2>
        <form method="post" action="/predict" enctype="multipart/form-data">
        <fieldset><legend>Model</legend><select name="model">
        \(entries.map { "<option value=\"\(HTML.escape($0.bundle.name))\">\(HTML.escape($0.bundle.name))</option>" }.joined())
        </select></fieldset>
        <fieldset><legend>Measured MIDs</legend>
        <p>Paste a table (CSV or TSV, long form <code>experiment,metabolite,isotopologue,fraction[,stddev]</code> or wide, an optional <code>sample</code> column) or upload a file (at most \(HTML.escape(ServerConfiguration.describe(bytes: maxBody)))).</p>
        <textarea name="mids" rows="10" placeholder="experiment,metabolite,isotopologue,fraction"></textarea>
        <p><input type="file" name="file" accept=".csv,.tsv,.txt,text/csv,text/plain"></p></fieldset>
        <fieldset><legend>Predictors</legend>
        \(predictors.map { "<label><input type=\"checkbox\" name=\"predictor\" value=\"\(HTML.escape($0))\"\($0 == "ann" ? " checked" : "")> \(HTML.escape($0))</label> " }.joined())
        </fieldset>
        <fieldset><legend>Imputer for missing MIDs</legend><select name="imputer"><option value="">the model's default</option>
        \(imputers.map { "<option value=\"\(HTML.escape($0))\">\(HTML.escape($0))</option>" }.joined())
        </select>
        <label>σ of MID entries without a stddev column <input name="stddev" size="6" placeholder="0.01"></label></fieldset>
        <p><button type="submit">Predict</button></p>
        </form>
        <p class="note">The same service as JSON: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
        """
        return .text(HTML.page(title: "MLFlux", body: b), type: "text/html; charset=utf-8")
    }

    func predict(_ request: Request) async -> Response {
        do {
            let form: FormData
            switch HTTPInput.mediaType(request) {
            case "multipart/form-data":
                guard let boundary = HTTPInput.parameter("boundary", of: request) else {
                    throw ServiceError.badRequest("multipart form without a boundary parameter")
                }
                form = try FormData.multipart(try await HTTPInput.body(request, limit: maxBody), boundary: boundary)
            case "application/x-www-form-urlencoded":
                form = try FormData.urlEncoded(try await HTTPInput.body(request, limit: maxBody))
            case let type:
                throw ServiceError(415, "unsupported Content-Type '\(type.isEmpty ? "none" : type)': the form posts multipart/form-data")
            }
            let pasted = form.value("mids") ?? "", file = form.value("file") ?? ""
            let hasPaste = !pasted.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            let hasFile = !file.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            guard hasPaste != hasFile else {
                throw ServiceError.badRequest(hasPaste ? "both a pasted table and a file were sent: send one" : "no MID table: paste one or choose a file")
            }
            guard let model = form.value("model"), !model.isEmpty else { throw ServiceError.badRequest("no model chosen") }
            var stddev: Double?
            if let s = form.value("stddev")?.trimmingCharacters(in: .whitespaces), !s.isEmpty {
                guard let v = Double(s) else { throw ServiceError.badRequest("σ '\(s.prefix(40))' is not a number") }
                stddev = v
            }
            let predictors = form.values("predictor")
            let imputer = form.value("imputer").flatMap { $0.isEmpty ? nil : $0 }
            let results = try await service.predict(PredictionRequest(model: model, mids: hasPaste ? pasted : file,
                                                                      predictors: predictors.isEmpty ? ["ann"] : predictors,
                                                                      imputer: imputer, stddev: stddev))
            return .text(ResultsPage.render(results, fluxMap: fluxMap), type: "text/html; charset=utf-8")
        } catch let e as ServiceError {
            return errorPage(e)
        } catch {
            return errorPage(ServiceError(500, "\(error)"))
        }
    }

    func errorPage(_ e: ServiceError) -> Response {
        let body = "<h1>Prediction refused</h1>\n<p class=\"error\">\(HTML.escape(e.message))</p>\n<p><a href=\"/\">Back to the form</a></p>"
        return .text(HTML.page(title: "MLFlux: error", body: body), type: "text/html; charset=utf-8",
                     status: HTTPResponse.Status(code: e.status))
    }
}
