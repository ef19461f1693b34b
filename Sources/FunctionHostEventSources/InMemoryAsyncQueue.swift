import FunctionHostCore
import Logging
import ServiceLifecycle

/// Runs `Event` invocations in the background, in arrival order of acceptance.
///
/// Not durable: events still queued when the host stops are lost (the durable SQLite queue
/// with retries and destinations replaces this). Function errors are logged, not retried.
public final class InMemoryAsyncQueue: AsyncInvocationSink, Service {
    private let invoker: any Invoker
    private let logger: Logger
    private let events: AsyncStream<(FunctionConfiguration, InvocationRequest)>
    private let continuation: AsyncStream<(FunctionConfiguration, InvocationRequest)>.Continuation

    public init(invoker: any Invoker, logger: Logger) {
        self.invoker = invoker
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream()
    }

    public func enqueue(_ function: FunctionConfiguration, _ request: InvocationRequest) async throws {
        guard case .enqueued = continuation.yield((function, request)) else {
            throw InvokeError(.shuttingDown, "the host is shutting down")
        }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for await (function, request) in events.cancelOnGracefulShutdown() {
                group.addTask { [invoker, logger] in
                    do {
                        // Over the concurrency limit an event waits for capacity; it is never throttled away.
                        let result = try await invoker.invoke(function, request, admission: .waitForCapacity)
                        if let error = result.functionError {
                            logger.warning(
                                "async invocation failed",
                                metadata: [
                                    "function.name": "\(function.functionName)", "invocation.id": "\(request.requestID)",
                                    "function.error": "\(error)",
                                ])
                        }
                    } catch {
                        logger.error(
                            "async invocation could not run",
                            metadata: ["function.name": "\(function.functionName)", "error": "\(error)"])
                    }
                }
            }
        }
        continuation.finish()
    }
}
