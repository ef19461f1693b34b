import FunctionHostCore
import HTTPTypes
import Hummingbird
import NIOCore

/// An Invoke/control-plane API error in AWS's rest-json wire shape: status, `x-amzn-ErrorType`
/// and a JSON body, so botocore raises the matching modeled exception.
struct LambdaAPIError: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// Lambda's shapes differ in the case of the message key (`Message` or `message`).
    var messageKey = "message"
    var type = "User"
    var reason: String?
    /// `Retry-After` seconds (throttles).
    var retryAfter: Int?
    /// The request was not read to its end (an oversized body): the connection is closed after the answer.
    var closesConnection = false

    func response(requestID: String) -> Response {
        let (head, body) = wire(requestID: requestID)
        return Response(status: head.status, headers: head.headerFields, body: ResponseBody(byteBuffer: body))
    }

    /// The response's head and body as the router sends them, before it adds `Content-Length` and `Date`.
    func wire(requestID: String) -> (HTTPResponse, ByteBuffer) {
        // AWS writes `Reason` first: {"Reason":…,"Type":"User","message":"Rate Exceeded."}.
        var body = "{"
        if let reason { body += "\"Reason\":\(JSONText.quote(reason))," }
        body += "\"Type\":\(JSONText.quote(type)),\"\(messageKey)\":\(JSONText.quote(message))}"
        var head = HTTPResponse(status: status)
        if let retryAfter { head.headerFields[.retryAfter] = String(retryAfter) }
        if closesConnection { head.headerFields[.connection] = "close" }
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.amznErrorType] = code
        head.headerFields[.amznRequestID] = requestID
        return (head, ByteBuffer(string: body))
    }

    static func functionNotFound(_ arn: String) -> Self {
        Self(status: .notFound, code: "ResourceNotFoundException", message: "Function not found: \(arn)", messageKey: "Message")
    }

    static func invalidParameter(_ message: String) -> Self {
        Self(status: .badRequest, code: "InvalidParameterValueException", message: message)
    }

    static func invalidContent(_ message: String) -> Self {
        Self(status: .badRequest, code: "InvalidRequestContentException", message: message)
    }

    /// The `1 validation error detected: …` shape the service returns for pattern and enum violations.
    static func validation(value: String, field: String, constraint: String) -> Self {
        Self(
            status: .badRequest, code: "ValidationException",
            message: "1 validation error detected: Value '\(value)' at '\(field)' failed to satisfy constraint: \(constraint)")
    }

    /// 429 `TooManyRequestsException`, as Lambda throttles a synchronous invoke.
    static func tooManyRequests(_ reason: ThrottleReason) -> Self {
        Self(
            status: .tooManyRequests, code: "TooManyRequestsException", message: "Rate Exceeded.",
            reason: reason.rawValue, retryAfter: 1)
    }

    /// 413 with Lambda's messages; `size` when it is known. The connection is closed after it, so
    /// the rest of an oversized body is never read.
    static func payloadTooLarge(size: Int?, limit: Int, invocationType: String) -> Self {
        let message =
            invocationType == "Event"
            ? "\(size.map { "\($0) byte payload" } ?? "Payload") is too large for the Event invocation type (limit \(limit) bytes)"
            : "Request must be smaller than \(limit) bytes for the InvokeFunction operation"
        return Self(
            status: .contentTooLarge, code: "RequestEntityTooLargeException", message: message, messageKey: "Message",
            closesConnection: true)
    }

    static func service(_ message: String) -> Self {
        Self(status: .internalServerError, code: "ServiceException", message: message, messageKey: "Message", type: "Service")
    }
}
