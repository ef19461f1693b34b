import Foundation
import FunctionHostCore
import Logging
import Metrics
import NIOCore
import Synchronization

/// Runs one stream event-source mapping: per shard, a reader through a ``StreamReader`` and a loop
/// per `ParallelizationFactor` lane; ``ParallelShardEngine`` (lanes of ``StreamShardEngine``)
/// decides batches, retries, bisects, discards and the shard checkpoint, the runner invokes the function
/// synchronously within the concurrency ledger, sends discarded batches' records to the OnFailure
/// queue, and commits each checkpoint, with the shard's tumbling windows, before the shard moves
/// on. Which shards run here and where checkpoints live is the ``ShardOwnership``'s: all of them in
/// the state database (``StreamCheckpoints``), or those this host holds leases on in a table shared
/// with other hosts. Each lane loop reports when it works and when it parks on the host clock
/// (``PollerActivity``), so a virtual clock's advance waits until what fell due (a batching or
/// tumbling window closing, a retry) was invoked and checkpointed.
///
/// Every decision is in the engine; this class only executes. Thread-safe; ``run()`` returns when
/// its task is cancelled.
final class StreamMappingRunner: MappingRunner {
    private struct State {
        var mapping: EventSourceMapping
        var lastProcessingResult = "No records processed"
        var removed = false
        /// Which lane loops are busy and when parked ones wake (what a virtual clock's advance waits for).
        var activity = PollerActivity()
    }

    private let state: Mutex<State>
    private let reader: any StreamReader
    private let ownership: any ShardOwnership
    private let invoker: any Invoker
    private let function: FunctionConfiguration
    private let queueSender: (any QueueSender)?
    private let clock: any HostClock
    private let account: AccountContext
    private let logger: Logger
    private let metrics: StreamMappingMetrics

    /// Pause when a shard has nothing new, after a throttled batch, or after a failed read (real
    /// time: it paces the host, it is not Lambda time).
    static let idlePoll: Duration = .milliseconds(100)

    init(
        mapping: EventSourceMapping, function: FunctionConfiguration, reader: any StreamReader,
        ownership: any ShardOwnership, invoker: any Invoker, queueSender: (any QueueSender)?, clock: any HostClock,
        account: AccountContext, metricsFactory: any MetricsFactory, logger: Logger
    ) {
        self.function = function
        self.reader = reader
        self.ownership = ownership
        self.invoker = invoker
        self.queueSender = queueSender
        self.clock = clock
        self.account = account
        var logger = logger
        logger[metadataKey: "mapping.uuid"] = "\(mapping.uuid)"
        logger[metadataKey: "function.name"] = "\(mapping.functionName)"
        self.logger = logger
        metrics = StreamMappingMetrics(functionName: mapping.functionName, uuid: mapping.uuid, factory: metricsFactory)
        state = Mutex(State(mapping: mapping))
    }

    var mapping: EventSourceMapping { state.withLock { $0.mapping } }
    var lastProcessingResult: String { state.withLock { $0.lastProcessingResult } }
    private var isRemoved: Bool { state.withLock { $0.removed } }

    func update(_ mapping: EventSourceMapping) { state.withLock { $0.mapping = mapping } }
    func remove() { state.withLock { $0.removed = true } }

    /// Whether every lane has invoked and checkpointed what fell due at `now` on the host clock (``PollerActivity``).
    func isSettled(at now: Int64) -> Bool {
        state.withLock { state in state.removed || !state.mapping.enabled || state.activity.isSettled(at: now) }
    }

    private func note(_ result: String) { state.withLock { $0.lastProcessingResult = result } }

    func run() async {
        let arn = mapping.source.arn
        await ownership.run(while: { !self.isRemoved }, report: { self.note($0) }) { shard, saved in
            await self.runShard(
                shard, streamARN: arn, from: await self.start(shard, saved: saved, streamARN: arn), windows: saved?.windows ?? [:])
        }
    }

    /// Where a shard starts: after its checkpoint; at the time a `LATEST` shard first started; else
    /// at the mapping's starting position (an embedded `LATEST` shard is marked with the time now,
    /// so a restart before its first record skips nothing).
    private func start(_ shardID: String, saved: StreamCheckpoints.Saved?, streamARN: String) async -> StreamStart {
        let mapping = self.mapping
        if let saved {
            return saved.sequenceNumber.isEmpty ? .atTimestamp(saved.updatedAt) : .afterSequenceNumber(saved.sequenceNumber)
        }
        guard case .latest? = mapping.stream?.startingPosition, case .kinesis = mapping.source, !mapping.external else {
            return Self.start(nil, mapping.stream)
        }
        let now = clock.now()
        do {
            try await ownership.markStart(shardID: shardID, now: now)
        } catch {
            logger.error("stream event source mapping could not save its start", metadata: ["error": "\(error)"])
        }
        return .atTimestamp(now)
    }

    /// One shard until cancelled or removed: a reader that keeps the lanes supplied, and one loop
    /// per lane (`ParallelizationFactor`) that invokes its batches in order.
    private func runShard(
        _ shardID: String, streamARN: String, from start: StreamStart, windows: [Int: StreamShardEngine.TumblingWindow]
    ) async {
        let mapping = self.mapping
        let lanes = max(1, mapping.stream?.parallelizationFactor ?? 1)
        var engine = ParallelShardEngine(policy: .init(mapping), factor: lanes)
        engine.restore(windows: windows)
        let shard = ShardLanes(engine)
        let reader = AsyncDispatchLane(functionName: mapping.functionName)
        let bells = (0..<lanes).map { _ in AsyncDispatchLane(functionName: mapping.functionName) }
        let ids = state.withLock { state in (0..<lanes).map { _ in state.activity.join() } }
        await withDiscardingTaskGroup { group in
            group.addTask {
                await self.read(
                    shardID, streamARN: streamARN, from: start, into: shard, bell: reader, lanes: bells, activities: ids)
            }
            for lane in 0..<lanes {
                group.addTask {
                    defer { self.state.withLock { $0.activity.leave(ids[lane]) } }
                    await self.runLane(
                        lane, activity: ids[lane], shardID: shardID, streamARN: streamARN, shard: shard, bell: bells[lane],
                        reader: reader)
                }
            }
        }
    }

    /// Reads the shard while its lanes want records; wakes the lanes after each page (marking them
    /// busy before the records are theirs, so an advance sees them as due).
    private func read(
        _ shardID: String, streamARN: String, from start: StreamStart, into shard: ShardLanes,
        bell: AsyncDispatchLane, lanes: [AsyncDispatchLane], activities: [Int]
    ) async {
        var iterator: String?
        /// The last sequence number read: where a new iterator resumes.
        var lastRead: String?
        while !Task.isCancelled && !isRemoved {
            let mapping = self.mapping
            guard mapping.enabled, shard.withLock({ $0.wantsRecords }) else {
                await bell.wait(until: nil, on: clock, recheckAfter: Self.idlePoll)
                continue
            }
            do {
                if iterator == nil {
                    iterator = try await reader.iterator(
                        streamARN: streamARN, shardID: shardID, from: lastRead.map { .afterSequenceNumber($0) } ?? start)
                }
                guard let current = iterator else { return }  // the shard is closed and read to its end
                let page = try await reader.read(streamARN: streamARN, iterator: current, limit: min(mapping.batchSize, 10_000))
                iterator = page.nextIterator
                guard let last = page.records.last else {
                    await bell.wait(until: nil, on: clock, recheckAfter: Self.idlePoll)
                    continue
                }
                lastRead = last.sequenceNumber
                metrics.received.increment(by: page.records.count)
                let filteredOut = Set(
                    page.records.filter { !passes($0, mapping: mapping, streamARN: streamARN) }
                        .map(\.sequenceNumber))
                metrics.filtered.increment(by: filteredOut.count)
                let now = clock.now()
                let done = shard.withLock { shard in
                    shard.policy = .init(mapping)
                    let done = shard.received(page.records, filteredOut: filteredOut, now: now)
                    state.withLock { state in for id in activities { state.activity.wake(id) } }
                    return done
                }
                // Filtered-out records at the front: the checkpoint moves past them without an invocation.
                for action in done { _ = await execute(action, lane: 0, shard: shard, shardID: shardID, streamARN: streamARN) }
                for lane in lanes { lane.signal() }
            } catch {
                // An expired or stale iterator, or a stream that went away: start again from what was read.
                guard !Task.isCancelled else { return }
                iterator = nil
                logger.debug("stream event source mapping read failed", metadata: ["error": "\(error)", "shard.id": "\(shardID)"])
                try? await Task.sleep(for: Self.idlePoll)
            }
        }
    }

    /// One lane of a shard: its batches strictly in order. It parks (``PollerActivity``) under the
    /// shard's lock in the same step that found nothing due, with the host-clock time it wakes at.
    private func runLane(
        _ lane: Int, activity id: Int, shardID: String, streamARN: String, shard: ShardLanes, bell: AsyncDispatchLane,
        reader: AsyncDispatchLane
    ) async {
        while !Task.isCancelled && !isRemoved {
            state.withLock { $0.activity.wake(id) }
            guard mapping.enabled else {
                state.withLock { $0.activity.park(id, wakeAt: .max) }
                await bell.wait(until: nil, on: clock, recheckAfter: Self.idlePoll)
                continue
            }
            let now = clock.now()
            let (next, deadline) = shard.withLock { shard -> ([StreamShardEngine.Action], Int64?) in
                let actions = shard.next(lane: lane, now: now)
                guard actions.isEmpty else { return (actions, nil) }
                let deadline = shard.windowDeadline(lane: lane)
                state.withLock { $0.activity.park(id, wakeAt: deadline ?? .max) }
                return (actions, deadline)
            }
            var actions = next
            if actions.isEmpty {
                await bell.wait(until: deadline, on: clock, recheckAfter: Self.idlePoll)
                continue
            }
            reader.signal()  // a batch left the buffer: room to read
            while !actions.isEmpty {
                let action = actions.removeFirst()
                // `nil`: the shard's lease is lost; stop before another batch.
                guard let next = await execute(action, lane: lane, shard: shard, shardID: shardID, streamARN: streamARN)
                else { return }
                actions += next
            }
        }
    }

    /// Whether a record passes the mapping's `FilterCriteria` (``KinesisEvent``'s or ``DynamoDBEvent``'s view of it).
    private func passes(_ record: StreamReadRecord, mapping: EventSourceMapping, streamARN: String) -> Bool {
        guard !mapping.filters.isEmpty else { return true }
        if Self.isDynamoDB(mapping) { return DynamoDBEvent.passes(record, filters: mapping.filters, streamARN: streamARN) }
        return KinesisEvent.passes(record, filters: mapping.filters)
    }

    /// The execution role Lambda names in a Kinesis record's `invokeIdentityArn`.
    private func roleARN(_ mapping: EventSourceMapping) -> String {
        "arn:aws:iam::\(account.accountID):role/\(mapping.functionName)-role"
    }

    static func isDynamoDB(_ mapping: EventSourceMapping) -> Bool {
        if case .dynamoDBStream = mapping.source { return true }
        return false
    }

    /// Where a shard's iterator starts: after what was read, else the mapping's starting position.
    static func start(_ lastRead: String?, _ settings: StreamMappingSettings?) -> StreamStart {
        if let lastRead { return .afterSequenceNumber(lastRead) }
        switch settings?.startingPosition ?? .latest {
        case .trimHorizon: return .trimHorizon
        case .latest: return .latest
        case .atTimestamp(let time): return .atTimestamp(time)
        }
    }

    /// Carries out one action of a lane; returns the actions that follow from it (an invocation's
    /// outcome), or `nil` when a checkpoint found the shard is no longer this host's.
    private func execute(
        _ action: StreamShardEngine.Action, lane: Int, shard: ShardLanes, shardID: String,
        streamARN: String
    ) async -> [StreamShardEngine.Action]? {
        let mapping = self.mapping
        switch action {
        case .invoke(let records, let attempt):
            let (outcome, state) = await invoke(
                records, attempt: attempt, window: shard.withLock { $0.window(lane: lane) }, mapping: mapping,
                shardID: shardID, streamARN: streamARN)
            if outcome == .notInvoked { try? await Task.sleep(for: Self.idlePoll) }
            let now = clock.now()
            return shard.withLock { shard in
                if let state { shard.windowStateReturned(lane: lane, state) }
                return shard.completed(lane: lane, outcome, now: now)
            }
        case .checkpoint(let sequenceNumber):
            do {
                guard
                    try await ownership.save(
                        shardID: shardID, sequenceNumber: sequenceNumber,
                        windows: shard.withLock { $0.policy.tumblingWindowMilliseconds > 0 ? $0.windows : nil }, now: clock.now())
                else { return nil }
            } catch {
                // The records run again after a restart: at least once, as on Lambda.
                logger.error("stream event source mapping could not save its checkpoint", metadata: ["error": "\(error)"])
            }
            return []
        case .discard(let records, let condition, let invokeCount, let functionError):
            metrics.discarded.increment(by: records.count)
            var metadata: Logger.Metadata = [
                "shard.id": "\(shardID)", "records": "\(records.count)", "condition": "\(condition.rawValue)",
            ]
            guard let destination = mapping.stream?.onFailureDestination, let queueSender else {
                logger.info("stream event source mapping skipped records", metadata: metadata)
                return []
            }
            let record = KinesisEvent.failureRecord(
                records, condition: condition, invokeCount: invokeCount, functionError: functionError,
                functionARN: account.functionARN(mapping.functionName), shardID: shardID, streamARN: streamARN,
                now: clock.now(), dynamoDB: Self.isDynamoDB(mapping))
            do {
                try await queueSender.send(toQueueARN: destination, body: record, attributes: [:])
            } catch {
                metadata["error"] = "\(error)"
                logger.error("stream event source mapping could not send to its OnFailure destination", metadata: metadata)
            }
            return []
        case .windowClosed:
            do {
                try await ownership.saveWindows(shardID: shardID, windows: shard.withLock { $0.windows })
            } catch {
                // The closed window is closed again after a restart: at least once.
                logger.error("stream event source mapping could not save its windows", metadata: ["error": "\(error)"])
            }
            return []
        case .bisected:
            metrics.bisected.increment()
            return []
        case .retry:
            metrics.retried.increment()
            return []
        }
    }

    /// Invokes the function with one batch; returns how it ended and, for a tumbling window, the state it returned.
    private func invoke(
        _ records: [StreamReadRecord], attempt: Int, window: StreamShardEngine.TumblingWindow?,
        mapping: EventSourceMapping, shardID: String, streamARN: String
    ) async -> (StreamShardEngine.Outcome, String?) {
        let event =
            Self.isDynamoDB(mapping)
            ? DynamoDBEvent.json(records, shardID: shardID, streamARN: streamARN, window: window)
            : KinesisEvent.json(
                records, shardID: shardID, streamARN: streamARN, region: AWSARN.region(of: streamARN) ?? account.region,
                roleARN: roleARN(mapping), window: window)
        let request = InvocationRequest(
            requestID: InvocationIdentifiers.requestID(), payload: ByteBuffer(string: event),
            invokedFunctionARN: account.functionARN(mapping.functionName), traceID: InvocationIdentifiers.traceHeader())
        var metadata: Logger.Metadata = [
            "invocation.id": "\(request.requestID)", "batch.size": "\(records.count)", "shard.id": "\(shardID)",
            "attempt": "\(attempt)",
        ]
        // Lambda's IteratorAge: how old the batch's last record is as the batch goes to the function.
        if let last = records.last { metrics.iteratorAge.record(max(0, clock.now() - last.arrivedAt)) }
        let result: InvocationResult
        do {
            result = try await invoker.invoke(function, request, admission: .rejectWhenFull)
        } catch {
            // Throttled, or no worker could start, or the host is stopping: not an attempt; the batch waits.
            metadata["error"] = "\(error)"
            logger.debug("stream event source mapping batch did not run", metadata: metadata)
            note("PROBLEM: Function call was throttled")
            return (.notInvoked, nil)
        }
        metrics.batches.increment()
        let payload = Data(result.payload.readableBytesView)
        var state: String?
        var decision = SQSBatchOutcome.decide(
            functionError: result.functionError, payload: payload, messageIDs: records.map(\.sequenceNumber),
            reportBatchItemFailures: mapping.reportBatchItemFailures)
        if window != nil, result.functionError == nil {
            state = KinesisEvent.windowState(from: payload)
            if state == nil { decision = .failed(reason: "a tumbling window's response has no state object") }
        }
        switch decision {
        case .succeeded:
            note("OK")
            metrics.delivered.increment(by: records.count)
            return (.succeeded, state)
        case .partiallyFailed(let failed):
            note("OK")
            guard let lowest = failed.min(by: StreamReadRecord.precedes) else { return (.succeeded, state) }
            metrics.delivered.increment(by: records.prefix { $0.sequenceNumber != lowest }.count)
            return (.failedFrom(lowest), state)
        case .failed(let reason):
            metrics.failedBatches.increment()
            metadata["reason"] = "\(reason)"
            logger.info("stream event source mapping batch failed", metadata: metadata)
            note("PROBLEM: Function call failed")
            return (.failed(functionError: result.functionError ?? "PartialBatchResponse"), nil)
        }
    }
}
