import CoreMetrics
import FunctionHostCore
import Logging
import Metrics
import ServiceLifecycle

/// Runs functions in worker processes: one ``FunctionPool`` per function, all behind one
/// account-wide ``ConcurrencyGate``.
///
/// As a `Service` it evicts idle workers while it runs and stops every worker (and removes the
/// host's cgroups) when the service group shuts down (SIGINT/SIGTERM); ``stop()`` does the same
/// for callers without a group.
public final class Supervisor: Invoker, ConcurrencyControl, Service {
    private let pools: [String: FunctionPool]
    private let gate: ConcurrencyGate
    private let metrics: SupervisorMetrics
    private let memory: MemoryEnforcement
    private let limits: HostLimits
    private let clock: any HostClock
    private let scratch: ScratchVolumes?
    private let standby: StandbyLaunchers?

    /// - Parameters:
    ///   - memory: how workers are held to their `MemorySize`; probe it once per host.
    ///   - metricsFactory: where metrics go (the CLI passes the bootstrapped factory, tests a registry's).
    ///   - clock: the host clock idle eviction runs on (a function's own timeout stays on real time).
    /// - Throws: ``ConcurrencyConfigurationError`` when the template's reservations leave too
    ///   little of `limits.accountLimit` unreserved; errors creating log files.
    public init(
        functions: [FunctionConfiguration], settings: WorkerSettings, limits: HostLimits = HostLimits(),
        memory: MemoryEnforcement, metricsFactory: any MetricsFactory = MetricsSystem.factory,
        logDirectory: String, console: Int32, clock: any HostClock = WallClock(), logger: Logger
    ) throws {
        self.clock = clock
        scratch = settings.scratch
        standby = settings.standby
        var reserved: [String: Int] = [:]
        for function in functions { reserved[function.functionName] = function.reservedConcurrency }
        gate = ConcurrencyGate(try ConcurrencyLedger(accountLimit: limits.accountLimit, reserved: reserved))
        let metrics = SupervisorMetrics(functionNames: functions.map(\.functionName), factory: metricsFactory)
        var pools: [String: FunctionPool] = [:]
        for function in functions {
            let sink = try FunctionLogSink(
                logicalID: function.logicalID, logDirectory: logDirectory, console: console,
                rotation: (limits.logFileSize, limits.logFiles))
            pools[function.functionName] = FunctionPool(
                function: function, settings: settings, sink: sink, logger: logger,
                metrics: metrics[function.functionName]!, memory: memory, idleTimeout: limits.idleTimeout,
                startLimit: limits.startLimit, clock: clock)
        }
        self.pools = pools
        self.metrics = metrics
        self.memory = memory
        self.limits = limits
    }

    public func invoke(_ function: FunctionConfiguration, _ request: InvocationRequest) async throws
        -> InvocationResult
    {
        try await invoke(function, request, admission: .rejectWhenFull)
    }

    public func invoke(
        _ function: FunctionConfiguration, _ request: InvocationRequest, admission: InvocationAdmission
    ) async throws -> InvocationResult {
        guard let pool = pools[function.functionName], let functionMetrics = metrics[function.functionName] else {
            throw InvokeError(.spawnFailed, "no pool for function \(function.functionName)")
        }
        if !function.publishedLayers.isEmpty {
            return InvocationResult(payload: FunctionErrorPayload.unavailableLayers(function.publishedLayers).buffer, functionError: "Unhandled")
        }
        do {
            try await gate.acquire(function.functionName, admission: admission)
        } catch let error as InvokeError where error.throttleReason != nil {
            functionMetrics.throttles.increment()
            throw error
        }
        if case .waitForCapacity(let startBy?) = admission, clock.seconds() > startBy {
            gate.release(function.functionName)
            throw InvokeError(.expiredWhileWaiting, "admitted after its start-by time; not run")
        }
        functionMetrics.concurrency.increment()
        metrics.accountConcurrency.increment()
        defer {
            gate.release(function.functionName)
            functionMetrics.concurrency.decrement()
            metrics.accountConcurrency.decrement()
        }
        return try await pool.invoke(request)
    }

    public func invokeIfWarm(
        _ function: FunctionConfiguration, _ request: InvocationRequest,
        completion: @escaping @Sendable (InvocationResult) -> Void
    ) -> Bool {
        guard let pool = pools[function.functionName], let functionMetrics = metrics[function.functionName],
            function.publishedLayers.isEmpty, gate.tryAcquire(function.functionName)
        else { return false }
        functionMetrics.concurrency.increment()
        metrics.accountConcurrency.increment()
        let countOut: @Sendable () -> Void = { [gate, metrics] in
            gate.release(function.functionName)
            functionMetrics.concurrency.decrement()
            metrics.accountConcurrency.decrement()
        }
        let started = pool.invokeIfWarm(request) { result in
            countOut()
            completion(result)
        }
        if !started { countOut() }
        return started
    }

    /// Starts and initialises every function's provisioned workers; returns when they are ready.
    public func provision() async {
        await withDiscardingTaskGroup { group in
            for pool in pools.values { group.addTask { await pool.provision() } }
        }
    }

    /// Evicts idle workers and replaces lost provisioned ones until graceful shutdown, then stops every worker.
    public func run() async throws {
        let interval = min(max(limits.idleTimeout / 4, .milliseconds(10)), .seconds(5))
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for pool in self.pools.values { group.addTask { await pool.maintain() } }
                while !Task.isCancelled {
                    try? await self.clock.sleep(milliseconds: Int64(interval.milliseconds))
                    for pool in self.pools.values { await pool.evictIdle() }
                }
            }
        }
        await stop()
    }

    /// Invocations running now, across all functions.
    public var invocationsInFlight: Int { gate.snapshot.totalInFlight }

    /// Replaces `functionName`'s workers after its code or layers changed (see ``FunctionPool/drain(layerRoots:)``).
    public func drain(_ functionName: String, layerRoots: [[String]: String]? = nil) async {
        await pools[functionName]?.drain(layerRoots: layerRoots)
    }

    /// Brings the worker gauges up to date (a `/metrics` scrape): idle workers that exited are not counted.
    public func refreshMetrics() async {
        for pool in pools.values { await pool.refreshGauges() }
    }

    public func stop() async {
        await withDiscardingTaskGroup { group in
            for pool in pools.values { group.addTask { await pool.stop() } }
        }
        standby?.shutdown()
        memory.shutdown()
        await scratch?.shutdown()
    }

    // MARK: ConcurrencyControl

    public var accountLimit: Int { gate.accountLimit }

    public func unreservedConcurrency() -> Int { gate.snapshot.unreservedLimit }

    public func reservedConcurrency(of functionName: String) -> Int? { gate.snapshot.reserved[functionName] }

    public func invocationsWaitingForCapacity(of functionName: String) -> Int { gate.snapshot.waiting(for: functionName) }

    public func setReservedConcurrency(_ value: Int?, of functionName: String) throws(ConcurrencyConfigurationError) {
        try gate.setReserved(value, for: functionName)
    }

    public func provisionedConcurrency(of functionName: String) async -> ProvisionedConcurrencyStatus? {
        await pools[functionName]?.provisionedStatus()
    }

    public func setProvisionedConcurrency(_ value: Int?, qualifier: String, of functionName: String) async throws(
        ConcurrencyConfigurationError
    ) -> ProvisionedConcurrencyStatus? {
        guard let pool = pools[functionName] else { throw ConcurrencyConfigurationError("no function \(functionName)") }
        if let value, let reserved = reservedConcurrency(of: functionName), value > reserved {
            throw ConcurrencyConfigurationError(
                "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
        }
        if let value, reservedConcurrency(of: functionName) == nil {
            // Without a reservation provisioned workers come out of the unreserved pool, which must keep its minimum.
            var provisionedElsewhere = 0
            for (name, other) in pools where name != functionName && reservedConcurrency(of: name) == nil {
                provisionedElsewhere += await other.provisionedStatus()?.requested ?? 0
            }
            let minimum = gate.snapshot.minimumUnreserved
            guard value + provisionedElsewhere <= unreservedConcurrency() - minimum else {
                throw ConcurrencyConfigurationError(
                    "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [\(minimum)]."
                )
            }
        }
        return await pool.setProvisioned(value, qualifier: qualifier)
    }
}

extension Supervisor {
    /// Checks that the template's `ReservedConcurrentExecutions` fit the account limit.
    /// - Throws: ``ConcurrencyConfigurationError`` naming the limit that does not hold.
    public static func checkReservations(_ functions: [FunctionConfiguration], limits: HostLimits) throws(
        ConcurrencyConfigurationError
    ) {
        var reserved: [String: Int] = [:]
        for function in functions { reserved[function.functionName] = function.reservedConcurrency }
        do {
            _ = try ConcurrencyLedger(accountLimit: limits.accountLimit, reserved: reserved)
        } catch {
            let total = reserved.values.reduce(0, +)
            throw ConcurrencyConfigurationError(
                "the template reserves \(total) concurrent executions, which leaves less than \(min(100, limits.accountLimit)) of the account limit \(limits.accountLimit) unreserved (--max-concurrency)"
            )
        }
    }
}
