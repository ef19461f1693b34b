import FunctionHostCore
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Runs plain synchronous invokes of warm functions, and plain `Event` invokes, straight from the
/// serve connection's event loop: the request is read here, handed to a warm worker (or to the
/// async queue's group commit) on this thread, and the answer written back from the worker's event
/// loop (or once the event's row is committed), with no task, router or actor in between.
/// Whatever it does not take (``InvokeAPI/fastInvocation(for:)``, a body that is not JSON, no warm
/// worker free, a throttle, a stopping queue) passes on unchanged to the router behind it, which
/// answers the same way.
///
/// Responses keep request order: a request is taken only when every request passed on before it
/// has been answered, and while one runs, later pipelined parts wait here; reads stop only once
/// some do (a client that waits for each answer costs no change of the socket's interest).
/// Sits last in the pipeline, after Hummingbird's connection state handler, so idle timeouts
/// and graceful shutdown see these requests too. One per connection.
final class InvokeFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Parts pass on to the router.
        case passing
        /// A taken request's head was read; its body so far is in ``body``.
        case reading(InvokeAPI.FastInvocation)
        /// A taken request runs; its answer is written here.
        case invoking
    }

    private let api: InvokeAPI
    private var state = State.passing
    private var body = ByteBuffer()
    /// Requests passed on whose response has not ended yet.
    private var awaitingRouter = 0
    /// Parts that arrived while a taken request ran.
    private var held = CircularBuffer<HTTPRequestPart>()
    private var readHeld = false

    init(api: InvokeAPI) {
        self.api = api
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .invoking = state {
            held.append(part)
        } else {
            handle(part, context: context)
        }
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.passing, .head(let head)):
            if awaitingRouter == 0, let invocation = api.fastInvocation(for: head) {
                state = .reading(invocation)
                body.clear()
            } else {
                awaitingRouter += 1
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.reading(let invocation), .body(var chunk)):
            if body.readableBytes == 0 { body = chunk } else { body.writeBuffer(&chunk) }
            if body.readableBytes > invocation.declaredLength {
                // More than declared: not this path's to judge.
                state = .passing
                passOn(invocation, end: false, context: context)
            }
        case (.reading(let invocation), .end):
            run(invocation, context: context)
        default:
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    private func run(_ invocation: InvokeAPI.FastInvocation, context: ChannelHandlerContext) {
        guard let request = api.request(for: invocation, body: body) else {
            state = .passing
            return passOn(invocation, end: true, context: context)
        }
        state = .invoking
        // Cleared before the start: its answer may come at once (a worker that just exited), and
        // replaying held parts then reads the next request's body into this buffer.
        let read = body
        body = ByteBuffer()
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let respond: @Sendable ((HTTPResponse, ByteBuffer)) -> Void = { answer in
            if loop.inEventLoop {
                bound.value.0.respond(answer, context: bound.value.1)
            } else {
                loop.execute { bound.value.0.respond(answer, context: bound.value.1) }
            }
        }
        let started =
            invocation.isEvent
            ? api.enqueueIfAccepting(invocation.function, request, answer: respond)
            : api.invoker.invokeIfWarm(invocation.function, request) { respond(InvokeAPI.response(to: request, $0)) }
        if !started {
            state = .passing
            body = read
            passOn(invocation, end: true, context: context)
        }
    }

    /// Hands a request this path read to the router as if it had never stopped here.
    private func passOn(_ invocation: InvokeAPI.FastInvocation, end: Bool, context: ChannelHandlerContext) {
        awaitingRouter += 1
        let read = body
        body = ByteBuffer()
        context.fireChannelRead(wrapInboundOut(.head(invocation.head)))
        if read.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(read))) }
        if end { context.fireChannelRead(wrapInboundOut(.end(nil))) }
    }

    private func respond(_ answer: (HTTPResponse, ByteBuffer), context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(answer.0)), promise: nil)
        context.write(wrapOutboundOut(.body(answer.1)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        state = .passing
        if !held.isEmpty {
            while !held.isEmpty, !isInvoking {
                handle(held.removeFirst(), context: context)
            }
            // Outside a read the router's channel takes what was passed on only at a read's end.
            context.fireChannelReadComplete()
        }
        if !isInvoking, readHeld {
            readHeld = false
            context.read()
        }
    }

    private var isInvoking: Bool {
        if case .invoking = state { true } else { false }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { awaitingRouter -= 1 }
        context.write(data, promise: promise)
    }

    /// No more of the socket is read while a taken request runs and parts already wait behind it.
    func read(context: ChannelHandlerContext) {
        if isInvoking, !held.isEmpty {
            readHeld = true
        } else {
            context.read()
        }
    }
}
