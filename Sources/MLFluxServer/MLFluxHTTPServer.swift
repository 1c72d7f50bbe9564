import Bundles
import Foundation
import Hummingbird
import Logging
import MLFluxCore
import MLFluxOutput
import Prediction

/// `mlflux serve`: the pages (`/`, `POST /predict`) and the JSON API (`/api/v1/…`, described
/// by `GET /api/v1/openapi.json`) over HTTP/1.1. Bundles come from the registry it is given
/// (by default the search path of `mlflux models`); predictions run on a `WorkerPool`.
public struct MLFluxHTTPServer: Sendable {
    public let configuration: ServerConfiguration
    public let service: PredictionService
    /// Draws the flux map of one prediction as an SVG element for the results page (nil:
    /// the page has no map).
    public var fluxMap: FluxMapRenderer?

    public init(configuration: ServerConfiguration = .init(),
                registry: BundleRegistry = BundleRegistry(searchPaths: .standard()),
                fluxMap: FluxMapRenderer? = MLFluxHTTPServer.standardFluxMap) {
        self.configuration = configuration
        self.service = PredictionService(cache: ModelCache(registry: registry),
                                         pool: WorkerPool(workers: configuration.workers, queue: configuration.queue))
        self.fluxMap = fluxMap
    }

    /// The routes, as `GET /api/v1/openapi.json` lists them (method, path).
    public static let routes: [(method: String, path: String)] = [
        ("GET", "/"), ("POST", "/predict"),
        ("GET", "/api/v1/models"), ("GET", "/api/v1/models/{name}/template"),
        ("POST", "/api/v1/predict"), ("GET", "/api/v1/openapi.json"),
    ]

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: UnknownRouteMiddleware())
        let api = APIHandlers(service: service, maxBody: configuration.maxBody)
        let pages = PageHandlers(service: service, maxBody: configuration.maxBody, fluxMap: fluxMap)
        router.get("/") { _, _ in await pages.index() }
        router.post("/predict") { request, _ in await pages.predict(request) }
        router.get("/api/v1/models") { _, _ in await api.models() }
        router.get("/api/v1/models/{name}/template") { _, context in
            await api.template(context.parameters.get("name") ?? "")
        }
        router.post("/api/v1/predict") { request, _ in await api.predict(request) }
        router.get("/api/v1/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        return router
    }

    /// The application; `onListening(host, port)` is called with the bound port once it listens.
    public func application(onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }) -> some ApplicationProtocol {
        var logger = Logger(label: "mlflux-serve")
        logger.logLevel = .warning
        let host = configuration.host
        return Application(router: router(),
                           configuration: .init(address: .hostname(host, port: configuration.port), serverName: nil),
                           onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
                           logger: logger)
    }

    /// Serves until SIGINT or SIGTERM, then finishes the predictions under way.
    public func run(onListening: @escaping @Sendable (String, Int) -> Void) async throws {
        defer { service.pool.shutdown() }
        try await application(onListening: onListening).runService()
    }
}

/// The flux map of one prediction as an SVG element (`<svg …>…</svg>`), or nil when the
/// bundle has none; the results page places it beside the flux table.
public typealias FluxMapRenderer = @Sendable (_ bundle: ModelBundle, _ prediction: PredictionResults.Prediction) -> String?

extension MLFluxHTTPServer {
    /// The flux map of `mlflux predict --map` (`FluxMap`): the bundle's coordinates when its
    /// manifest names a map file, else the automatic layout; no map when the file is unusable.
    public static let standardFluxMap: FluxMapRenderer = { bundle, p in
        guard let layout = try? bundle.fluxMapLayout() else { return nil }
        return FluxMap.svg(network: bundle.network, prediction: p.outcome.prediction, layout: layout,
                           title: "\(bundle.name): \(p.predictor) fluxes")
    }
}

/// A request for no route (or a method a route does not take) gets the API's 404 body,
/// `{"error": "…"}`, instead of the framework's.
struct UnknownRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) }
        catch let e as HTTPError where e.status == .notFound {
            return .error(ServiceError(404, "no route \(request.method) \(request.uri.path) (see /api/v1/openapi.json)"))
        }
    }
}

/// What both the API and the pages do with a request: media types and the body size limit.
enum HTTPInput {
    /// The media type of the request, lower-case, without parameters ("" when none).
    static func mediaType(_ request: Request) -> String {
        guard let value = request.headers[.contentType] else { return "" }
        return value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// A parameter of the Content-Type header (`boundary`, `charset`), unquoted.
    static func parameter(_ name: String, of request: Request) -> String? {
        request.headers[.contentType].flatMap { FormData.parameter(name, in: $0) }
    }

    /// The whole body, at most `limit` bytes: a larger one (by its Content-Length or as it
    /// arrives) is a 413 naming the limit.
    static func body(_ request: Request, limit: Int) async throws -> [UInt8] {
        let tooLarge = ServiceError(413, "the request body is larger than the server's limit of \(ServerConfiguration.describe(bytes: limit)) (mlflux serve --max-body)")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { throw tooLarge }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch let e as any HTTPResponseError where e.status == .contentTooLarge {
            throw tooLarge   // NIOTooManyBytesError: the body grew past the limit as it arrived
        }
    }

    /// The body as UTF-8 text (a 400 otherwise).
    static func text(_ bytes: [UInt8], what: String) throws -> String {
        guard let s = String(bytes: bytes, encoding: .utf8) else { throw ServiceError.badRequest("\(what) is not UTF-8 text") }
        return s
    }
}

extension Response {
    /// `value` as the command line's JSON (sorted keys; non-finite numbers as "inf", "-inf", "nan").
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONOutput.data(value)) ?? Data(#"{"error": "the response could not be encoded"}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ e: ServiceError) -> Response {
        json(API.ErrorBody(error: e.message), status: HTTPResponse.Status(code: e.status))
    }

    static func text(_ text: String, type: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
