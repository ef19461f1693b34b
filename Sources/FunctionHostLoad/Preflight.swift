import NIOCore
import NIOHTTP1

/// One request on a connection of its own, before a run: the `DryRun` that names an unknown
/// function or an unreachable endpoint as a usage error instead of a run full of failures.
enum Preflight {
    struct Answer: Sendable {
        var status: Int
        var errorType: String?
        var body: String
    }

    static func send(_ request: RequestCatalog.Request, through pipeline: ClientPipeline, on eventLoop: any EventLoop) async throws -> Answer {
        let promise = eventLoop.makePromise(of: Answer.self)
        let channel: any Channel
        do {
            channel = try await pipeline.connect(on: eventLoop) { Handler(promise: promise) }.get()
        } catch {
            promise.fail(error)  // no handler was added, or it saw nothing: the promise is still open
            throw error
        }
        channel.write(HTTPClientRequestPart.head(request.head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(request.body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timeout = eventLoop.scheduleTask(in: .seconds(30)) { channel.close(promise: nil) }
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }

    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPClientResponsePart
        private let promise: EventLoopPromise<Answer>
        nonisolated(unsafe) private var answer = Answer(status: 0, body: "")

        init(promise: EventLoopPromise<Answer>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                answer.status = Int(head.status.code)
                answer.errorType = head.headers.first(name: LoadConnection.Header.errorType)
            case .body(let part):
                if answer.body.count < 500 { answer.body += String(buffer: part) }
            case .end:
                promise.succeed(answer)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(LoadError(.unreachable, "the connection closed before an answer"))
        }
    }
}
