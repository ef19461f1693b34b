import NIOCore
import NIOHTTP1

/// One event from `GET /next`: the payload plus the metadata its headers carry.
struct Invocation: Sendable {
    var requestID: String
    /// `Lambda-Runtime-Deadline-Ms`: Unix epoch milliseconds.
    var deadlineMilliseconds: Int64
    var invokedFunctionARN: String
    var traceID: String?
    /// Decoded JSON of the caller's client context, passed through as text.
    var clientContext: String?
    /// Per-attempt id; echoed back on `/response` and `/error` when present.
    var invocationID: String?
    var event: ByteBuffer

    /// Parses the headers of a `/next` answer.
    ///
    /// - Throws: ``LambdaRuntimeError/Code/invalidInvocation`` whose message names the missing or malformed header.
    init(headers: HTTPHeaders, event: ByteBuffer) throws(LambdaRuntimeError) {
        self.requestID = try Self.required(RuntimeAPI.Header.requestID, in: headers)
        let deadline = try Self.required(RuntimeAPI.Header.deadline, in: headers)
        guard let milliseconds = Int64(deadline) else {
            throw LambdaRuntimeError(
                code: .invalidInvocation,
                message: "header \(RuntimeAPI.Header.deadline) is not epoch milliseconds: '\(deadline)'")
        }
        self.deadlineMilliseconds = milliseconds
        self.invokedFunctionARN = try Self.required(RuntimeAPI.Header.invokedFunctionARN, in: headers)
        self.traceID = Self.optional(RuntimeAPI.Header.traceID, in: headers)
        self.clientContext = Self.optional(RuntimeAPI.Header.clientContext, in: headers)
        self.invocationID = Self.optional(RuntimeAPI.Header.invocationID, in: headers)
        self.event = event
    }

    private static func required(_ name: String, in headers: HTTPHeaders) throws(LambdaRuntimeError) -> String {
        guard let value = optional(name, in: headers) else {
            throw LambdaRuntimeError(code: .invalidInvocation, message: "missing header \(name)")
        }
        return value
    }

    /// RAPID only sets a header when its value is non-empty, so an empty value counts as absent.
    private static func optional(_ name: String, in headers: HTTPHeaders) -> String? {
        guard let value = headers.first(name: name), !value.isEmpty else { return nil }
        return value
    }
}
