import Foundation
import FunctionHostCore
import Logging
import Metrics
import NIOCore
import Synchronization

/// Runs one SQS event-source mapping: pollers that receive from the queue through a
/// ``QueueConsumer``, drop (and delete) what no filter matches, gather batches (``SQSBatcher``),
/// invoke the function synchronously within the concurrency ledger, and delete or keep messages
/// as ``SQSBatchOutcome`` decides. Kept messages reappear after their visibility timeout, and the
/// queue's redrive policy moves them after `maxReceiveCount` receives; FIFO groups stay blocked
/// while a message of theirs is in flight. A throttled batch is made visible again at once.
///
/// Pollers scale as ``PollerScaling`` says. Every decision is in those pure types; this class
/// only executes. Thread-safe; ``run()`` returns when its task is cancelled.
final class SQSMappingRunner: MappingRunner {
    private struct State {
        var mapping: EventSourceMapping
        var scaling: PollerScaling
        var lastProcessingResult = "No records processed"
        /// Set by ``remove()``: pollers end and no new one starts.
        var removed = false
        /// Which pollers are busy and when parked ones wake (what a virtual clock's advance waits for).
        var activity = PollerActivity()
        /// The queue's settings and backlog as last read, and when (real milliseconds), shared by the pollers.
        var info: (value: ConsumedQueueInfo, readAt: Int64)?
    }

    private let state: Mutex<State>
    private let spawns: AsyncStream<Void>
    private let spawner: AsyncStream<Void>.Continuation
    /// Wakes a disabled mapping's last poller when the mapping changes.
    private let changed: AsyncDispatchLane
    private let consumer: any QueueConsumer
    private let invoker: any Invoker
    private let function: FunctionConfiguration
    private let concurrency: (any ConcurrencyControl)?
    private let clock: any HostClock
    private let account: AccountContext
    private let logger: Logger
    private let metrics: SQSMappingMetrics

    /// Pause after a throttled batch or a failed receive before the poller tries again (real time:
    /// it paces the host, it is not Lambda time).
    static let backoff: Duration = .milliseconds(100)
    /// How often an open batching window re-checks the queue (real time).
    static let windowPoll: Duration = .milliseconds(100)
    /// Lambda's long poll.
    static let longPollSeconds = 20
    /// How often the pollers read the queue's settings and backlog again (real milliseconds).
    static let infoInterval: Int64 = 1_000
    /// Under a virtual clock pollers do not long-poll: each receive returns at once and the poller
    /// parks on the host clock (``PollerActivity``), so an advance can tell when it has handed over
    /// what fell due. New messages are then seen within ``windowPoll``.
    private let settlesWithClock: Bool

    init(
        mapping: EventSourceMapping, function: FunctionConfiguration, consumer: any QueueConsumer,
        invoker: any Invoker, concurrency: (any ConcurrencyControl)?, clock: any HostClock, account: AccountContext,
        metricsFactory: any MetricsFactory, logger: Logger
    ) {
        self.function = function
        self.consumer = consumer
        self.invoker = invoker
        self.concurrency = concurrency
        self.clock = clock
        settlesWithClock = clock is VirtualClock
        self.account = account
        var logger = logger
        logger[metadataKey: "mapping.uuid"] = "\(mapping.uuid)"
        logger[metadataKey: "function.name"] = "\(mapping.functionName)"
        self.logger = logger
        metrics = SQSMappingMetrics(functionName: mapping.functionName, uuid: mapping.uuid, factory: metricsFactory)
        changed = AsyncDispatchLane(functionName: mapping.functionName)
        state = Mutex(State(mapping: mapping, scaling: PollerScaling(ceiling: 1)))
        (spawns, spawner) = AsyncStream.makeStream(of: Void.self)
    }

    /// Ends the mapping (`DeleteEventSourceMapping`): pollers stop after their current step; a
    /// batch that was received but not yet invoked is made visible again.
    func remove() {
        state.withLock { $0.removed = true }
        spawner.finish()
        changed.signal()
    }

    private var isRemoved: Bool { state.withLock { $0.removed } }

    var mapping: EventSourceMapping { state.withLock { $0.mapping } }
    var lastProcessingResult: String { state.withLock { $0.lastProcessingResult } }

    /// Whether the mapping has handed over everything due at `now` on the host clock (``PollerActivity``).
    func isSettled(at now: Int64) -> Bool {
        state.withLock { state in state.removed || !state.mapping.enabled || state.activity.isSettled(at: now) }
    }

    /// Replaces the settings; pollers pick them up on their next cycle.
    func update(_ mapping: EventSourceMapping) {
        state.withLock { $0.mapping = mapping }
        changed.signal()
    }

    /// The concurrent batches allowed now: `MaximumConcurrency` within the function's reserved
    /// concurrency, or the account limit.
    private func ceiling(_ mapping: EventSourceMapping) -> Int {
        let available = concurrency.map { $0.reservedConcurrency(of: mapping.functionName) ?? $0.accountLimit }
        return max(1, min(mapping.concurrencyCeiling, available ?? mapping.concurrencyCeiling))
    }

    func run() async {
        let first = state.withLock { state -> PollerScaling.Action in
            state.scaling.ceiling = ceiling(state.mapping)
            return state.scaling.start()
        }
        if case .startPollers(let count) = first { for _ in 0..<count { spawner.yield() } }
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                // Ends on cancellation; the group then cancels the pollers.
                for await _ in spawns {
                    group.addTask { await self.poll() }
                }
            }
        } onCancel: {
            spawner.finish()
        }
    }

    private func poll() async {
        metrics.pollers.increment()
        let id = state.withLock { $0.activity.join() }
        var batcher: SQSBatcher?
        defer {
            state.withLock { $0.activity.leave(id) }
            metrics.pollers.decrement()
        }
        while !Task.isCancelled {
            state.withLock { $0.activity.wake(id) }
            let mapping = self.mapping
            let arn = mapping.source.arn
            guard mapping.enabled && !isRemoved else {
                // A disabled mapping keeps one poller parked until it changes; nothing is received.
                if let pending = batcher?.pending, !pending.isEmpty {
                    try? await consumer.release(queueARN: arn, receiptHandles: pending.map(\.receiptHandle))
                }
                batcher = nil
                let retire = state.withLock { state -> Bool in
                    if case .retire = state.scaling.on(.receivedEmpty, now: Self.monotonicMilliseconds()) { return true }
                    return false
                }
                if retire { return }
                if isRemoved { break }
                state.withLock { $0.activity.park(id, wakeAt: .max) }
                await changed.wait(until: nil, on: clock, recheckAfter: .seconds(5))
                continue
            }
            if batcher == nil || batcher?.batchSize != mapping.batchSize
                || batcher?.window != Int64(mapping.maximumBatchingWindowInSeconds) * 1000
            {
                batcher = SQSBatcher(batchSize: mapping.batchSize, windowSeconds: mapping.maximumBatchingWindowInSeconds)
            }
            guard var current = batcher else { break }
            do {
                let queue = try await queueInfo(arn)
                let window = mapping.maximumBatchingWindowInSeconds
                // Lambda: when window + timeout exceed the queue's visibility timeout, it hides for window + timeout + 30 s.
                let visibility =
                    window + function.timeout > queue.visibilityTimeout
                    ? window + function.timeout + 30 : queue.visibilityTimeout
                let wanted = current.wanted
                let longPoll = current.pending.isEmpty && !settlesWithClock
                let lookedAt = clock.now()
                let messages = try await consumer.receive(
                    queueARN: arn, maximum: wanted, waitSeconds: longPoll ? Self.longPollSeconds : 0,
                    visibilityTimeout: visibility)
                metrics.received.increment(by: messages.count)
                if isRemoved || !self.mapping.enabled {
                    // Disabled or deleted during the long poll: what it brought goes back.
                    try? await consumer.release(queueARN: arn, receiptHandles: messages.map(\.receiptHandle))
                    continue
                }
                let scale = state.withLock { state -> PollerScaling.Action in
                    state.scaling.ceiling = ceiling(state.mapping)
                    if messages.count == wanted { return state.scaling.on(.receivedFull, now: Self.monotonicMilliseconds()) }
                    if messages.isEmpty && current.pending.isEmpty { return state.scaling.on(.receivedEmpty, now: Self.monotonicMilliseconds()) }
                    return .none
                }
                switch scale {
                case .startPollers(let count): for _ in 0..<count { spawner.yield() }
                case .retire: return
                case .none: break
                }
                let kept = messages.filter {
                    SQSEvent.passes($0, filters: mapping.filters, queueARN: arn, region: AWSARN.region(of: arn) ?? account.region)
                }
                if kept.count < messages.count {
                    let dropped = messages.filter { message in !kept.contains { $0.messageID == message.messageID } }
                    // Lambda deletes what no filter matches.
                    try await consumer.delete(queueARN: arn, receiptHandles: dropped.map(\.receiptHandle))
                    metrics.filtered.increment(by: dropped.count)
                }
                current.add(kept, now: clock.now())
                if !current.isReady(now: clock.now()) {
                    batcher = current
                    if messages.isEmpty && settlesWithClock {
                        // Nothing due yet: park until the window closes or a hidden message returns on the host
                        // clock (an advance wakes it), looking again every windowPoll for new messages.
                        let returns = try await consumer.consumerInfo(queueARN: arn).nextVisibleAt
                        // The clock moved since the receive: what returned in between is not in `returns`; look again.
                        guard clock.now() == lookedAt else { continue }
                        let wakeAt = [current.deadline, returns].compactMap { $0 }.min()
                        state.withLock { $0.activity.park(id, wakeAt: wakeAt ?? .max) }
                        await waitForWindow(until: wakeAt)
                    } else if messages.isEmpty, let deadline = current.deadline {
                        await waitForWindow(until: deadline)
                    }
                    continue
                }
                let batch = current.take(now: clock.now())
                batcher = current
                await process(batch, mapping: mapping, queue: queue)
            } catch {
                guard !Task.isCancelled else { break }
                logger.error("event source mapping could not read its queue", metadata: ["error": "\(error)"])
                state.withLock { $0.lastProcessingResult = "PROBLEM: \(error)" }
                try? await Task.sleep(for: Self.backoff)
            }
        }
        state.withLock { $0.scaling.stopped() }
    }

    /// The queue's settings and backlog, read again at most every ``infoInterval`` by whichever
    /// poller finds them old (the backlog is a gauge; counting it reads the queue's index).
    private func queueInfo(_ arn: String) async throws -> ConsumedQueueInfo {
        let now = Self.monotonicMilliseconds()
        if let cached = state.withLock({ $0.info }), now - cached.readAt < Self.infoInterval { return cached.value }
        let info = try await consumer.consumerInfo(queueARN: arn)
        state.withLock { $0.info = (info, now) }
        metrics.backlog.record(info.backlog)
        return info
    }

    /// Real monotonic milliseconds, for ``PollerScaling``'s pacing.
    static func monotonicMilliseconds() -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    }

    private static let start = ContinuousClock.now

    /// Returns when the host clock reaches `deadline` or after ``windowPoll`` of real time (to look for more messages).
    private func waitForWindow(until deadline: Int64?) async {
        await withTaskGroup(of: Void.self) { group in
            if let deadline { group.addTask { try? await self.clock.sleep(until: deadline) } }
            group.addTask { try? await Task.sleep(for: Self.windowPoll) }
            await group.next()
            group.cancelAll()
        }
    }

    private func process(_ batch: [ConsumedMessage], mapping: EventSourceMapping, queue: ConsumedQueueInfo) async {
        guard !batch.isEmpty else { return }
        let arn = mapping.source.arn
        let request = InvocationRequest(
            requestID: InvocationIdentifiers.requestID(),
            payload: ByteBuffer(string: SQSEvent.json(batch, queueARN: arn, region: AWSARN.region(of: arn) ?? account.region)),
            invokedFunctionARN: account.functionARN(mapping.functionName), traceID: InvocationIdentifiers.traceHeader())
        var metadata: Logger.Metadata = ["invocation.id": "\(request.requestID)", "batch.size": "\(batch.count)"]
        let result: InvocationResult
        do {
            result = try await invoker.invoke(function, request, admission: .rejectWhenFull)
        } catch let error as InvokeError where error.throttleReason != nil {
            metrics.throttled.increment()
            logger.debug("event source mapping batch throttled, returned to the queue", metadata: metadata)
            state.withLock { $0.lastProcessingResult = "PROBLEM: Function call was throttled" }
            try? await consumer.release(queueARN: arn, receiptHandles: batch.map(\.receiptHandle))
            try? await Task.sleep(for: Self.backoff)
            return
        } catch {
            // Not an attempt (the host is stopping, or no worker could start): the batch reappears
            // after its visibility timeout.
            guard !Task.isCancelled else { return }
            metadata["error"] = "\(error)"
            logger.info("event source mapping batch could not run", metadata: metadata)
            state.withLock { $0.lastProcessingResult = "PROBLEM: Function call failed" }
            return
        }
        metrics.batches.increment()
        let outcome = SQSBatchOutcome.decide(
            functionError: result.functionError, payload: Data(result.payload.readableBytesView),
            messageIDs: batch.map(\.messageID), reportBatchItemFailures: mapping.reportBatchItemFailures)
        let kept: [ConsumedMessage]
        switch outcome {
        case .succeeded:
            kept = []
            logger.debug("event source mapping batch succeeded", metadata: metadata)
            state.withLock { $0.lastProcessingResult = "OK" }
        case .partiallyFailed(let ids):
            kept = batch.filter { ids.contains($0.messageID) }
            metadata["batch.failed"] = "\(kept.count)"
            logger.info("event source mapping batch partially failed", metadata: metadata)
            state.withLock { $0.lastProcessingResult = "OK" }
        case .failed(let reason):
            kept = batch
            metrics.failedBatches.increment()
            metadata["reason"] = "\(reason)"
            logger.info("event source mapping batch failed", metadata: metadata)
            state.withLock { $0.lastProcessingResult = "PROBLEM: Function call failed" }
        }
        let keptIDs = Set(kept.map(\.messageID))
        let done = batch.filter { !keptIDs.contains($0.messageID) }
        do {
            try await consumer.delete(queueARN: arn, receiptHandles: done.map(\.receiptHandle))
        } catch {
            // The messages reappear and run again: at least once, as on Lambda.
            logger.error("event source mapping could not delete a batch", metadata: ["error": "\(error)"])
        }
        metrics.retried.increment(by: kept.count)
        if let limit = queue.maxReceiveCount {
            // These have used their last receive: the queue moves them to its dead-letter queue next.
            let exhausted = kept.filter { Int($0.systemAttributes["ApproximateReceiveCount"] ?? "") ?? 0 >= limit }
            metrics.redriveBound.increment(by: exhausted.count)
        }
    }
}
