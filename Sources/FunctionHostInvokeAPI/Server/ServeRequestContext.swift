import Hummingbird
import NIOCore

/// The router's request context on the serve port: Hummingbird's basic one plus the event loop of
/// the connection the request came on (a worker started for it runs its Runtime API there, so
/// the connection's later invokes take no thread hop: ``WorkerPlacement``).
public struct ServeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let eventLoop: any EventLoop

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        eventLoop = source.channel.eventLoop
    }
}
