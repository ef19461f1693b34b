import FunctionHostCore
import Foundation
import Logging
import CoreMetrics
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// The execution environments of one function: carries out ``WarmPool``'s decisions with real
/// ``Worker``s (starting, invoking, stopping them) and nothing else.
///
/// Provisioned workers are started ahead of traffic (at start-up by ``provision()``, and when one
/// is lost or the configuration changes by ``maintain()``, which the supervisor's service runs);
/// idle on-demand workers are stopped by ``evictIdle()``. How many run at once is the concurrency
/// ledger's business; how many start at once is ``WarmPool/startLimit``'s, and an invocation
/// beyond it waits in line (a continuation per place, resumed by ``WarmPool/Action/assign(_:_:)``).
///
/// The decisions live under one lock rather than in an actor, so a warm invocation is chosen and
/// sent on the caller's own thread (``invokeIfWarm(_:completion:)``, the serve port's fast path);
/// the lock is never held across an `await` or a worker call.
final class FunctionPool: Sendable {
    let function: FunctionConfiguration
    private let sink: FunctionLogSink
    private let logger: Logger
    private let metrics: FunctionMetrics
    private let memory: MemoryEnforcement
    private let clock: any HostClock

    /// The decisions and the workers they name.
    fileprivate struct Members {
        var pool: WarmPool
        var workers: [WarmPool.EnvironmentID: Worker] = [:]
        var settings: WorkerSettings
        /// Workers already killed whose ``Worker/stop()`` (reaping, giving back cgroup and `/tmp`)
        /// ``maintain()`` or ``stop()`` still owes.
        var retired: [Worker] = []
        /// Invocations waiting in line, by their place.
        var waiters: [WarmPool.WaiterID: CheckedContinuation<WarmPool.Acquisition, Never>] = [:]
    }

    private let members: Mutex<Members>
    /// Wakes ``maintain()`` when provisioned workers are missing.
    private let provisioningNeeded: AsyncStream<Void>.Continuation
    private let provisioningRequests: AsyncStream<Void>
    /// Wakes ``maintain()`` when workers were retired.
    private let retirementNeeded: AsyncStream<Void>.Continuation
    private let retirements: AsyncStream<Void>
    /// Environments ``maintain()`` is to prewarm.
    private let prewarmNeeded: AsyncStream<WarmPool.EnvironmentID>.Continuation
    private let prewarms: AsyncStream<WarmPool.EnvironmentID>

    init(
        function: FunctionConfiguration, settings: WorkerSettings, sink: FunctionLogSink, logger: Logger,
        metrics: FunctionMetrics, memory: MemoryEnforcement, idleTimeout: Duration, startLimit: Int, clock: any HostClock
    ) {
        self.clock = clock
        self.function = function
        self.sink = sink
        self.logger = logger
        self.metrics = metrics
        self.memory = memory
        let provisioned = function.provisionedConcurrency.map { count, qualifier in
            ProvisionedConcurrencyStatus(qualifier: qualifier, requested: count, allocated: 0, lastModified: Self.timestamp())
        }
        members = Mutex(
            Members(
                pool: WarmPool(idleTimeout: Int64(idleTimeout.milliseconds), provisioned: provisioned, startLimit: startLimit),
                settings: settings))
        (provisioningRequests, provisioningNeeded) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (retirements, retirementNeeded) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (prewarms, prewarmNeeded) = AsyncStream.makeStream(of: WarmPool.EnvironmentID.self)
    }

    func invoke(_ request: InvocationRequest) async throws -> InvocationResult {
        let id: WarmPool.EnvironmentID
        let worker: Worker
        var initialized: (@Sendable () -> Void)?
        switch await acquire() {
        case .shuttingDown, .wait:  // acquire() resolves a place in line before it returns
            throw InvokeError(.shuttingDown, "the host is shutting down")
        case .reuse(let reused, _):
            guard let warm = members.withLock({ $0.workers[reused] }) else {
                retire(members.withLock { $0.pool.finished(reused, reusable: false, now: clock.now()) })
                throw InvokeError(.spawnFailed, "worker \(reused) is gone")
            }
            (id, worker) = (reused, warm)
        case .start(let new):
            metrics.coldStarts.increment()
            watchStart(new)
            do {
                worker = try await startWorker(provisioned: false)
            } catch {
                retire(members.withLock { $0.pool.startFailed(new) })
                throw error
            }
            let started = members.withLock { members in
                guard members.pool.started(new) else { return false }
                members.workers[new] = worker
                return true
            }
            guard started else {
                await worker.stop()
                throw InvokeError(.shuttingDown, "the host is shutting down")
            }
            id = new
            initialized = { [self] in retire(members.withLock { $0.pool.initialized(new) }) }
        }
        updateGauges()
        let (result, reusable) = await worker.invoke(request, initialized: initialized)
        await execute(finished(id, worker, result: result, reusable: reusable))
        return result
    }

    /// The environment for one invocation: decided at once, or after waiting in line (never `.wait`).
    private func acquire() async -> WarmPool.Acquisition {
        await withCheckedContinuation { waiter in
            let loop = WorkerPlacement.eventLoop
            let (acquisition, actions) = members.withLock { members in
                let workers = members.workers
                let (acquisition, actions) = members.pool.acquire(
                    isAlive: { workers[$0]?.isAlive == true }, prefers: { loop != nil && workers[$0]?.eventLoop === loop })
                if case .wait(let place) = acquisition { members.waiters[place] = waiter }
                return (acquisition, actions)
            }
            retire(actions)
            if case .wait = acquisition { return }
            waiter.resume(returning: acquisition)
        }
    }

    /// The fast path of a warm invocation: when an idle worker is there, sends `request` to it on
    /// the caller's thread and returns true, and `completion` gets the result on the worker's
    /// event loop; else returns false and does nothing (the caller takes ``invoke(_:)``).
    func invokeIfWarm(_ request: InvocationRequest, completion: @escaping @Sendable (InvocationResult) -> Void) -> Bool {
        let (warm, actions, gauges) = members.withLock { members in
            let workers = members.workers
            let loop = MultiThreadedEventLoopGroup.currentEventLoop
            let (warm, actions) = members.pool.acquireWarm(
                isAlive: { workers[$0]?.isAlive == true }, prefers: { loop != nil && workers[$0]?.eventLoop === loop })
            return (warm.flatMap { warm in workers[warm.id].map { (warm.id, $0) } }, actions, members.gauges)
        }
        retire(actions)
        guard let (id, worker) = warm else { return false }
        setGauges(gauges)
        worker.invoke(request) { [self] result, reusable in
            retire(finished(id, worker, result: result, reusable: reusable))
            completion(result)
        }
        return true
    }

    /// Books an ended invocation: its figures, and the pool's decision about its worker.
    private func finished(
        _ id: WarmPool.EnvironmentID, _ worker: Worker, result: InvocationResult, reusable: Bool
    ) -> [WarmPool.Action] {
        let alive = worker.isAlive
        record(worker.lastReport, failed: result.functionError != nil, outOfMemory: !alive && worker.exitedOutOfMemory)
        let (actions, gauges) = members.withLock {
            ($0.pool.finished(id, reusable: reusable && alive, now: clock.now()), $0.gauges)
        }
        setGauges(gauges)
        return actions
    }

    /// Carries out decisions and waits for them: stops workers, asks ``maintain()`` for provisioned
    /// ones, tells invocations in line what they got.
    private func execute(_ actions: [WarmPool.Action]) async {
        for action in actions {
            switch action {
            case .stop(let id):
                await members.withLock { $0.workers.removeValue(forKey: id) }?.stop()
            case .provision:
                provisioningNeeded.yield()
            case .assign(let place, let acquisition):
                assign(place, acquisition)
            case .prewarm(let id):
                prewarm(id)
            }
        }
    }

    /// Hands `id` to ``maintain()`` to start; when that no longer runs (the host stops), the pool
    /// hears at once that it failed.
    private func prewarm(_ id: WarmPool.EnvironmentID) {
        guard case .enqueued = prewarmNeeded.yield(id) else {
            return retire(members.withLock { $0.pool.prewarmFailed(id) })
        }
    }

    /// How long a start may hold its place in ``WarmPool/startLimit``: a sandboxed start of the C
    /// no-op takes 5-90 ms here (p90 with eight at a time in a 1,000-invoke burst), so a start still
    /// going after this waits on something other than this machine's CPU (the network, a hung
    /// init), and the next one begins meanwhile.
    static let startHold = TimeAmount.milliseconds(250)

    /// Tells the pool if the start of `id` still holds its place after ``startHold``.
    private func watchStart(_ id: WarmPool.EnvironmentID) {
        MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: Self.startHold) { [self] in
            retire(members.withLock { $0.pool.startIsSlow(id) })
        }
    }

    /// Resumes the invocation waiting in line at `place` with what it got.
    private func assign(_ place: WarmPool.WaiterID, _ acquisition: WarmPool.Acquisition) {
        members.withLock { $0.waiters.removeValue(forKey: place) }?.resume(returning: acquisition)
    }

    /// Carries out decisions without waiting: a worker to stop is killed now and handed to
    /// ``maintain()`` for the rest of its stop.
    private func retire(_ actions: [WarmPool.Action]) {
        for action in actions {
            switch action {
            case .stop(let id):
                let worker = members.withLock { members in
                    members.workers.removeValue(forKey: id).map { worker in
                        members.retired.append(worker)
                        return worker
                    }
                }
                guard let worker else { continue }
                worker.kill()
                retirementNeeded.yield()
            case .provision:
                provisioningNeeded.yield()
            case .assign(let place, let acquisition):
                assign(place, acquisition)
            case .prewarm(let id):
                prewarm(id)
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
        setGauges(members.withLock { $0.gauges })
    }

    private func setGauges(_ gauges: (idle: Int, busy: Int)) {
        metrics.warmWorkers.set(gauges.idle)
        metrics.busyWorkers.set(gauges.busy)
    }

    /// Before a `/metrics` scrape: warm counts only idle workers whose process still runs, so one
    /// that exited while idle is not reported (looking at each worker is kept off the invoke path).
    func refreshGauges() {
        let (idle, busy) = members.withLock { members in
            (members.pool.idleEnvironments.count { members.workers[$0]?.isAlive == true }, members.pool.busyCount)
        }
        metrics.warmWorkers.set(idle)
        metrics.busyWorkers.set(busy)
    }

    private func startWorker(provisioned: Bool) async throws -> Worker {
        var options = WorkerLaunchOptions()
        if provisioned { options.initializationType = "provisioned-concurrency" }
        let settings = members.withLock { $0.settings }
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
        let evicted = members.withLock { $0.pool.evict(now: clock.now()) }
        guard !evicted.isEmpty else { return 0 }
        updateGauges()
        logger.debug("idle workers evicted", metadata: ["function.name": "\(function.functionName)", "count": "\(evicted.count)"])
        await execute(evicted)
        return evicted.count
    }

    // MARK: Provisioned concurrency

    /// Starts missing provisioned workers whenever they are asked for, prewarms the environments a
    /// burst is owed, and finishes stopping retired workers, until ``stop()`` or cancellation (the
    /// supervisor's service runs it).
    func maintain() async {
        await withDiscardingTaskGroup { group in
            group.addTask { for await _ in self.provisioningRequests { await self.provision() } }
            group.addTask { for await _ in self.retirements { await self.stopRetired() } }
            group.addTask {
                await withDiscardingTaskGroup { starts in
                    for await id in self.prewarms { starts.addTask { await self.startPrewarmed(id) } }
                }
            }
        }
    }

    /// Starts and initialises the on-demand environment `id` ahead of any invocation; a stopping
    /// host kills it rather than wait for its init.
    private func startPrewarmed(_ id: WarmPool.EnvironmentID) async {
        metrics.coldStarts.increment()
        watchStart(id)
        let worker: Worker
        do {
            worker = try await startWorker(provisioned: false)
        } catch {
            logger.error(
                "a worker could not be started ahead of invocations",
                metadata: ["function.name": "\(function.functionName)", "error": "\(error)"])
            return await execute(members.withLock { $0.pool.prewarmFailed(id) })
        }
        members.withLock { $0.workers[id] = worker }
        let failure = await withTaskCancellationHandler { await worker.initialize() } onCancel: { worker.kill() }
        if failure != nil {
            await members.withLock { $0.workers.removeValue(forKey: id) }?.stop()
            return await execute(members.withLock { $0.pool.prewarmFailed(id) })
        }
        await execute(members.withLock { $0.pool.prewarmed(id, now: clock.now()) })
        updateGauges()
    }

    /// Finishes the stops of retired workers.
    private func stopRetired() async {
        let retired = members.withLock { members in
            defer { members.retired.removeAll() }
            return members.retired
        }
        await withDiscardingTaskGroup { group in
            for worker in retired { group.addTask { await worker.stop() } }
        }
    }

    /// Starts and initialises the missing provisioned workers; returns once they are ready, or
    /// once a few tries with backoff could not start them all (then the configuration reports
    /// `FAILED` with the last reason, until a later call starts them).
    func provision() async {
        for attempt in 0..<Self.provisioningTries {
            let missing = members.withLock { $0.pool.startProvisioning() }
            guard !missing.isEmpty else { return }
            let failure = await startProvisioned(missing)
            let giveUp = attempt + 1 == Self.provisioningTries
            members.withLock { $0.pool.provisioningRound(failure: failure, giveUp: giveUp) }
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
                    members.withLock { $0.pool.provisionedFailed(id) }
                    failure = reason.description
                case .success(let worker):
                    let actions = members.withLock { members in
                        members.workers[id] = worker
                        return members.pool.provisionedStarted(id, now: clock.now())
                    }
                    await execute(actions)
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
    func provisionedStatus() -> ProvisionedConcurrencyStatus? { members.withLock { $0.pool.provisionedStatus } }

    /// Sets or removes provisioned concurrency; new workers start in the background, surplus idle ones stop.
    func setProvisioned(_ count: Int?, qualifier: String) async -> ProvisionedConcurrencyStatus? {
        // The answer is this call's own setting: a concurrent call may change it while this one
        // waits for workers to stop below (a Put racing a Delete answered 500 otherwise).
        let (actions, answer) = members.withLock { members in
            (members.pool.setProvisioned(count, qualifier: qualifier, timestamp: Self.timestamp()), members.pool.provisionedStatus)
        }
        updateGauges()
        await execute(actions)
        return answer
    }

    // MARK: Hot reload

    /// The function's code or layers changed: idle workers stop now, busy ones once their
    /// invocation (running the old code) ends, provisioned ones are replaced; later invocations
    /// get fresh workers. `layerRoots` replaces the merged layer directories when layers changed.
    func drain(layerRoots: [[String]: String]? = nil) async {
        let stopping = members.withLock { members in
            if let layerRoots { members.settings.sandbox.layerRoots = layerRoots }
            return members.take(members.pool.drain())
        }
        updateGauges()
        await withDiscardingTaskGroup { group in
            for worker in stopping { group.addTask { await worker.stop() } }
        }
        await provision()
    }

    /// Stops every worker; invocations in flight end as their workers die, those in line are
    /// answered that the host is shutting down.
    func stop() async {
        let (stopping, actions) = members.withLock { members in
            let actions = members.pool.stop()
            // Every worker goes: those the pool stops, those still being prewarmed, the retired.
            let stopping = Array(members.workers.values) + members.retired
            members.workers.removeAll()
            members.retired.removeAll()
            return (stopping, actions)
        }
        for case .assign(let place, let acquisition) in actions { assign(place, acquisition) }
        provisioningNeeded.finish()
        retirementNeeded.finish()
        prewarmNeeded.finish()
        updateGauges()
        await withDiscardingTaskGroup { group in
            for worker in stopping { group.addTask { await worker.stop() } }
        }
    }

    private static func timestamp() -> String {
        String(LambdaLogFormat.timestamp(Date()).dropLast()) + "+0000"
    }
}

extension FunctionPool.Members {
    /// Idle and busy workers, for the gauges.
    fileprivate var gauges: (idle: Int, busy: Int) { (pool.idleCount, pool.busyCount) }

    /// Removes the workers `actions` stop from the map and returns them.
    fileprivate mutating func take(_ actions: [WarmPool.Action]) -> [Worker] {
        actions.compactMap { action in
            guard case .stop(let id) = action else { return nil }
            return workers.removeValue(forKey: id)
        }
    }
}
