import FunctionHostCore
import Logging
import ServiceLifecycle

/// Runs functions in worker processes: one ``FunctionPool`` per function.
///
/// As a `Service` it stops every worker when the service group shuts down (SIGINT/SIGTERM);
/// ``stop()`` does the same for callers without a group.
public final class Supervisor: Invoker, Service {
    private let pools: [String: FunctionPool]

    public init(
        functions: [FunctionConfiguration], settings: WorkerSettings, logDirectory: String, console: Int32,
        logger: Logger
    ) throws {
        var pools: [String: FunctionPool] = [:]
        for function in functions {
            let sink = try FunctionLogSink(logicalID: function.logicalID, logDirectory: logDirectory, console: console)
            pools[function.functionName] = FunctionPool(
                function: function, settings: settings, sink: sink, logger: logger)
        }
        self.pools = pools
    }

    public func invoke(_ function: FunctionConfiguration, _ request: InvocationRequest) async throws
        -> InvocationResult
    {
        guard let pool = pools[function.functionName] else {
            throw InvokeError(.spawnFailed, "no pool for function \(function.functionName)")
        }
        return try await pool.invoke(request)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }

    public func stop() async {
        await withDiscardingTaskGroup { group in
            for pool in pools.values { group.addTask { await pool.stop() } }
        }
    }
}
