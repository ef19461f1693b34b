import FunctionHostCore
import Foundation
import Logging
import CoreMetrics
import Metrics

/// The execution environments of one function.
///
/// Provisioned workers are started and initialised ahead of traffic, take invocations first and
/// are never evicted; above them, the most recently used idle on-demand worker is reused, and a
/// cold one started when none is idle. On-demand workers idle longer than the idle timeout are
/// stopped by ``evictIdle(now:)``. Dead workers are replaced (provisioned ones in the background).
/// How many run at once is the concurrency ledger's business, not the pool's.
actor FunctionPool {
    let function: FunctionConfiguration
    private var settings: WorkerSettings
    private let sink: FunctionLogSink
    private let logger: Logger
    private let metrics: FunctionMetrics
    private let memory: MemoryEnforcement
    private let idleTimeout: Duration
    private let clock: any HostClock

    private struct IdleWorker {
        var worker: Worker
        /// Host-clock epoch milliseconds.
        var since: Int64
    }
    /// Idle on-demand workers; the last is the most recently used.
    private var idle: [IdleWorker] = []
    private var idleProvisioned: [Worker] = []
    private var busy: [ObjectIdentifier: (worker: Worker, provisioned: Bool)] = [:]
    private var stopped = false
    /// Bumped by ``drain(layerRoots:)``: a worker of an older generation is not reused.
    private var generation = 0

    /// Provisioned concurrency as configured, and how much of it exists.
    private var provisioned: ProvisionedConcurrencyStatus?
    /// Provisioned workers alive (idle or busy).
    private var provisionedAlive = 0
    /// Provisioned workers being started.
    private var provisioning = 0

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
        self.idleTimeout = idleTimeout
        if let (count, qualifier) = function.provisionedConcurrency {
            provisioned = ProvisionedConcurrencyStatus(
                qualifier: qualifier, requested: count, allocated: 0, lastModified: Self.timestamp())
        }
    }

    func invoke(_ request: InvocationRequest) async throws -> InvocationResult {
        guard !stopped else { throw InvokeError(.shuttingDown, "the host is shutting down") }
        let generation = self.generation
        let worker: Worker
        let isProvisioned: Bool
        if let warm = takeIdleProvisioned() {
            (worker, isProvisioned) = (warm, true)
        } else if let warm = takeIdleWorker() {
            (worker, isProvisioned) = (warm, false)
        } else {
            metrics.coldStarts.increment()
            worker = try await startWorker(provisioned: false)
            isProvisioned = false
            if stopped {
                await worker.stop()
                throw InvokeError(.shuttingDown, "the host is shutting down")
            }
        }
        busy[ObjectIdentifier(worker)] = (worker, isProvisioned)
        updateGauges()
        let (result, reusable) = await worker.invoke(request)
        busy[ObjectIdentifier(worker)] = nil
        record(worker.lastReport, failed: result.functionError != nil, outOfMemory: !worker.isAlive && worker.exitedOutOfMemory)
        if reusable && !stopped && generation == self.generation {
            if isProvisioned && provisionedAlive <= (provisioned?.requested ?? 0) {
                idleProvisioned.append(worker)
            } else {
                if isProvisioned { provisionedAlive -= 1 }
                idle.append(IdleWorker(worker: worker, since: clock.now()))
            }
        } else {
            if isProvisioned {
                provisionedAlive -= 1
                replenishProvisioned()
            }
            await worker.stop()
        }
        updateGauges()
        return result
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
        metrics.warmWorkers.set(idle.count + idleProvisioned.count)
        metrics.busyWorkers.set(busy.count)
    }

    /// Before a `/metrics` scrape: warm counts only idle workers whose process still runs, so one
    /// that exited while idle is not reported (looking at each worker is kept off the invoke path).
    func refreshGauges() {
        metrics.warmWorkers.set(idle.count { $0.worker.isAlive } + idleProvisioned.count { $0.isAlive })
        metrics.busyWorkers.set(busy.count)
    }

    private func startWorker(provisioned: Bool) async throws -> Worker {
        var options = WorkerLaunchOptions()
        if provisioned { options.initializationType = "provisioned-concurrency" }
        options.resources = memory.makeWorkerResources(memoryMegabytes: function.memorySize, logger: logger)
        do {
            options.scratch = try await settings.scratch?.take(megabytes: function.ephemeralStorage)
        } catch {
            options.resources?.release()
            throw InvokeError(.spawnFailed, "cannot prepare the worker's /tmp: \(error)")
        }
        return try await Worker.start(function, settings: settings, sink: sink, logger: logger, options: options)
    }

    /// The most recently used idle worker that is still alive; dead ones are dropped.
    private func takeIdleWorker() -> Worker? {
        while let entry = idle.popLast() {
            if entry.worker.isAlive { return entry.worker }
            Task { await entry.worker.stop() }
        }
        return nil
    }

    private func takeIdleProvisioned() -> Worker? {
        while let worker = idleProvisioned.popLast() {
            if worker.isAlive { return worker }
            provisionedAlive -= 1
            Task { await worker.stop() }
            replenishProvisioned()
        }
        return nil
    }

    // MARK: Idle eviction

    /// Stops on-demand workers idle since before `now - idleTimeout` (host clock); returns how many.
    @discardableResult
    func evictIdle() async -> Int {
        let cutoff = clock.now() - Int64(idleTimeout.milliseconds)
        let expired = idle.filter { $0.since <= cutoff }
        guard !expired.isEmpty else { return 0 }
        idle.removeAll { $0.since <= cutoff }
        updateGauges()
        for entry in expired {
            logger.debug(
                "idle worker evicted", metadata: ["function.name": "\(function.functionName)"])
            await entry.worker.stop()
        }
        return expired.count
    }

    // MARK: Provisioned concurrency

    /// Starts and initialises the configured provisioned workers; returns once they are ready,
    /// or once a few tries with backoff could not start them all (then the configuration reports
    /// `FAILED` with the last reason, until a later call starts them).
    func provision() async {
        for attempt in 0..<Self.provisioningTries {
            guard let provisioned, !stopped else { return }
            let missing = provisioned.requested - provisionedAlive - provisioning
            guard missing > 0 else { return }
            let failure = await startProvisioned(missing)
            self.provisioned?.allocated = provisionedAlive
            self.provisioned?.failureReason = nil
            updateGauges()
            guard let failure else { return }
            if attempt + 1 == Self.provisioningTries {
                self.provisioned?.failureReason = failure
                logger.error(
                    "provisioned concurrency failed: workers could not be started",
                    metadata: ["function.name": "\(function.functionName)", "error": "\(failure)"])
                return
            }
            try? await Task.sleep(for: .seconds(1 << attempt))
        }
    }

    /// Tries to start and park this many provisioned workers; why one failed, if any did.
    private func startProvisioned(_ count: Int) async -> String? {
        provisioning += count
        let startedGeneration = generation
        var failure: String?
        await withTaskGroup(of: Result<Worker, ProvisioningFailure>.self) { group in
            for _ in 0..<count {
                group.addTask { await self.startProvisionedWorker() }
            }
            for await outcome in group {
                provisioning -= 1
                switch outcome {
                case .failure(let reason):
                    failure = reason.description
                case .success(let worker):
                    // A worker started before a drain runs the old code.
                    if stopped || startedGeneration != generation
                        || provisionedAlive >= (self.provisioned?.requested ?? 0)
                    {
                        await worker.stop()
                        continue
                    }
                    provisionedAlive += 1
                    idleProvisioned.append(worker)
                }
            }
        }
        if startedGeneration != generation { replenishProvisioned() }
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

    private func replenishProvisioned() {
        guard !stopped, let provisioned, provisionedAlive + provisioning < provisioned.requested else { return }
        self.provisioned?.allocated = provisionedAlive
        Task { await self.provision() }
    }

    /// The configuration and how much of it is allocated, or `nil`.
    func provisionedStatus() -> ProvisionedConcurrencyStatus? {
        guard var status = provisioned else { return nil }
        status.allocated = provisionedAlive
        return status
    }

    /// Sets or removes provisioned concurrency; new workers start in the background, surplus idle ones stop.
    func setProvisioned(_ count: Int?, qualifier: String) async -> ProvisionedConcurrencyStatus? {
        if let count {
            provisioned = ProvisionedConcurrencyStatus(
                qualifier: qualifier, requested: count, allocated: provisionedAlive, lastModified: Self.timestamp())
        } else {
            provisioned = nil
        }
        // The answer is this call's own setting: a concurrent call may change it while this one
        // waits for workers to stop below (a Put racing a Delete answered 500 otherwise).
        let answer = provisionedStatus()
        let target = count ?? 0
        while provisionedAlive > target, let worker = idleProvisioned.popLast() {
            provisionedAlive -= 1
            await worker.stop()
        }
        // Busy surplus workers become on-demand when they finish (see invoke).
        updateGauges()
        replenishProvisioned()
        return answer
    }

    // MARK: Hot reload

    /// The function's code or layers changed: idle workers stop now, busy ones once their
    /// invocation (running the old code) ends, provisioned ones are replaced; later invocations
    /// get fresh workers. `layerRoots` replaces the merged layer directories when layers changed.
    func drain(layerRoots: [[String]: String]? = nil) async {
        generation += 1
        if let layerRoots { settings.sandbox.layerRoots = layerRoots }
        let stale = idle.map(\.worker) + idleProvisioned
        provisionedAlive -= idleProvisioned.count
        idle.removeAll()
        idleProvisioned.removeAll()
        updateGauges()
        await withDiscardingTaskGroup { group in
            for worker in stale { group.addTask { await worker.stop() } }
        }
        await provision()
    }

    /// Stops every worker; invocations in flight end as their workers die.
    func stop() async {
        stopped = true
        let all = idle.map(\.worker) + idleProvisioned + busy.values.map(\.worker)
        idle.removeAll()
        idleProvisioned.removeAll()
        updateGauges()
        await withDiscardingTaskGroup { group in
            for worker in all { group.addTask { await worker.stop() } }
        }
    }

    private static func timestamp() -> String {
        String(LambdaLogFormat.timestamp(Date()).dropLast()) + "+0000"
    }
}
