import FunctionHostCore
import Foundation
import NIOCore
import NIOHTTP1

/// One connection of a function process to its Runtime API: turns each request (parsed by
/// NIOHTTP1's decoder) into a ``RuntimeMailbox`` call and writes the answer as pre-assembled
/// bytes (``RuntimeAPIResponse``), on the connection's event loop.
///
/// Requests are served one at a time, as every runtime client sends them; a request that
/// arrives while a `/next` is parked is refused and the connection closed. When the connection
/// goes away, a parked `/next` is withdrawn, an event that could not be written is given back to
/// the mailbox, and an answer cut off mid-body fails its invocation.
final class RuntimeAPIConnection: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Between requests.
        case idle
        /// A request's head arrived; its body is being collected (up to the response limit).
        case reading(RuntimeAPIRequest?, HTTPRequestHead, body: ByteBuffer, oversized: Bool)
        /// A `/next` waits in the mailbox for an event.
        case parked(RuntimeMailbox.NextTicket?, keepAlive: Bool)
        /// Closed, or closing after a refused request.
        case done
    }

    private let mailbox: RuntimeMailbox
    private var state = State.idle

    init(mailbox: RuntimeMailbox) {
        self.mailbox = mailbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            let call = RuntimeAPIRequest(method: head.method.rawValue, path: head.uri)
            state = .reading(call, head, body: context.channel.allocator.buffer(capacity: 0), oversized: false)
        case (.body(var part), .reading(let call, let head, var body, let oversized)):
            // Release the enum's reference first, so appending does not copy the buffer.
            state = .idle
            if oversized || body.readableBytes + part.readableBytes > RuntimeMailbox.maximumResponseSize {
                state = .reading(call, head, body: ByteBuffer(), oversized: true)
            } else {
                body.writeBuffer(&part)
                state = .reading(call, head, body: body, oversized: false)
            }
        case (.end, .reading(let call, let head, let body, let oversized)):
            state = .idle
            serve(call, head, body: oversized ? nil : body, context: context)
        case (_, .done):
            break
        default:
            // A second request while one is unanswered: no runtime client pipelines.
            refuse(.malformedRequest, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        leaveMailbox()
        state = .done
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The decoder's errors (a header block over its limit, bad syntax) end the connection.
        refuse(.malformedRequest, context: context)
    }

    private func serve(_ call: RuntimeAPIRequest?, _ head: HTTPRequestHead, body: ByteBuffer?, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        guard let call else {
            return write(RuntimeAPIResponse.error(.notFound, allocator: context.channel.allocator), keepAlive, context)
        }
        do throws(RuntimeAPIError) {
            switch call {
            case .next:
                return park(keepAlive: keepAlive, context: context)
            case .response(let requestID):
                if let mode = head.headers.first(name: RuntimeAPIHeader.responseMode), !mode.isEmpty, mode != "streaming" {
                    throw .invalidResponseMode
                }
                let contentType = head.headers.first(name: "content-type") ?? "application/json"
                try mailbox.runtimeResponse(requestID: requestID, payload: body, contentType: contentType)
            case .error(let requestID):
                try mailbox.runtimeError(
                    requestID: requestID, payload: Self.errorPayload(body ?? ByteBuffer(), head.headers),
                    errorType: head.headers.first(name: RuntimeAPIHeader.errorType))
            case .initError:
                try mailbox.runtimeInitError(
                    payload: Self.errorPayload(body ?? ByteBuffer(), head.headers),
                    errorType: head.headers.first(name: RuntimeAPIHeader.errorType))
            }
            write(RuntimeAPIResponse.accepted, keepAlive, context)
        } catch {
            write(RuntimeAPIResponse.error(error, allocator: context.channel.allocator), keepAlive, context)
        }
    }

    /// Asks the mailbox for an event; the answer may come at once or later, from any thread.
    private func park(keepAlive: Bool, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        state = .parked(nil, keepAlive: keepAlive)
        let ticket = mailbox.runtimeNext { result in
            if eventLoop.inEventLoop {
                let (connection, context) = loopBound.value
                connection.answerNext(result, context: context)
            } else {
                eventLoop.execute {
                    let (connection, context) = loopBound.value
                    connection.answerNext(result, context: context)
                }
            }
        }
        // The reply may already have run (and moved the state on): only a still-parked call keeps its ticket.
        if case .parked(nil, let keepAlive) = state, let ticket {
            state = .parked(ticket, keepAlive: keepAlive)
        }
    }

    private func answerNext(_ result: Result<RuntimeMailbox.Delivery, RuntimeAPIError>, context: ChannelHandlerContext) {
        guard case .parked(_, let keepAlive) = state, context.channel.isActive else {
            if case .success(let delivery) = result { mailbox.returnUndelivered(requestID: delivery.request.requestID) }
            return
        }
        state = .idle
        switch result {
        case .success(let delivery):
            let requestID = delivery.request.requestID
            let mailbox = self.mailbox
            context.write(wrapOutboundOut(RuntimeAPIResponse.eventHead(delivery, allocator: context.channel.allocator)), promise: nil)
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenFailure { _ in mailbox.returnUndelivered(requestID: requestID) }
            context.writeAndFlush(wrapOutboundOut(delivery.request.payload), promise: written)
            if !keepAlive { context.close(promise: nil) }
        case .failure(let error):
            write(RuntimeAPIResponse.error(error, allocator: context.channel.allocator), keepAlive, context)
        }
    }

    private func write(_ response: ByteBuffer, _ keepAlive: Bool, _ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(response), promise: nil)
        if !keepAlive { context.close(promise: nil) }
    }

    private func refuse(_ error: RuntimeAPIError, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if case .done = state { return }
        leaveMailbox()
        state = .done
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(RuntimeAPIResponse.error(error, allocator: channel.allocator)))
            .whenComplete { _ in channel.close(promise: nil) }
    }

    /// Withdraws what this connection left in the mailbox: a parked `/next`, or an answer it never finished.
    private func leaveMailbox() {
        switch state {
        case .parked(let ticket?, _):
            mailbox.withdrawNext(ticket)
        case .reading(.response(let requestID)?, _, _, _), .reading(.error(let requestID)?, _, _, _):
            mailbox.runtimeAnswerTruncated(requestID: requestID)
        default:
            break
        }
    }

    /// `application/vnd.aws.lambda.error.cause+json` bodies lose their `errorCause` (X-Ray only), as RAPID does.
    static func errorPayload(_ body: ByteBuffer, _ headers: HTTPHeaders) -> ByteBuffer {
        guard headers.first(name: "content-type") == "application/vnd.aws.lambda.error.cause+json",
            var object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        else { return body }
        object["errorCause"] = nil
        guard let data = try? JSONSerialization.data(withJSONObject: object) else { return body }
        return ByteBuffer(bytes: data)
    }
}
