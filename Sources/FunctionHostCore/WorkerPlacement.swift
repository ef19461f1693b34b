import NIOCore

/// Where a worker started within the current task runs its Runtime API: on the event loop of the
/// serve connection whose invoke starts it, so that connection's later invokes are delivered and
/// answered on one thread. Unset (async invocations, mappings), a worker takes the next loop.
public enum WorkerPlacement {
    @TaskLocal public static var eventLoop: (any EventLoop)?
}
