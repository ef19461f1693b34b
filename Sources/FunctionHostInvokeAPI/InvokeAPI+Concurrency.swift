import FunctionHostCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension InvokeAPI {
    /// `Put/Get/DeleteFunctionConcurrency` and `Put/Get/Delete/ListProvisionedConcurrencyConfig(s)`.
    func addConcurrencyRoutes(to router: Router<ServeRequestContext>) {
        guard let concurrency else { return }
        router.put("/2017-10-31/functions/:name/concurrency") { request, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveUnqualified(context)
                let value = try await Self.readInteger(request, "ReservedConcurrentExecutions", minimum: 0)
                do throws(ConcurrencyConfigurationError) {
                    try concurrency.setReservedConcurrency(value, of: function.functionName)
                } catch {
                    throw .invalidParameter(error.message)
                }
                return Self.json(["ReservedConcurrentExecutions": value], requestID: requestID)
            }
        }
        router.get("/2019-09-30/functions/:name/concurrency") { _, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveUnqualified(context)
                let value = concurrency.reservedConcurrency(of: function.functionName)
                return Self.json(value.map { ["ReservedConcurrentExecutions": $0] } ?? [:], requestID: requestID)
            }
        }
        router.delete("/2017-10-31/functions/:name/concurrency") { _, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveUnqualified(context)
                do throws(ConcurrencyConfigurationError) {
                    try concurrency.setReservedConcurrency(nil, of: function.functionName)
                } catch {
                    throw .invalidParameter(error.message)
                }
                return Self.noContent(requestID: requestID)
            }
        }
        router.put("/2019-09-30/functions/:name/provisioned-concurrency") { request, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveUnqualified(context)
                let qualifier = try self.publishedQualifier(request, of: function)
                let value = try await Self.readInteger(request, "ProvisionedConcurrentExecutions", minimum: 1)
                let status: ProvisionedConcurrencyStatus?
                do throws(ConcurrencyConfigurationError) {
                    status = try await concurrency.setProvisionedConcurrency(
                        value, qualifier: qualifier, of: function.functionName)
                } catch {
                    throw .invalidParameter(error.message)
                }
                guard let status else { throw .service("provisioned concurrency was not recorded") }
                return Self.json(ProvisionedConfigDocument(status), status: .accepted, requestID: requestID)
            }
        }
        router.get("/2019-09-30/functions/:name/provisioned-concurrency") { request, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveUnqualified(context)
                let status = await concurrency.provisionedConcurrency(of: function.functionName)
                if request.uri.queryParameters.get("List") == "ALL" {
                    struct Listing: Encodable { var ProvisionedConcurrencyConfigs: [ProvisionedConfigDocument] }
                    let arn = self.account.functionARN(function.functionName)
                    let configs = status.map { [ProvisionedConfigDocument($0, functionARN: arn)] } ?? []
                    return Self.json(Listing(ProvisionedConcurrencyConfigs: configs), requestID: requestID)
                }
                let qualifier = try self.publishedQualifier(request, of: function)
                guard let status, status.qualifier == qualifier else { throw .provisionedConfigNotFound }
                return Self.json(ProvisionedConfigDocument(status), requestID: requestID)
            }
        }
        router.delete("/2019-09-30/functions/:name/provisioned-concurrency") { request, context in
            await self.answer { requestID throws(LambdaAPIError) in
                let function = try self.resolveUnqualified(context)
                let qualifier = try self.publishedQualifier(request, of: function)
                guard let status = await concurrency.provisionedConcurrency(of: function.functionName),
                    status.qualifier == qualifier
                else { throw .provisionedConfigNotFound }
                do throws(ConcurrencyConfigurationError) {
                    _ = try await concurrency.setProvisionedConcurrency(nil, qualifier: qualifier, of: function.functionName)
                } catch {
                    throw .invalidParameter(error.message)
                }
                return Self.noContent(requestID: requestID)
            }
        }
    }

    /// Runs `body` with a fresh request id and turns its error into the AWS error response.
    func answer(_ body: (String) async throws(LambdaAPIError) -> Response) async -> Response {
        let requestID = Self.newRequestID()
        do throws(LambdaAPIError) {
            return try await body(requestID)
        } catch {
            return error.response(requestID: requestID)
        }
    }

    /// The `{name}` of a concurrency operation: these apply to the function, whatever version is named.
    func resolveUnqualified(_ context: ServeRequestContext) throws(LambdaAPIError) -> FunctionConfiguration {
        let raw = context.parameters.get("name") ?? ""
        let text = raw.removingPercentEncoding ?? raw
        // A nested stack's function (`Child/Function`), which Lambda's name syntax does not allow.
        if text.contains("/"), let entry = catalog.entry(named: text) { return entry.configuration }
        guard let reference = FunctionReference(parsing: text),
            reference.region == nil || reference.region == account.region,
            reference.accountID == nil || reference.accountID == account.accountID,
            let entry = catalog.entry(named: reference.name)
        else { throw .functionNotFound(account.functionARN(text)) }
        return entry.configuration
    }

    /// The required `Qualifier` of the provisioned-concurrency operations: the function's alias
    /// (`AutoPublishAlias`), never `$LATEST`; any other is a function that does not exist.
    func publishedQualifier(_ request: Request, of function: FunctionConfiguration) throws(LambdaAPIError) -> String {
        guard let raw = request.uri.queryParameters.get("Qualifier"), !raw.isEmpty else {
            throw .validation(value: "null", field: "qualifier", constraint: "Member must not be null")
        }
        let qualifier = raw.removingPercentEncoding ?? String(raw)
        guard qualifier != "$LATEST" else {
            throw .invalidParameter("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
        }
        guard qualifier == function.alias else {
            throw .functionNotFound(account.functionARN(function.functionName, qualifier: qualifier))
        }
        return qualifier
    }

    /// Reads `{"FIELD": N}` with N ≥ `minimum`.
    static func readInteger(_ request: Request, _ field: String, minimum: Int) async throws(LambdaAPIError) -> Int {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 64 * 1024)
        } catch {
            throw .invalidContent("Could not read the request body: \(error)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw .invalidContent("Could not parse request body into json")
        }
        guard let value = object[field] as? Int else {
            throw .validation(value: "null", field: field.prefix(1).lowercased() + field.dropFirst(), constraint: "Member must not be null")
        }
        guard value >= minimum else {
            throw .validation(
                value: String(value), field: field.prefix(1).lowercased() + field.dropFirst(),
                constraint: "Member must have value greater than or equal to \(minimum)")
        }
        return value
    }

    static func noContent(requestID: String) -> Response {
        var headers = HTTPFields()
        headers[.amznRequestID] = requestID
        return Response(status: .noContent, headers: headers)
    }
}

/// `GetProvisionedConcurrencyConfigResponse` (and a `ListProvisionedConcurrencyConfigs` item).
struct ProvisionedConfigDocument: Encodable {
    var FunctionArn: String?
    var RequestedProvisionedConcurrentExecutions: Int
    var AvailableProvisionedConcurrentExecutions: Int
    var AllocatedProvisionedConcurrentExecutions: Int
    var Status: String
    var StatusReason: String?
    var LastModified: String

    init(_ status: ProvisionedConcurrencyStatus, functionARN: String? = nil) {
        FunctionArn = functionARN.map { "\($0):\(status.qualifier)" }
        RequestedProvisionedConcurrentExecutions = status.requested
        AvailableProvisionedConcurrentExecutions = status.allocated
        AllocatedProvisionedConcurrentExecutions = status.allocated
        Status = status.status
        StatusReason = status.status == "FAILED" ? status.failureReason : nil
        LastModified = status.lastModified
    }
}

extension LambdaAPIError {
    static let provisionedConfigNotFound = Self(
        status: .notFound, code: "ProvisionedConcurrencyConfigNotFoundException",
        message: "No Provisioned Concurrency Config found for this function")
}
