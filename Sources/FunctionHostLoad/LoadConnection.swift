import Foundation
import NIOCore
import NIOHTTP1

/// One keep-alive HTTP/1.1 connection of the generator: sends a request, reads its answer,
/// classifies it and reports it to its ``LoadLoop``, which hands it the next request. Confined to
/// its event loop (`@unchecked Sendable` only so the pipeline can hold it).
final class LoadConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// Headers read from an Invoke API answer.
    enum Header {
        static let functionError = "X-Amz-Function-Error"
        static let logResult = "X-Amz-Log-Result"
        static let errorType = "x-amzn-ErrorType"
    }

    /// Most error-body bytes kept for a sample message.
    static let sampleBytes = 300

    private unowned let loop: LoadLoop
    private var context: ChannelHandlerContext?
    private var connecting = false
    /// The request in flight: its ticket and intended start (uptime nanoseconds).
    private(set) var inFlight: (ticket: Int, intended: UInt64, sent: UInt64)?
    private var queued: (ticket: Int, intended: UInt64)?
    private var status = 0
    private var functionError: String?
    private var errorType: String?
    private var logResult: String?
    private var keepAlive = true
    private var errorBody: ByteBuffer?
    private var closeReason: String?

    init(loop: LoadLoop) {
        self.loop = loop
    }

    /// Sends request `ticket`, intended to start at `intended`; connects first when needed.
    func send(ticket: Int, intended: UInt64) {
        guard let context else {
            queued = (ticket, intended)
            if !connecting { connect() }
            return
        }
        let request = loop.engine.requests.request(ticket)
        inFlight = (ticket, intended, NIODeadline.now().uptimeNanoseconds)
        status = 0
        functionError = nil
        errorType = nil
        logResult = nil
        errorBody = nil
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func connect() {
        connecting = true
        let target = loop.engine.target
        loop.engine.pipeline.connect(on: loop.eventLoop) { [self] in self }
            .whenComplete { [self] result in
                connecting = false
                switch result {
                case .success:
                    if let queued {
                        self.queued = nil
                        send(ticket: queued.ticket, intended: queued.intended)
                    }
                case .failure(let error):
                    if let queued {
                        self.queued = nil
                        let now = NIODeadline.now().uptimeNanoseconds
                        loop.finished(self, outcome: .transportError("cannot connect to \(target.hostHeader): \(error)"),
                                      intended: queued.intended, now: now, initDuration: nil, connectionLost: true)
                    }
                }
            }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        loop.register(self, channel: context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
            functionError = head.headers.first(name: Header.functionError)
            errorType = head.headers.first(name: Header.errorType)
            if loop.engine.target.tailLogs { logResult = head.headers.first(name: Header.logResult) }
        case .body(var part):
            guard functionError != nil || status >= 300 else { return }
            let room = Self.sampleBytes - (errorBody?.readableBytes ?? 0)
            if room > 0, let slice = part.readSlice(length: min(room, part.readableBytes)) {
                if errorBody == nil { errorBody = slice } else { errorBody?.writeImmutableBuffer(slice) }
            }
        case .end:
            guard let request = inFlight else { return }
            inFlight = nil
            let now = NIODeadline.now().uptimeNanoseconds
            let initDuration = logResult.flatMap(ReportLine.initDuration(inBase64Log:))
            if !keepAlive { context.close(promise: nil) }
            loop.finished(self, outcome: outcome(), intended: request.intended, now: now, initDuration: initDuration,
                          connectionLost: !keepAlive)
        }
    }

    private func outcome() -> RequestOutcome {
        let body = errorBody.map { String(buffer: $0) } ?? ""
        if let functionError { return .error("\(functionError): \(body)") }
        switch status {
        case 200..<300: return .completed
        case 429: return .throttled("\(errorType ?? "HTTP 429"): \(body)")
        default: return .error("HTTP \(status) \(errorType ?? ""): \(body)")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeReason = "\(error)"
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        loop.unregister(self)
        guard let request = inFlight else { return }
        inFlight = nil
        let now = NIODeadline.now().uptimeNanoseconds
        loop.finished(self, outcome: .transportError(closeReason ?? "connection closed before the answer"),
                      intended: request.intended, now: now, initDuration: nil, connectionLost: true)
        closeReason = nil
    }

    /// Gives up the request in flight (timeout, second Ctrl-C): closes the connection, which reports it.
    func abandon(reason: String) {
        guard let context, inFlight != nil else { return }
        closeReason = reason
        context.close(promise: nil)
    }
}
