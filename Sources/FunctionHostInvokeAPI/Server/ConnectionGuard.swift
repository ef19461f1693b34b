import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Holds each serve-port connection to ``ServePortLimits``: refuses connections past the cap
/// with `503`, closes one whose request body does not arrive in time, and closes after any
/// response that says `Connection: close`, so a refused oversized body is never drained. A
/// `CONNECT` or `Upgrade` request (never served here) is answered with `Connection: close`: its
/// connection would otherwise be a tunnel whose answer has no length and never ends.
///
/// Sits in Hummingbird's HTTP/1 pipeline between the codec and the request handling, one per
/// connection; ``OpenConnections`` is shared by all of them.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ServePortLimits
    private let connections: OpenConnections
    private var counted = false
    private var closeAfterResponse = false
    private var bodyDeadline: Scheduled<Void>?
    /// Between a request's head and its end.
    private var readingBody = false

    init(limits: ServePortLimits, connections: OpenConnections) {
        self.limits = limits
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if !counted { admit(context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            if request.method == .connect || request.headerFields[.upgrade] != nil { closeAfterResponse = true }
            readingBody = true
        case .end:
            readingBody = false
            bodyDeadline?.cancel()
            bodyDeadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    /// The body deadline is armed only when a request's end did not come in the same read as its
    /// head: a whole small request (the common invoke) costs no timer.
    func channelReadComplete(context: ChannelHandlerContext) {
        if readingBody, bodyDeadline == nil {
            bodyDeadline = context.eventLoop.assumeIsolated().scheduleTask(
                in: .nanoseconds(limits.clientTimeout.nanoseconds * 2)
            ) {
                context.close(promise: nil)
            }
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response) where closeAfterResponse || response.headerFields[.connection] == "close":
            closeAfterResponse = true
            response.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .end where closeAfterResponse:
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
        default:
            context.write(data, promise: promise)
        }
    }

    private func admit(_ context: ChannelHandlerContext) {
        counted = true
        guard connections.open() <= limits.maximumConnections else {
            let body = #"{"Type":"Service","message":"Too many open connections to this host"}"#
            var head = HTTPResponse(status: .serviceUnavailable)
            head.headerFields[.contentType] = "application/json"
            head.headerFields[.contentLength] = String(body.utf8.count)
            head.headerFields[.connection] = "close"
            head.headerFields[.retryAfter] = "1"
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(ByteBuffer(string: body))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
    }

    private func release() {
        bodyDeadline?.cancel()
        bodyDeadline = nil
        if counted {
            counted = false
            connections.closed()
        }
    }
}

/// The number of open serve-port connections, shared by every ``ConnectionGuard``.
final class OpenConnections: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts a new connection; returns how many are open with it.
    func open() -> Int {
        count.add(1, ordering: .relaxed).newValue
    }

    func closed() {
        count.subtract(1, ordering: .relaxed)
    }
}
