import FunctionHostCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension InvokeAPI {
    /// `POST /2015-03-31/functions/{name}/invocations`.
    func invoke(_ request: Request, _ context: ServeRequestContext) async -> Response {
        let requestID = Self.newRequestID()
        do throws(LambdaAPIError) {
            return try await invoke(request, context, requestID: requestID)
        } catch {
            return error.response(requestID: requestID)
        }
    }

    private func invoke(_ request: Request, _ context: ServeRequestContext, requestID: String) async throws(LambdaAPIError)
        -> Response
    {
        let (entry, qualifier) = try resolveFunction(request, context)
        let function = entry.configuration
        let invocationType = request.headers[.amzInvocationType] ?? "RequestResponse"
        guard ["RequestResponse", "Event", "DryRun"].contains(invocationType) else {
            throw .validation(
                value: invocationType, field: "invocationType",
                constraint: "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
        }
        let logType = request.headers[.amzLogType] ?? "None"
        guard ["None", "Tail"].contains(logType) else {
            throw .validation(value: logType, field: "logType", constraint: "Member must satisfy enum value set: [Tail, None]")
        }
        let limit = invocationType == "Event" ? Self.maximumAsyncPayload : Self.maximumSyncPayload
        let payload = try await Self.readPayload(request, limit: limit, invocationType: invocationType)
        let clientContext = try Self.decodeClientContext(request.headers[.amzClientContext])

        let invocation = InvocationRequest(
            requestID: requestID, payload: payload,
            invokedFunctionARN: account.functionARN(function.functionName, qualifier: qualifier),
            clientContext: invocationType == "RequestResponse" ? clientContext : nil,
            traceID: request.headers[.amznTraceID] ?? InvocationIdentifiers.traceHeader(),
            tenantID: request.headers[.amzTenantID],
            wantsLogTail: logType == "Tail" && invocationType == "RequestResponse")

        var headers = HTTPFields()
        headers[.amznRequestID] = requestID
        switch invocationType {
        case "DryRun":
            return Response(status: .noContent, headers: headers)
        case "Event":
            do {
                try await asyncQueue.enqueue(function, invocation)
            } catch {
                throw .service("The event could not be queued: \(error)")
            }
            return Response(status: .accepted, headers: headers)
        default:
            let result: InvocationResult
            do {
                result = try await WorkerPlacement.$eventLoop.withValue(context.eventLoop) {
                    try await invoker.invoke(function, invocation)
                }
            } catch let error as InvokeError where error.throttleReason != nil {
                throw .tooManyRequests(error.throttleReason!)
            } catch let error as InvokeError where error.code == .shuttingDown {
                throw LambdaAPIError(
                    status: .serviceUnavailable, code: "ServiceException", message: error.message, messageKey: "Message",
                    type: "Service")
            } catch {
                throw .service("\(error)")
            }
            Self.addResultHeaders(of: result, to: &headers)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: result.payload))
        }
    }

    /// Appends the headers of a synchronous invoke's `200` that describe its result, none of
    /// which `headers` may hold yet (appending skips the search a subscript makes).
    static func addResultHeaders(of result: InvocationResult, to headers: inout HTTPFields) {
        headers.append(HTTPField(name: .contentType, value: result.contentType))
        headers.append(HTTPField(name: .amzExecutedVersion, value: result.executedVersion))
        if let functionError = result.functionError {
            headers.append(HTTPField(name: .amzFunctionError, value: functionError))
        }
        if var tail = result.logTail {
            // From the string's bytes in place: `Data(tail.utf8)` casts its way through a generic sequence.
            headers.append(HTTPField(name: .amzLogResult, value: tail.withUTF8 { Data(buffer: $0).base64EncodedString() }))
        }
    }

    /// `POST /2014-11-13/functions/{name}/invoke-async/` (deprecated InvokeAsync): queues the event, answers `{"Status":202}`.
    func invokeAsyncLegacy(_ request: Request, _ context: ServeRequestContext) async -> Response {
        let requestID = Self.newRequestID()
        do throws(LambdaAPIError) {
            let (entry, _) = try resolveFunction(request, context)
            let payload = try await Self.readPayload(request, limit: Self.maximumAsyncPayload, invocationType: "Event")
            let invocation = InvocationRequest(
                requestID: requestID, payload: payload,
                invokedFunctionARN: account.functionARN(entry.configuration.functionName), traceID: InvocationIdentifiers.traceHeader())
            do {
                try await asyncQueue.enqueue(entry.configuration, invocation)
            } catch {
                throw .service("The event could not be queued: \(error)")
            }
            var headers = HTTPFields()
            headers[.amznRequestID] = requestID
            headers[.contentType] = "application/json"
            return Response(status: .accepted, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"Status":202}"#)))
        } catch {
            return error.response(requestID: requestID)
        }
    }

    /// Reads and checks the payload: size limit, JSON, and `{}` for an empty body.
    static func readPayload(_ request: Request, limit: Int, invocationType: String) async throws(LambdaAPIError)
        -> ByteBuffer
    {
        let payload: ByteBuffer
        do {
            let declared = request.headers[.contentLength].flatMap { Int($0) }
            switch try await BoundedBody.read(request.body, declaredLength: declared, limit: limit) {
            case .complete(let body):
                payload = body
            case .tooLarge(let received, let drained):
                throw LambdaAPIError.payloadTooLarge(
                    size: drained || declared != nil ? received : nil, limit: limit, invocationType: invocationType)
            }
        } catch let error as LambdaAPIError {
            throw error
        } catch {
            throw .invalidContent("Could not read the request body: \(error)")
        }
        guard payload.readableBytes > 0 else { return ByteBuffer(string: "{}") }
        do {
            try StrictJSON.validate(payload)
        } catch {
            throw .invalidContent("Could not parse request body into json: Could not parse payload into json: \(error)")
        }
        return payload
    }

    /// `X-Amz-Client-Context` is base64 of a JSON object; the runtime gets the decoded JSON.
    static func decodeClientContext(_ header: String?) throws(LambdaAPIError) -> String? {
        guard let header, !header.isEmpty else { return nil }
        guard header.utf8.count <= 3583, let data = Data(base64Encoded: header),
            (try? JSONSerialization.jsonObject(with: data)) is [String: Any]
        else {
            throw .invalidContent("Client context must be a valid Base64-encoded JSON object.")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
