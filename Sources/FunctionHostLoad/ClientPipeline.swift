import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The channel pipeline of every generator connection: TLS for `https` endpoints, the HTTP/1.1
/// client codec, then the connection's own handler. One TLS context per run.
struct ClientPipeline: Sendable {
    let target: LoadTarget
    private let tls: NIOSSLContext?

    init(target: LoadTarget) throws {
        self.target = target
        do {
            tls = target.tls ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        } catch {
            throw LoadError(.usage, "cannot set up TLS", cause: error)
        }
    }

    /// Connects a new channel on `eventLoop` whose last handler is `handler`.
    func connect(on eventLoop: any EventLoop, handler: @escaping @Sendable () -> any ChannelHandler) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { [tls, target] channel in
                do {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: target.host))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler())
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: target.host, port: target.port)
    }
}
