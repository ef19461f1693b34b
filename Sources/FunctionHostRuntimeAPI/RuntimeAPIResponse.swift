import FunctionHostCore
import NIOCore

/// The Runtime API's responses as HTTP/1.1 bytes: constant ones built once, an event's header
/// block written straight into one buffer (its payload follows as a second write, uncopied).
/// Bodies and headers are those RAPID sends.
enum RuntimeAPIResponse {
    /// `202 {"status":"OK"}`, the answer to every accepted `/response` and `/error`.
    static let accepted = ByteBuffer(string: head(status: "202 Accepted", contentLength: 16) + #"{"status":"OK"}"# + "\n")

    /// The interim answer to a request that waits with its body for `Expect: 100-continue`.
    static let interimContinue = ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")

    /// The head of `/next`'s answer; the event's payload is the body.
    static func eventHead(_ delivery: RuntimeMailbox.Delivery, allocator: ByteBufferAllocator) -> ByteBuffer {
        let request = delivery.request
        var buffer = allocator.buffer(capacity: 384 + (request.clientContext?.utf8.count ?? 0))
        buffer.writeStaticString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        header(RuntimeAPIHeader.requestID, request.requestID, into: &buffer)
        header(RuntimeAPIHeader.deadline, String(delivery.deadlineEpochMilliseconds), into: &buffer)
        header(RuntimeAPIHeader.functionARN, request.invokedFunctionARN, into: &buffer)
        header(RuntimeAPIHeader.traceID, request.traceID, into: &buffer)
        if let context = request.clientContext, !context.isEmpty {
            header(RuntimeAPIHeader.clientContext, context, into: &buffer)
        }
        if let tenant = request.tenantID, !tenant.isEmpty {
            header(RuntimeAPIHeader.tenantID, tenant, into: &buffer)
        }
        buffer.writeStaticString("Content-Length: ")
        buffer.writeString(String(request.payload.readableBytes))
        buffer.writeStaticString("\r\n\r\n")
        return buffer
    }

    /// RAPID's JSON error body with its status.
    static func error(_ error: RuntimeAPIError, allocator: ByteBufferAllocator) -> ByteBuffer {
        let body = "{\"errorMessage\":\(JSONText.quote(error.errorMessage)),\"errorType\":\(JSONText.quote(error.errorType))}\n"
        var buffer = allocator.buffer(capacity: 128 + body.utf8.count)
        buffer.writeString(head(status: "\(error.status) \(reason(error.status))", contentLength: body.utf8.count))
        buffer.writeString(body)
        return buffer
    }

    private static func head(status: String, contentLength: Int) -> String {
        "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(contentLength)\r\n\r\n"
    }

    /// Writes `name: value`; a value that could end the header block (CR or LF) is left out.
    private static func header(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
        guard !value.utf8.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) else { return }
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 410: "Gone"
        case 413: "Request Entity Too Large"
        default: "Error"
        }
    }
}
