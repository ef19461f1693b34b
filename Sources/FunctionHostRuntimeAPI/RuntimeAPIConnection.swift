import FunctionHostCore
import Foundation
import NIOCore

/// One connection of a function process to its Runtime API: turns each request (read by
/// ``RuntimeAPIRequestDecoder``) into a ``RuntimeMailbox`` call and writes the answer as
/// pre-assembled bytes (``RuntimeAPIResponse``), on the connection's event loop.
///
/// Requests are served one at a time, as every runtime client sends them; a request that
/// arrives while a `/next` is parked is refused and the connection closed. When the connection
/// goes away, a parked `/next` is withdrawn, an event that could not be written is given back to
/// the mailbox, and an answer cut off mid-body fails its invocation.
final class RuntimeAPIConnection: ChannelInboundHandler {
    typealias InboundIn = RuntimeAPIRequestParser.Event
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Between requests.
        case idle
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
        case (.truncated(.response(let requestID)?), _), (.truncated(.error(let requestID)?), _):
            mailbox.runtimeAnswerTruncated(requestID: requestID)
        case (.truncated, _), (_, .done):
            break
        case (.request(let message), .idle):
            serve(message, context: context)
        case (.expectsContinue, .idle):
            context.writeAndFlush(wrapOutboundOut(RuntimeAPIResponse.interimContinue), promise: nil)
        case (.request, .parked), (.expectsContinue, .parked):
            // A second request while one is unanswered: no runtime client pipelines.
            refuse(.malformedRequest, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .parked(let ticket?, _) = state { mailbox.withdrawNext(ticket) }
        state = .done
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The decoder's errors (a header block over its limit, bad syntax) end the connection.
        refuse(.malformedRequest, context: context)
    }

    private func serve(_ message: RuntimeAPIMessage, context: ChannelHandlerContext) {
        let keepAlive = message.keepAlive
        guard let call = message.call else {
            return write(RuntimeAPIResponse.error(.notFound, allocator: context.channel.allocator), keepAlive, context)
        }
        do throws(RuntimeAPIError) {
            switch call {
            case .next:
                return park(keepAlive: keepAlive, context: context)
            case .response(let requestID):
                if let mode = message.responseMode, !mode.isEmpty, mode != "streaming" {
                    throw .invalidResponseMode
                }
                try mailbox.runtimeResponse(
                    requestID: requestID, payload: message.body, contentType: message.contentType ?? "application/json")
            case .error(let requestID):
                try mailbox.runtimeError(
                    requestID: requestID, payload: Self.errorPayload(message), errorType: message.errorType)
            case .initError:
                try mailbox.runtimeInitError(payload: Self.errorPayload(message), errorType: message.errorType)
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
        if case .parked(let ticket?, _) = state { mailbox.withdrawNext(ticket) }
        state = .done
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(RuntimeAPIResponse.error(error, allocator: channel.allocator)))
            .whenComplete { _ in channel.close(promise: nil) }
    }

    /// `application/vnd.aws.lambda.error.cause+json` bodies lose their `errorCause` (X-Ray only), as
    /// RAPID does; a body over the limit is an empty one.
    static func errorPayload(_ message: RuntimeAPIMessage) -> ByteBuffer {
        let body = message.body ?? ByteBuffer()
        guard message.contentType == "application/vnd.aws.lambda.error.cause+json",
            var object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        else { return body }
        object["errorCause"] = nil
        guard let data = try? JSONSerialization.data(withJSONObject: object) else { return body }
        return ByteBuffer(bytes: data)
    }
}
