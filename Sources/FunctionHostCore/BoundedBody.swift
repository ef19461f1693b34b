import NIOCore

/// Reads an HTTP request body without ever holding more than a limit, and without reading a
/// hostile client's body forever.
///
/// Past `limit` the rest is read and dropped up to ``drainAllowance`` more bytes, so an ordinary
/// client that is still uploading gets the error answer rather than a reset connection; past
/// that, reading stops at once. Either way the caller answers and closes the connection.
public enum BoundedBody {
    /// How the body ended.
    public enum Outcome: Sendable {
        case complete(ByteBuffer)
        /// Over the limit; `received` bytes were seen (all of it if `drained`, else reading stopped).
        case tooLarge(received: Int, drained: Bool)
    }

    /// Bytes read and dropped beyond a limit before giving up on a body.
    public static let drainAllowance = 16 * 1024 * 1024

    /// `declaredLength` is the request's `Content-Length`, if any: a body declared far too large is not read at all.
    public static func read<Body: AsyncSequence>(
        _ body: Body, declaredLength: Int?, limit: Int
    ) async throws -> Outcome where Body.Element == ByteBuffer {
        if let declaredLength, declaredLength > limit + drainAllowance {
            return .tooLarge(received: declaredLength, drained: false)
        }
        var collected = ByteBuffer()
        var received = 0
        for try await var part in body {
            received += part.readableBytes
            if received <= limit {
                collected.writeBuffer(&part)
            } else if received > limit + drainAllowance {
                return .tooLarge(received: received, drained: false)
            }
        }
        return received <= limit ? .complete(collected) : .tooLarge(received: received, drained: true)
    }
}
