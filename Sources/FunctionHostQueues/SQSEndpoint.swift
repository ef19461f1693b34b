import FunctionHostCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The SQS JSON protocol (`POST /`, `X-Amz-Target: AmazonSQS.<Op>`, `application/x-amz-json-1.0`)
/// over a ``QueueEngine``: the one place where ``QueueError`` becomes SQS's wire error shape.
///
/// Queues are addressed by `QueueUrl` (`…/ACCOUNT/NAME`; the host part is ignored); URLs in
/// answers use the request's `Host`, so they work whatever port the host bound.
public struct SQSEndpoint: Sendable {
    let engine: QueueEngine
    /// `http://HOST:PORT` used when a request carries no `Host` header.
    let fallbackEndpoint: String

    public init(engine: QueueEngine, fallbackEndpoint: String) {
        self.engine = engine
        self.fallbackEndpoint = fallbackEndpoint
    }

    static let targetPrefix = "AmazonSQS."
    static let contentType = "application/x-amz-json-1.0"
    /// Largest request body read: a batch may carry 1 MiB of messages and attributes, which JSON
    /// escaping (`\n`, `\"`, base64 binary values) at most doubles; more is refused before it is
    /// parsed (a parsed 4 MB body of 20,000 entries left the host tens of MB larger for good).
    static let maximumRequestBody = 3 * 1_048_576

    /// Answers one request; never throws (every failure is an SQS error answer).
    public func handle(_ request: Request) async -> Response {
        let requestID = UUID().uuidString.lowercased()
        do {
            guard let target = request.headers[HTTPField.Name("X-Amz-Target")!], target.hasPrefix(Self.targetPrefix)
            else {
                throw QueueError(
                    .unsupportedOperation,
                    "fnhost speaks the SQS JSON protocol only (X-Amz-Target: AmazonSQS.<Operation>); update the client SDK"
                )
            }
            let operation = String(target.dropFirst(Self.targetPrefix.count))
            guard let bytes = await Self.readBody(request) else {
                // Not read to its end: answered, then the connection closes so the rest is never drained.
                var response = Self.errorResponse(
                    QueueError(
                        .invalidParameterValue, "The request body is larger than \(Self.maximumRequestBody) bytes."),
                    requestID: requestID)
                response.headers[.connection] = "close"
                return response
            }
            let object: Any =
                bytes.readableBytes == 0
                ? [String: Any]() : try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))
            guard let parameters = object as? [String: Any] else {
                throw QueueError(.invalidParameterValue, "The request body is not a JSON object.")
            }
            let call = SQSCall(
                parameters: parameters,
                endpoint: request.head.authority.map { "http://\($0)" } ?? fallbackEndpoint, account: engine.account)
            let answer = try await perform(operation, call)
            return Self.response(.ok, answer, requestID: requestID)
        } catch let error as QueueError {
            return Self.errorResponse(error, requestID: requestID)
        } catch is DecodingError {
            return Self.errorResponse(
                QueueError(.invalidParameterValue, "The request body is not valid JSON."), requestID: requestID)
        } catch let error as NSError where error.domain == NSCocoaErrorDomain {
            return Self.errorResponse(
                QueueError(.invalidParameterValue, "The request body is not valid JSON."), requestID: requestID)
        } catch {
            return Self.errorResponse(QueueError(.internalError, "\(error)"), requestID: requestID)
        }
    }

    /// The whole body, or `nil` when it is larger than ``maximumRequestBody`` bytes (or broke off).
    static func readBody(_ request: Request) async -> ByteBuffer? {
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        guard case .complete(let body) = try? await BoundedBody.read(request.body, declaredLength: declared, limit: maximumRequestBody)
        else { return nil }
        return body
    }

    static func response(
        _ status: HTTPResponse.Status, _ object: [String: Any], requestID: String, extra: HTTPFields = [:]
    )
        -> Response
    {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = extra
        headers[.contentType] = contentType
        headers[HTTPField.Name("x-amzn-RequestId")!] = requestID
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// SQS's JSON error: `__type` with namespace, `message`, and the legacy code in `x-amzn-query-error`.
    static func errorResponse(_ error: QueueError, requestID: String) -> Response {
        let shape = wireShape(error.code)
        var headers = HTTPFields()
        headers[HTTPField.Name("x-amzn-query-error")!] =
            "\(shape.queryCode);\(shape.status.code >= 500 ? "Receiver" : "Sender")"
        return response(
            shape.status, ["__type": shape.type, "message": error.message], requestID: requestID, extra: headers)
    }

    /// `__type`, legacy query code and status per code (spec 5.4).
    static func wireShape(_ code: QueueError.Code) -> (type: String, queryCode: String, status: HTTPResponse.Status) {
        let sqs = "com.amazonaws.sqs#"
        switch code {
        case .queueDoesNotExist: return (sqs + code.rawValue, "AWS.SimpleQueueService.NonExistentQueue", .badRequest)
        case .queueNameExists: return (sqs + code.rawValue, "QueueAlreadyExists", .badRequest)
        case .invalidParameterValue:
            return ("com.amazon.coral.service#InvalidParameterValueException", "InvalidParameterValue", .badRequest)
        case .missingParameter:
            return ("com.amazon.coral.service#MissingRequiredParameterException", "MissingParameter", .badRequest)
        case .purgeQueueInProgress:
            return (sqs + code.rawValue, "AWS.SimpleQueueService.PurgeQueueInProgress", .forbidden)
        case .emptyBatchRequest, .tooManyEntriesInBatchRequest, .batchEntryIdsNotDistinct, .batchRequestTooLong,
            .invalidBatchEntryId, .messageNotInflight, .unsupportedOperation:
            return (sqs + code.rawValue, "AWS.SimpleQueueService.\(code.rawValue)", .badRequest)
        case .internalError: return (sqs + code.rawValue, code.rawValue, .internalServerError)
        case .invalidAttributeName, .invalidAttributeValue, .invalidMessageContents, .receiptHandleIsInvalid,
            .invalidAddress:
            return (sqs + code.rawValue, code.rawValue, .badRequest)
        }
    }
}

/// One request's parameters with SQS's validation wording.
struct SQSCall {
    var parameters: [String: Any]
    var endpoint: String
    var account: AccountContext

    func string(_ key: String) throws(QueueError) -> String? {
        guard let value = parameters[key] else { return nil }
        guard let text = value as? String else { throw .invalidValue(value, key, "Must be a string.") }
        return text
    }

    func required(_ key: String) throws(QueueError) -> String {
        guard let text = try string(key) else { throw .missing(key) }
        return text
    }

    func integer(_ key: String, _ range: ClosedRange<Int>, _ reason: String) throws(QueueError) -> Int? {
        guard let value = parameters[key] else { return nil }
        guard let number = value as? Int, range.contains(number) else {
            throw .invalidValue(value, key, reason)
        }
        return number
    }

    func strings(_ key: String) throws(QueueError) -> [String] {
        guard let value = parameters[key] else { return [] }
        guard let list = value as? [String] else { throw .invalidValue(value, key, "Must be a list of strings.") }
        return list
    }

    func stringMap(_ key: String) throws(QueueError) -> [String: String] {
        guard let value = parameters[key] else { return [:] }
        guard let map = value as? [String: String] else { throw .invalidValue(value, key, "Must be a map of strings.") }
        return map
    }

    /// The queue a `QueueUrl` names: its last path component, if the account matches.
    func queueName() throws(QueueError) -> String {
        let url = try required("QueueUrl")
        let path = URLComponents(string: url)?.path ?? url
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 2, parts[parts.count - 2] == account.accountID else {
            if parts.count >= 2 { throw QueueError.noQueue }
            throw QueueError(.invalidAddress, "The address \(url) is not valid for this endpoint.")
        }
        return parts[parts.count - 1]
    }

    func url(_ name: String) -> String { "\(endpoint)/\(account.accountID)/\(name)" }
}
