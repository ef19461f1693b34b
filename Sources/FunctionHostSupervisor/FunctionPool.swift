import FunctionHostCore
import Logging

/// The execution environments of one function: reuses the most recently used idle worker,
/// starts a cold one when none is idle, and replaces workers that died.
actor FunctionPool {
    let function: FunctionConfiguration
    private let settings: WorkerSettings
    private let sink: FunctionLogSink
    private let logger: Logger
    /// Idle workers; the last is the most recently used.
    private var idle: [Worker] = []
    private var busy: [ObjectIdentifier: Worker] = [:]
    private var stopped = false

    init(function: FunctionConfiguration, settings: WorkerSettings, sink: FunctionLogSink, logger: Logger) {
        self.function = function
        self.settings = settings
        self.sink = sink
        self.logger = logger
    }

    func invoke(_ request: InvocationRequest) async throws -> InvocationResult {
        guard !stopped else { throw InvokeError(.shuttingDown, "the host is shutting down") }
        let worker: Worker
        if let warm = takeIdleWorker() {
            worker = warm
        } else {
            worker = try await Worker.start(function, settings: settings, sink: sink, logger: logger)
            if stopped {
                await worker.stop()
                throw InvokeError(.shuttingDown, "the host is shutting down")
            }
        }
        busy[ObjectIdentifier(worker)] = worker
        let (result, reusable) = await worker.invoke(request)
        busy[ObjectIdentifier(worker)] = nil
        if reusable && !stopped {
            idle.append(worker)
        } else {
            await worker.stop()
        }
        return result
    }

    /// The most recently used idle worker that is still alive; dead ones are dropped.
    private func takeIdleWorker() -> Worker? {
        while let worker = idle.popLast() {
            if worker.isAlive { return worker }
            Task { await worker.stop() }
        }
        return nil
    }

    /// Stops every worker; invocations in flight end as their workers die.
    func stop() async {
        stopped = true
        let all = idle + Array(busy.values)
        idle.removeAll()
        await withDiscardingTaskGroup { group in
            for worker in all { group.addTask { await worker.stop() } }
        }
    }
}
