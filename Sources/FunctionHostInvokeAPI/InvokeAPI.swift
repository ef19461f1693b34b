import FunctionHostCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The Lambda Invoke API and the read side of the control plane (`ListFunctions`,
/// `GetFunction`, `GetFunctionConfiguration`), served over HTTP as AWS serves them.
///
/// This is the one place where host errors become AWS-shaped HTTP errors; a function's own
/// failure is always a 200 with `X-Amz-Function-Error`, never a 5xx (SDKs retry 5xx).
public struct InvokeAPI: Sendable {
    let catalog: FunctionCatalog
    let invoker: any Invoker
    let asyncQueue: any AsyncInvocationSink
    let account: AccountContext
    /// Reserved and provisioned concurrency; without it the concurrency operations are unknown.
    let concurrency: (any ConcurrencyControl)?
    /// Renders `GET /metrics` (Prometheus text); without it the route is unknown.
    let metrics: (@Sendable () async -> [UInt8])?
    /// Live `EventInvokeConfig`s; without it the event-invoke-config operations are unknown.
    let eventInvokeConfigs: EventInvokeConfigRegistry?

    public init(
        catalog: FunctionCatalog, invoker: any Invoker, asyncQueue: any AsyncInvocationSink, account: AccountContext,
        concurrency: (any ConcurrencyControl)? = nil, metrics: (@Sendable () async -> [UInt8])? = nil,
        eventInvokeConfigs: EventInvokeConfigRegistry? = nil
    ) {
        self.eventInvokeConfigs = eventInvokeConfigs
        self.catalog = catalog
        self.invoker = invoker
        self.asyncQueue = asyncQueue
        self.account = account
        self.concurrency = concurrency
        self.metrics = metrics
    }

    /// Largest synchronous request payload (6 MB).
    static let maximumSyncPayload = 6_291_456
    /// Largest `Event` request payload (1 MB).
    static let maximumAsyncPayload = 1_048_576

    /// The routes; Hummingbird matches a path with or without its trailing slash.
    public func makeRouter() -> Router<ServeRequestContext> {
        let router = Router(context: ServeRequestContext.self)
        router.add(middleware: UnknownOperationMiddleware())
        router.post("/2015-03-31/functions/:name/invocations") { request, context in
            await self.invoke(request, context)
        }
        router.post("/2014-11-13/functions/:name/invoke-async") { request, context in
            await self.invokeAsyncLegacy(request, context)
        }
        router.get("/2015-03-31/functions") { request, _ in self.listFunctions(request) }
        router.get("/2015-03-31/functions/:name") { request, context in
            self.getFunction(request, context, configurationOnly: false)
        }
        router.get("/2015-03-31/functions/:name/configuration") { request, context in
            self.getFunction(request, context, configurationOnly: true)
        }
        router.get("/2016-08-19/account-settings") { _, _ in self.accountSettings() }
        addConcurrencyRoutes(to: router)
        addEventInvokeConfigRoutes(to: router)
        addMetricsRoute(to: router)
        return router
    }

    /// Resolves the `{name}` path parameter and `Qualifier` query to a served function.
    func resolveFunction(_ request: Request, _ context: ServeRequestContext) throws(LambdaAPIError) -> (
        FunctionCatalog.Entry, qualifier: String?
    ) {
        let raw = context.parameters.get("name") ?? ""
        let text = raw.removingPercentEncoding ?? raw
        // A nested stack's function, `Child/Function` (`Child%2FFunction` in the path), as `sam local` names it.
        if text.contains("/"), let entry = catalog.entry(named: text) {
            let qualifier = request.uri.queryParameters.get("Qualifier").map { $0.removingPercentEncoding ?? $0 }
            guard qualifier == nil || qualifier == "$LATEST" else {
                throw .functionNotFound(account.functionARN(text, qualifier: qualifier))
            }
            return (entry, qualifier)
        }
        guard let reference = FunctionReference(parsing: text) else {
            throw .validation(
                value: text, field: "functionName",
                constraint:
                    "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
            )
        }
        let queryQualifier = request.uri.queryParameters.get("Qualifier").map { $0.removingPercentEncoding ?? $0 }
        if let embedded = reference.qualifier, let queryQualifier, embedded != queryQualifier {
            throw .invalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
        }
        let qualifier = reference.qualifier ?? queryQualifier
        if let region = reference.region, region != account.region {
            throw LambdaAPIError(
                status: .notFound, code: "ResourceNotFoundException",
                message: "Functions from '\(region)' are not reachable in this region ('\(account.region)')",
                messageKey: "Message")
        }
        let owner = AccountContext(accountID: reference.accountID ?? account.accountID, region: account.region)
        guard owner.accountID == account.accountID, let entry = catalog.entry(named: reference.name),
            qualifier == nil || qualifier == "$LATEST" || qualifier == entry.configuration.alias
        else { throw .functionNotFound(owner.functionARN(reference.name, qualifier: qualifier)) }
        return (entry, qualifier)
    }

    static func newRequestID() -> String { InvocationIdentifiers.requestID() }
}

/// Answers requests no route matched with an AWS-shaped `UnknownOperationException`.
struct UnknownOperationMiddleware: RouterMiddleware {
    typealias Context = ServeRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            return LambdaAPIError(
                status: .notFound, code: "UnknownOperationException",
                message: "Unknown operation: \(request.method) \(request.uri.path)", messageKey: "Message"
            ).response(requestID: InvokeAPI.newRequestID())
        }
    }
}
