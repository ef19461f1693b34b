import Hummingbird
import HummingbirdCore
import NIOCore

/// How long and how many clients may hold the serve port (Invoke, control-plane, SQS): the
/// protection against idle and slow clients exhausting the host's descriptors.
public struct ServePortLimits: Sendable {
    /// A connection with no request part for this long is closed: an idle keep-alive connection,
    /// or a client sending its headers slower than one complete head per period (slowloris).
    /// A request body must have arrived completely within twice this time after its head.
    public var clientTimeout: TimeAmount = .seconds(30)
    /// Open connections beyond this get `503` and are closed (the load generator's concurrency
    /// and the host's own descriptors both fit under it).
    public var maximumConnections = 4096

    public init() {}
}

extension HTTPServerBuilder {
    /// HTTP/1.1 held to `limits` (Hummingbird's idle timeout plus a ``ConnectionGuard`` per
    /// connection), with `api`'s warm invokes run on the connection's event loop (``InvokeFastPath``).
    public static func servePort(limits: ServePortLimits, api: InvokeAPI) -> HTTPServerBuilder {
        let connections = OpenConnections()
        let configuration = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(limits: limits, connections: connections)],
            idleTimeout: limits.clientTimeout)
        return HTTPServerBuilder { responder in
            ServePortChannel(http1: HTTP1Channel(responder: responder, configuration: configuration), api: api)
        }
    }
}
