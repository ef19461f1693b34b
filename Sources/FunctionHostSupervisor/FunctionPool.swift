import FunctionHostCore
import Foundation
import Logging
import CoreMetrics
import Metrics

/// The execution environments of one function: carries out ``WarmPool``'s decisions with real
/// ``Worker``s (starting, invoking, stopping them) and nothing else.
///
/// Provisioned workers are started ahead of traffic (at start-up by ``provision()``, and when one
/// is lost or the configuration changes by ``maintain()``, which the supervisor's service runs);
/// idle on-demand workers are stopped by ``evictIdle()``. How many run at once is the concurrency
/// ledger's business, not the pool's.
actor FunctionPool {
    let function: FunctionConfiguration
    private var settings: WorkerSettings
    private let sink: FunctionLogSink
    private let logger: Logger
    private let metrics: FunctionMetrics
    private let memory: MemoryEnforcement
    private let clock: any HostClock
    private var state: WarmPool
    private var workers: [WarmPool.EnvironmentID: Worker] = [:]
    /// Wakes ``maintain()`` when provisioned workers are missing.
    private let provisioningNeeded: AsyncStream<Void>.Continuation
    private let provisioningRequests: AsyncStream<Void>

    init(
        function: FunctionConfiguration, settings: WorkerSettings, sink: FunctionLogSink, logger: Logger,
        metrics: FunctionMetrics, memory: MemoryEnforcement, idleTimeout: Duration, clock: any HostClock
    ) {
        self.clock = clock
        self.function = function
        self.settings = settings
        self.sink = sink
        self.logger = logger
        self.metrics = metrics
        self.memory = memory
        let provisioned = function.provisionedConcurrency.map { count, qualifier in
            ProvisionedConcurrencyStatus(qualifier: qualifier, requested: count, allocated: 0, lastModified: Self.timestamp())
        }
        state = WarmPool(idleTimeout: Int64(idleTimeout.milliseconds), provisioned: provisioned)
        (provisioningRequests, provisioningNeeded) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func invoke(_ request: InvocationRequest) async throws -> InvocationResult {
        let (acquisition, actions) = state.acquire { self.workers[$0]?.isAlive == true }
        await execute(actions)
        let id: WarmPool.EnvironmentID
        let worker: Worker
        switch acquisition {
        case .shuttingDown:
            throw InvokeError(.shuttingDown, "the host is shutting down")
        case .reuse(let warm, _):
            guard let found = workers[warm] else {
                _ = state.finished(warm, reusable: false, now: clock.now())
                throw InvokeError(.spawnFailed, "worker \(warm) is gone")
            }
            (id, worker) = (warm, found)
        case .start(let new):
            metrics.coldStarts.increment()
            do {
                worker = try await startWorker(provisioned: false)
            } catch {
                state.startFailed(new)
                throw error
            }
            guard state.started(new) else {
                await worker.stop()
                throw InvokeError(.shuttingDown, "the host is shutting down")
            }
            (id, workers[new]) = (new, worker)
        }
        updateGauges()
        let (result, reusable) = await worker.invoke(request)
        record(worker.lastReport, failed: result.functionError != nil, outOfMemory: !worker.isAlive && worker.exitedOutOfMemory)
        await execute(state.finished(id, reusable: reusable, now: clock.now()))
        updateGauges()
        return result
    }

    /// Carries out decisions: stops workers, asks ``maintain()`` for provisioned ones.
    private func execute(_ actions: [WarmPool.Action]) async {
        for action in actions {
            switch action {
            case .stop(let id):
                await workers.removeValue(forKey: id)?.stop()
            case .provision:
                provisioningNeeded.yield()
            }
        }
    }

    private func record(_ report: InvocationReport?, failed: Bool, outOfMemory: Bool) {
        metrics.invocations.increment()
        if failed { metrics.errors.increment() }
        if outOfMemory { metrics.outOfMemory.increment() }
        guard let report else { return }
        metrics.duration.recordNanoseconds(Int64(report.duration * 1_000_000))
        if let initDuration = report.initDuration { metrics.initDuration.recordNanoseconds(Int64(initDuration * 1_000_000)) }
    }

    /// Cheap enough for every invoke: the idle lists as they stand.
    private func updateGauges() {
        metrics.warmWorkers.set(state.idleCount)
        metrics.busyWorkers.set(state.busyCount)
    }

    /// Before a `/metrics` scrape: warm counts only idle workers whose process still runs, so one
    /// that exited while idle is not reported (looking at each worker is kept off the invoke path).
    func refreshGauges() {
        metrics.warmWorkers.set(state.idleEnvironments.count { workers[$0]?.isAlive == true })
        metrics.busyWorkers.set(state.busyCount)
    }

    private func startWorker(provisioned: Bool) async throws -> Worker {
        var options = WorkerLaunchOptions()
        if provisioned { options.initializationType = "provisioned-concurrency" }
        if let standby = settings.standby?.take(megabytes: function.memorySize) {
            (options.standby, options.resources) = (standby, standby.resources)
        } else {
            options.resources = memory.makeWorkerResources(memoryMegabytes: function.memorySize, logger: logger)
        }
        // The launcher taken is replaced once this worker's own is under way.
        defer { settings.standby?.refill() }
        do {
            options.scratch = try await settings.scratch?.take(megabytes: function.ephemeralStorage)
        } catch {
            options.abandonLauncher()
            throw InvokeError(.spawnFailed, "cannot prepare the worker's /tmp: \(error)")
        }
        return try await Worker.start(function, settings: settings, sink: sink, logger: logger, options: options)
    }

    // MARK: Idle eviction

    /// Stops on-demand workers idle for the idle timeout or longer (host clock); returns how many.
    @discardableResult
    func evictIdle() async -> Int {
        let evicted = state.evict(now: clock.now())
        guard !evicted.isEmpty else { return 0 }
        updateGauges()
        logger.debug("idle workers evicted", metadata: ["function.name": "\(function.functionName)", "count": "\(evicted.count)"])
        await execute(evicted)
        return evicted.count
    }

    // MARK: Provisioned concurrency

    /// Starts missing provisioned workers whenever they are asked for, until the task is cancelled
    /// (the supervisor's service runs it).
    func maintain() async {
        for await _ in provisioningRequests { await provision() }
    }

    /// Starts and initialises the missing provisioned workers; returns once they are ready, or
    /// once a few tries with backoff could not start them all (then the configuration reports
    /// `FAILED` with the last reason, until a later call starts them).
    func provision() async {
        for attempt in 0..<Self.provisioningTries {
            let missing = state.startProvisioning()
            guard !missing.isEmpty else { return }
            let failure = await startProvisioned(missing)
            let giveUp = attempt + 1 == Self.provisioningTries
            state.provisioningRound(failure: failure, giveUp: giveUp)
            updateGauges()
            guard let failure else { return }
            if giveUp {
                logger.error(
                    "provisioned concurrency failed: workers could not be started",
                    metadata: ["function.name": "\(function.functionName)", "error": "\(failure)"])
                return
            }
            try? await Task.sleep(for: .seconds(1 << attempt))
        }
    }

    /// Starts the provisioned environments `ids` in parallel; why one failed, if any did.
    private func startProvisioned(_ ids: [WarmPool.EnvironmentID]) async -> String? {
        var failure: String?
        await withTaskGroup(of: (WarmPool.EnvironmentID, Result<Worker, ProvisioningFailure>).self) { group in
            for id in ids {
                group.addTask { (id, await self.startProvisionedWorker()) }
            }
            for await (id, outcome) in group {
                switch outcome {
                case .failure(let reason):
                    state.provisionedFailed(id)
                    failure = reason.description
                case .success(let worker):
                    workers[id] = worker
                    await execute(state.provisionedStarted(id, now: clock.now()))
                }
            }
        }
        return failure
    }

    /// Tries before provisioned concurrency is reported `FAILED`; waits of 1 s, 2 s, ... between them.
    private static let provisioningTries = 3

    /// Why a provisioned worker did not come up: its init error, or why it could not start.
    private struct ProvisioningFailure: Error, CustomStringConvertible {
        var description: String
    }

    private func startProvisionedWorker() async -> Result<Worker, ProvisioningFailure> {
        do {
            let worker = try await startWorker(provisioned: true)
            if let failure = await worker.initialize() {
                logger.error(
                    "provisioned worker failed to initialise",
                    metadata: ["function.name": "\(function.functionName)", "error.type": "\(failure.errorType)"])
                await worker.stop()
                return .failure(ProvisioningFailure(description: "\(failure.errorType): \(failure.errorMessage)"))
            }
            return .success(worker)
        } catch {
            logger.error(
                "provisioned worker could not start",
                metadata: ["function.name": "\(function.functionName)", "error": "\(error)"])
            return .failure(ProvisioningFailure(description: "\(error)"))
        }
    }

    /// The configuration and how much of it is allocated, or `nil`.
    func provisionedStatus() -> ProvisionedConcurrencyStatus? { state.provisionedStatus }

    /// Sets or removes provisioned concurrency; new workers start in the background, surplus idle ones stop.
    func setProvisioned(_ count: Int?, qualifier: String) async -> ProvisionedConcurrencyStatus? {
        let actions = state.setProvisioned(count, qualifier: qualifier, timestamp: Self.timestamp())
        // The answer is this call's own setting: a concurrent call may change it while this one
        // waits for workers to stop below (a Put racing a Delete answered 500 otherwise).
        let answer = state.provisionedStatus
        updateGauges()
        await execute(actions)
        return answer
    }

    // MARK: Hot reload

    /// The function's code or layers changed: idle workers stop now, busy ones once their
    /// invocation (running the old code) ends, provisioned ones are replaced; later invocations
    /// get fresh workers. `layerRoots` replaces the merged layer directories when layers changed.
    func drain(layerRoots: [[String]: String]? = nil) async {
        if let layerRoots { settings.sandbox.layerRoots = layerRoots }
        let actions = state.drain()
        updateGauges()
        await withDiscardingTaskGroup { group in
            for case .stop(let id) in actions {
                guard let worker = workers.removeValue(forKey: id) else { continue }
                group.addTask { await worker.stop() }
            }
        }
        await provision()
    }

    /// Stops every worker; invocations in flight end as their workers die.
    func stop() async {
        let actions = state.stop()
        provisioningNeeded.finish()
        updateGauges()
        await withDiscardingTaskGroup { group in
            for case .stop(let id) in actions {
                guard let worker = workers.removeValue(forKey: id) else { continue }
                group.addTask { await worker.stop() }
            }
        }
    }

    private static func timestamp() -> String {
        String(LambdaLogFormat.timestamp(Date()).dropLast()) + "+0000"
    }
}
