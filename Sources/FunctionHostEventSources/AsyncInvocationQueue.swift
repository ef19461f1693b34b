import Foundation
import FunctionHostCore
import FunctionHostStore
import GRDB
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization

/// The durable queue of `Event` invocations and their dispatcher: Lambda's asynchronous
/// invocation (spec: async-and-event-sources 1).
///
/// ``enqueue(_:_:)`` returns only once the event's row is committed to the store, so a 202 is
/// never given for an event a crash could lose; concurrent writes (enqueues, and the attempts'
/// bookkeeping) share one transaction (``GroupCommit``), so they share its fsync. ``run()`` dispatches per function, within the
/// concurrency ledger (over the limit events wait; a wait is not an attempt), retries function
/// errors as ``AsyncRetryPolicy`` decides with the same request id, and sends the invocation
/// record to `OnSuccess` / `OnFailure` destinations (an SQS queue through ``QueueSender``, or
/// a function through this queue) and the original event to the dead-letter queue. Delivery is
/// at least once: an event that was running when the host died runs again after a restart.
///
/// List ``shutdownSentinel`` last in the service group (it is shut down first): once the host
/// begins to stop, results of attempts cut short by stopping workers are not counted.
public final class AsyncInvocationQueue: AsyncInvocationSink, Service {
    let writer: any DatabaseWriter
    /// The queue's writes (accepting, rescheduling, finishing events): concurrent ones share a commit.
    private let commits: GroupCommit
    private let catalog: FunctionCatalog
    private let invoker: any Invoker
    private let configs: EventInvokeConfigRegistry
    private let account: AccountContext
    let concurrency: (any ConcurrencyControl)?
    private let queueSender: (any QueueSender)?
    private let clock: any HostClock
    private let firstRetryDelay: Double
    private let logger: Logger
    let lanes: [String: AsyncDispatchLane]
    private let metrics: [String: AsyncQueueMetrics]
    private let stopping = Atomic<Bool>(false)
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// - Parameters:
    ///   - firstRetryDelay: seconds (of `clock`) before the first retry; the second waits twice as long.
    ///   - queueSender: where SQS destinations and dead-letter queues are sent; without one they are logged and dropped.
    public init(
        writer: any DatabaseWriter, catalog: FunctionCatalog, invoker: any Invoker, configs: EventInvokeConfigRegistry,
        account: AccountContext, concurrency: (any ConcurrencyControl)? = nil, queueSender: (any QueueSender)? = nil,
        clock: any HostClock = WallClock(), firstRetryDelay: Double = 60,
        metricsFactory: (any MetricsFactory)? = nil, logger: Logger
    ) {
        self.writer = writer
        commits = GroupCommit(writer: writer)
        self.catalog = catalog
        self.invoker = invoker
        self.configs = configs
        self.account = account
        self.concurrency = concurrency
        self.queueSender = queueSender
        self.clock = clock
        self.firstRetryDelay = firstRetryDelay
        self.logger = logger
        let names = catalog.functions.map(\.functionName)
        lanes = Dictionary(uniqueKeysWithValues: names.map { ($0, AsyncDispatchLane(functionName: $0)) })
        let factory = metricsFactory ?? MetricsSystem.factory
        metrics = Dictionary(uniqueKeysWithValues: names.map { ($0, AsyncQueueMetrics(functionName: $0, factory: factory)) })
    }

    // MARK: Accepting

    public func enqueue(_ function: FunctionConfiguration, _ request: InvocationRequest) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            guard enqueueIfAccepting(function, request, completion: { done.resume(with: $0) }) else {
                return done.resume(throwing: InvokeError(.shuttingDown, "the host is shutting down"))
            }
        }
    }

    /// Takes events until the host begins to stop; `completion` runs on the store's writer queue.
    public func enqueueIfAccepting(
        _ function: FunctionConfiguration, _ request: InvocationRequest,
        completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) -> Bool {
        guard !stopping.load(ordering: .relaxed) else { return false }
        let now = clock.seconds()
        let record = AsyncInvocationRecord(
            requestID: request.requestID, functionName: function.functionName,
            invokedFunctionARN: request.invokedFunctionARN, traceID: request.traceID,
            payload: Data(request.payload.readableBytesView), enqueuedAt: now, notBefore: now, attempts: 0)
        let lane = lanes[function.functionName]
        commits.write(
            { db in try record.insertNew(db) },
            completion: { result in
                if case .success = result { lane?.signal() }
                completion(result)
            })
        return true
    }

    // MARK: Dispatching

    public func run() async throws {
        await reportEventsOfRemovedFunctions()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                // A service that returns early fails the whole group: with no functions, wait for shutdown.
                group.addTask { try? await gracefulShutdown() }
                for lane in self.lanes.values {
                    group.addTask { await self.dispatch(lane) }
                }
            }
        }
        // Attempts hand their last writes (reschedule, finish) to the group commit and end without
        // waiting: one more write, committed after every write queued before it, drains them before
        // the host exits or a reloaded host opens the same database.
        _ = try? await commits.write { _ in }
    }

    /// Events accepted for a function the template no longer has cannot run (their destinations
    /// are unknown too): they stay, and are named once at start-up rather than left silently.
    private func reportEventsOfRemovedFunctions() async {
        let waiting = (try? await writer.read { db in try AsyncInventory.waiting(db) }) ?? []
        for entry in waiting where lanes[entry.functionName] == nil {
            logger.warning(
                "accepted Event invocations wait for a function that is not in the template; they run if it comes back (fnhost queues lists them)",
                metadata: ["function.name": "\(entry.functionName)", "async.events": "\(entry.count)"])
        }
    }

    /// Marks the queue as stopping when graceful shutdown reaches it (list it last).
    public var shutdownSentinel: some Service { ShutdownSentinel(queue: self) }

    private struct ShutdownSentinel: Service {
        let queue: AsyncInvocationQueue
        func run() async throws {
            try? await gracefulShutdown()
            queue.stopping.store(true, ordering: .relaxed)
            for lane in queue.lanes.values { lane.signal() }
        }
    }

    /// How many of a function's events run at once: its reserved concurrency (at least 1, so the
    /// events of a function reserved at 0 are taken up, and failed), else the account limit, capped.
    private func parallelism(of functionName: String) -> Int {
        if let reserved = concurrency?.reservedConcurrency(of: functionName) { return max(1, min(reserved, 256)) }
        return max(1, min(concurrency?.accountLimit ?? 64, 256))
    }

    private func dispatch(_ lane: AsyncDispatchLane) async {
        let name = lane.functionName
        guard let function = catalog.entry(named: name)?.configuration else { return }
        await withDiscardingTaskGroup { group in
            // The backlog gauges cost a scan of the function's events: refreshed at most this often
            // (real time), not on every wake-up of a busy queue.
            var gaugesDue = ContinuousClock.now
            while !Task.isCancelled {
                // Once the host is stopping nothing new starts; unfinished events stay for the next start.
                let limit = stopping.load(ordering: .relaxed) ? 0 : parallelism(of: name)
                let running = lane.running
                let now = clock.seconds()
                var nextDue: Double?
                let refreshGauges = ContinuousClock.now >= gaugesDue
                // Decided when the events are taken, so an attempt is counted in the same write.
                let (policy, _) = policy(for: name)
                let reserved = concurrency?.reservedConcurrency(of: name)
                // Taking events counts their attempts, so it is a write; a full lane only looks, on a reader.
                let taking = running.count < limit
                @Sendable func look(
                    _ db: Database
                ) throws -> ([(AsyncInvocationRecord, AsyncDispatchStart)], Double?, (depth: Int, oldest: Double?)?) {
                    var due: [(AsyncInvocationRecord, AsyncDispatchStart)] = []
                    if taking {
                        // Ids first: payloads (up to 1 MB each) are read only for the events about to start.
                        let ids = try Int64.fetchAll(
                            db.cachedStatement(
                                sql: """
                                    SELECT id FROM asyncInvocation WHERE functionName = ? AND notBefore <= ?
                                    ORDER BY notBefore, id LIMIT ?
                                    """),
                            arguments: [name, now, limit + running.count])
                        for id in ids.filter({ !running.contains($0) }).prefix(limit - running.count) {
                            guard let record = try AsyncInvocationRecord.fetchOne(id: id, db) else { continue }
                            let start = AsyncDispatchStart(
                                of: record, policy: policy, reservedConcurrency: reserved, now: now)
                            // Counted before it starts: a crash during the attempt cannot earn the event an extra one.
                            if case .run = start {
                                try AsyncInvocationRecord.countAttempt(id: id, attempts: record.attempts + 1, db)
                            }
                            due.append((record, start))
                        }
                    }
                    let next = try Double.fetchOne(
                        db.cachedStatement(
                            sql: "SELECT MIN(notBefore) FROM asyncInvocation WHERE functionName = ? AND notBefore > ?"),
                        arguments: [name, now])
                    guard refreshGauges else { return (due, next, nil as (depth: Int, oldest: Double?)?) }
                    let row = try Row.fetchOne(
                        db, sql: "SELECT COUNT(*), MIN(enqueuedAt) FROM asyncInvocation WHERE functionName = ?",
                        arguments: [name])
                    return (due, next, (row?[0] as Int? ?? 0, row?[1] as Double?))
                }
                do {
                    let (due, next, backlog) = taking ? try await commits.write(look) : try await writer.read(look)
                    nextDue = next
                    if let backlog {
                        gaugesDue = .now + Self.gaugeInterval
                        metrics[name]?.depth.set(backlog.depth)
                        metrics[name]?.oldestAge.set(backlog.oldest.map { max(0, now - $0) } ?? 0)
                    }
                    for (record, start) in due {
                        guard let id = record.id else { continue }
                        lane.start(id)
                        group.addTask {
                            // The lane lets it go once its last write is committed: not read again before.
                            await self.attempt(record, start, of: function) { lane.finish(id) }
                        }
                    }
                } catch {
                    logger.error(
                        "async queue could not be read", metadata: ["function.name": "\(name)", "error": "\(error)"])
                }
                await lane.wait(until: nextDue.map { Int64(($0 * 1000).rounded(.up)) }, on: clock, recheckAfter: .seconds(1))
            }
        }
    }

    /// How often a busy function's backlog gauges are refreshed.
    static let gaugeInterval: Duration = .seconds(1)

    private func policy(for functionName: String) -> (AsyncRetryPolicy, EventInvokeConfig) {
        let config = configs.config(of: functionName) ?? EventInvokeConfig()
        return (
            AsyncRetryPolicy(
                maximumRetryAttempts: config.effectiveMaximumRetryAttempts,
                maximumEventAge: Double(config.effectiveMaximumEventAgeInSeconds), firstRetryDelay: firstRetryDelay),
            config
        )
    }

    /// Runs a taken event as `start` says; `record` is as it was read (its attempts not counting this
    /// one). `done` is called once, when the event's last write is committed (or failed): the
    /// attempt itself does not wait for that commit.
    private func attempt(
        _ record: AsyncInvocationRecord, _ start: AsyncDispatchStart, of function: FunctionConfiguration,
        then done: @escaping @Sendable () -> Void
    ) async {
        switch start {
        case .deliver:
            // Decided before; only its destinations are still owed.
            await finish(
                record, attempts: record.attempts,
                failure: record.outcome.flatMap(AsyncRetryPolicy.FailureCondition.init(rawValue:)),
                response: record.response.map { ($0, record.functionError) }, of: function, then: done)
            return
        case .giveUp(let failure):
            await finish(record, attempts: record.attempts, failure: failure, response: nil, of: function, then: done)
            return
        case .run:
            break
        }
        let (policy, _) = policy(for: function.functionName)
        let request = InvocationRequest(
            requestID: record.requestID, payload: ByteBuffer(bytes: record.payload),
            invokedFunctionARN: record.invokedFunctionARN, traceID: record.traceID)
        let result: InvocationResult
        do {
            // Its age is checked again when capacity frees up: one that outlived the maximum while
            // waiting is given up unrun.
            result = try await invoker.invoke(
                function, request, admission: .waitForCapacity(startBy: record.enqueuedAt + policy.maximumEventAge))
        } catch let error as InvokeError where error.code == .expiredWhileWaiting {
            await finish(
                record, attempts: record.attempts, failure: .eventAgeExceeded, response: nil, of: function, then: done)
            return
        } catch {
            // Not an attempt: the host could not run the function (stopping, or a spawn failure).
            guard !stopping.load(ordering: .relaxed), !Task.isCancelled, !(error is CancellationError),
                (error as? InvokeError)?.code != .shuttingDown
            else {
                reschedule(record, attempts: record.attempts, notBefore: record.notBefore, then: done)
                return
            }
            logger.error(
                "async invocation could not run",
                metadata: ["function.name": "\(function.functionName)", "invocation.id": "\(record.requestID)", "error": "\(error)"])
            reschedule(
                record, attempts: record.attempts,
                notBefore: clock.seconds() + AsyncRetryPolicy.systemRetryDelay(consecutiveFailures: 0), then: done)
            return
        }
        // A worker killed because the host is stopping is not the function's failure: the event runs
        // again after a restart, without this attempt counted.
        guard !stopping.load(ordering: .relaxed), !Task.isCancelled else {
            reschedule(record, attempts: record.attempts, notBefore: record.notBefore, then: done)
            return
        }
        let attempts = record.attempts + 1
        // The configuration may have changed while the attempt ran.
        let (current, _) = self.policy(for: function.functionName)
        let response = (Data(result.payload.readableBytesView), result.functionError)
        switch current.decide(functionFailed: result.functionError != nil, attempts: attempts, age: clock.seconds() - record.enqueuedAt) {
        case .succeeded:
            await finish(record, attempts: attempts, failure: nil, response: response, of: function, then: done)
        case .retry(let delay):
            // The due time is fixed when the decision is made, before it is logged: a virtual clock
            // advanced on seeing the log line still finds the retry due at decision time + delay.
            let notBefore = clock.seconds() + delay
            logger.info(
                "async invocation failed, retrying",
                metadata: [
                    "function.name": "\(function.functionName)", "invocation.id": "\(record.requestID)",
                    "invocation.attempts": "\(attempts)", "retry.delay": "\(delay)",
                ])
            metrics[function.functionName]?.retries.increment()
            reschedule(record, attempts: attempts, notBefore: notBefore, then: done)
        case .failed(let condition):
            await finish(record, attempts: attempts, failure: condition, response: response, of: function, then: done)
        }
    }

    /// Records the attempt and when (host-clock epoch seconds) the event may run again; `done`
    /// once that is committed.
    private func reschedule(
        _ record: AsyncInvocationRecord, attempts: Int, notBefore: Double, then done: @escaping @Sendable () -> Void
    ) {
        let logger = logger
        commits.write(
            { db in
                try db.cachedStatement(sql: "UPDATE asyncInvocation SET attempts = ?, notBefore = ? WHERE id = ?")
                    .execute(arguments: [attempts, notBefore, record.id])
            },
            completion: { result in
                if case .failure(let error) = result {
                    logger.error(
                        "async invocation could not be rescheduled",
                        metadata: ["invocation.id": "\(record.requestID)", "error": "\(error)"])
                }
                done()
            })
    }

    /// Serves the destinations of an event that succeeded (`failure == nil`) or was given up,
    /// then removes it. A function destination is queued in the same transaction. When an SQS
    /// destination or the dead-letter queue cannot be reached, the event stays, with its outcome,
    /// and delivery is tried again after a backoff (at least once: a destination that did take
    /// the record may get it again). `done` once the event's removal (or its keeping) is committed.
    private func finish(
        _ record: AsyncInvocationRecord, attempts: Int, failure: AsyncRetryPolicy.FailureCondition?,
        response: (payload: Data, functionError: String?)?, of function: FunctionConfiguration,
        then done: @escaping @Sendable () -> Void
    ) async {
        let name = function.functionName
        let config = configs.config(of: name)
        let outcome = AsyncInvocationOutcome(
            requestID: record.requestID, functionARN: account.functionARN(name, qualifier: "$LATEST"),
            condition: failure?.rawValue ?? "Success", approximateInvokeCount: attempts, requestPayload: record.payload,
            response: response, timestamp: Date())
        var metadata: Logger.Metadata = [
            "function.name": "\(name)", "invocation.id": "\(record.requestID)", "invocation.attempts": "\(attempts)",
        ]
        if let failure {
            metadata["invocation.condition"] = "\(failure.rawValue)"
            logger.warning("async invocation failed", metadata: metadata)
            metrics[name]?.failed(failure)
        }
        let destination = failure == nil ? config?.onSuccess : config?.onFailure
        var functionTarget: FunctionConfiguration?
        var undelivered = false
        if let destination, !destination.isEmpty {
            let onSuccess = failure == nil
            if destination.hasPrefix("arn:aws:sqs:") {
                let sent = await send(outcome.invocationRecord(), attributes: [:], to: destination, metadata: metadata)
                metrics[name]?.delivery(onSuccess: onSuccess, delivered: sent)
                undelivered = undelivered || !sent
            } else if let reference = FunctionReference(parsing: destination),
                let target = catalog.entry(named: reference.name)?.configuration
            {
                functionTarget = target
                metrics[name]?.delivery(onSuccess: onSuccess, delivered: true)
            } else {
                metadata["destination.arn"] = "\(destination)"
                logger.error("async destination is not a served function or SQS queue", metadata: metadata)
                metrics[name]?.delivery(onSuccess: onSuccess, delivered: false)
            }
        }
        if failure != nil, let deadLetter = function.deadLetterQueueARN {
            let sent = await send(
                String(decoding: record.payload, as: UTF8.self), attributes: outcome.deadLetterAttributes(), to: deadLetter,
                metadata: metadata)
            (sent ? metrics[name]?.deadLettersSent : metrics[name]?.deadLettersFailed)?.increment()
            undelivered = undelivered || !sent
        }
        let now = clock.seconds()
        if undelivered {
            keepForDelivery(
                record, attempts: attempts, outcome: outcome.condition, response: response, now: now, then: done)
            return
        }
        let followUp = functionTarget.map { target in
            AsyncInvocationRecord(
                requestID: InvocationIdentifiers.requestID(), functionName: target.functionName,
                invokedFunctionARN: account.functionARN(target.functionName), traceID: InvocationIdentifiers.traceHeader(),
                payload: Data(outcome.invocationRecord().utf8), enqueuedAt: now, notBefore: now, attempts: 0)
        }
        let (logger, targetLane, context) = (logger, functionTarget.flatMap { lanes[$0.functionName] }, metadata)
        commits.write(
            { db in
                try AsyncInvocationRecord.delete(id: record.id, db)
                try followUp?.insertNew(db)
            },
            completion: { result in
                if case .failure(let error) = result {
                    logger.error(
                        "async invocation could not be completed",
                        metadata: context.merging(["error": "\(error)"]) { $1 })
                }
                targetLane?.signal()
                done()
            })
    }

    /// Keeps a decided event whose destinations could not all be reached, to deliver it again later.
    private func keepForDelivery(
        _ record: AsyncInvocationRecord, attempts: Int, outcome: String, response: (payload: Data, functionError: String?)?,
        now: Double, then done: @escaping @Sendable () -> Void
    ) {
        let delay = AsyncRetryPolicy.systemRetryDelay(consecutiveFailures: record.deliveryFailures)
        let logger = logger
        commits.write(
            { db in
                try db.execute(
                    sql: """
                        UPDATE asyncInvocation SET attempts = ?, outcome = ?, response = ?, functionError = ?,
                          deliveryFailures = deliveryFailures + 1, notBefore = ? WHERE id = ?
                        """,
                    arguments: [attempts, outcome, response?.payload, response?.functionError, now + delay, record.id])
            },
            completion: { result in
                switch result {
                case .success:
                    logger.warning(
                        "async invocation kept: a destination could not be reached, delivery is retried",
                        metadata: ["invocation.id": "\(record.requestID)", "retry.delay": "\(delay)"])
                case .failure(let error):
                    logger.error(
                        "async invocation could not be kept for delivery",
                        metadata: ["invocation.id": "\(record.requestID)", "error": "\(error)"])
                }
                done()
            })
    }

    /// Sends to an SQS queue; `false` (logged) when it could not be sent.
    private func send(
        _ body: String, attributes: [String: QueueMessageAttribute], to arn: String, metadata: Logger.Metadata
    ) async -> Bool {
        var metadata = metadata
        metadata["queue.arn"] = "\(arn)"
        guard let queueSender else {
            logger.error("async destination queue cannot be reached: no queue engine", metadata: metadata)
            return false
        }
        do {
            try await queueSender.send(toQueueARN: arn, body: body, attributes: attributes)
            return true
        } catch {
            metadata["error"] = "\(error)"
            logger.error("async destination queue send failed", metadata: metadata)
            return false
        }
    }
}
