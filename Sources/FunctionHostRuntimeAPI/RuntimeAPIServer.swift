import FunctionHostCore
import Logging
import NIOCore
import NIOPosix

/// The Runtime API listener of one execution environment, on its own `127.0.0.1:0` socket:
/// the socket a request arrives on identifies the worker.
///
/// Only the worker's own processes are served: every connection's owner uid is asked of the
/// kernel once (``LoopbackPeer``) and compared with the uid given to ``admitOwner(uid:)``, which
/// the host calls as soon as it knows the worker's uid; connections that arrive earlier wait for
/// it. Everything runs on one event loop, which also times the mailbox's deadlines. ``stop()``
/// closes the mailbox and the listener.
public final class RuntimeAPIServer: Sendable {
    public let mailbox: RuntimeMailbox
    /// The bound port; the worker gets `AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>`.
    public let port: Int
    private let listener: any Channel
    private let owner: EventLoopPromise<UInt32>

    private init(mailbox: RuntimeMailbox, port: Int, listener: any Channel, owner: EventLoopPromise<UInt32>) {
        self.mailbox = mailbox
        self.port = port
        self.listener = listener
        self.owner = owner
    }

    /// Binds a new listener on `eventLoop` and returns once it accepts connections.
    public static func start(
        mailbox: RuntimeMailbox, on eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        logger: Logger
    ) async throws -> RuntimeAPIServer {
        let owner = eventLoop.makePromise(of: UInt32.self)
        let bootstrap = ServerBootstrap(group: eventLoop)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // Nothing is read from a connection before its owner is known to be the worker.
                owner.futureResult.flatMap { uid -> EventLoopFuture<Void> in
                    guard LoopbackPeer(channel)?.ownerUID() == uid else {
                        logger.warning(
                            "runtime API connection refused: not the worker's own process",
                            metadata: ["peer.address": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                        return channel.close()
                    }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RuntimeAPIRequestDecoder()))
                        try channel.pipeline.syncOperations.addHandler(RuntimeAPIConnection(mailbox: mailbox))
                    }
                }
            }
        do {
            let listener = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
            guard let port = listener.localAddress?.port else {
                try? await listener.close()
                throw RuntimeAPIServerError()
            }
            return RuntimeAPIServer(mailbox: mailbox, port: port, listener: listener, owner: owner)
        } catch {
            owner.fail(error)
            throw error
        }
    }

    /// From now on, connections whose socket belongs to `uid` are served; all others are closed unread.
    public func admitOwner(uid: UInt32) {
        owner.succeed(uid)
    }

    /// Answers every waiter and closes the listener.
    public func stop() async {
        mailbox.close()
        owner.fail(RuntimeAPIServerError())
        try? await listener.close()
    }
}

/// The listener could not bind a loopback port.
struct RuntimeAPIServerError: Error, CustomStringConvertible {
    var description: String { "could not bind a Runtime API listener on 127.0.0.1" }
}
