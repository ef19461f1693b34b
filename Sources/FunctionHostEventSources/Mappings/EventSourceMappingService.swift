import FunctionHostCore
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The host's event-source mappings: one runner per mapping (``SQSMappingRunner`` for queues,
/// ``StreamMappingRunner`` for streams), started with the host and added, changed or removed at run time
/// through ``EventSourceMappingControl`` (the mapping API).
///
/// List it after the supervisor in the service group, so it stops first: pollers end before
/// workers do, and a batch cut short reappears after its visibility timeout. Thread-safe.
public final class EventSourceMappingService: Service, Sendable {
    let runners = Mutex<[String: any MappingRunner]>([:])
    /// Order of creation, for listing.
    private let order = Mutex<[String]>([])
    private let started: AsyncStream<any MappingRunner>
    private let starter: AsyncStream<any MappingRunner>.Continuation
    private let catalog: FunctionCatalog
    private let consumer: any QueueConsumer
    private let streams: StreamSources?
    private let invoker: any Invoker
    private let concurrency: (any ConcurrencyControl)?
    private let clock: any HostClock
    private let account: AccountContext
    private let metricsFactory: any MetricsFactory
    private let logger: Logger

    /// - Parameter mappings: the template's mappings, already validated; started by ``run()``.
    public init(
        mappings: [EventSourceMapping], catalog: FunctionCatalog, consumer: any QueueConsumer, invoker: any Invoker,
        concurrency: (any ConcurrencyControl)?, clock: any HostClock, account: AccountContext,
        metricsFactory: (any MetricsFactory)? = nil, streams: StreamSources? = nil, logger: Logger
    ) {
        self.catalog = catalog
        self.consumer = consumer
        self.streams = streams
        self.invoker = invoker
        self.concurrency = concurrency
        self.clock = clock
        self.account = account
        self.metricsFactory = metricsFactory ?? MetricsSystem.factory
        self.logger = logger
        (started, starter) = AsyncStream.makeStream(of: (any MappingRunner).self)
        for mapping in mappings { _ = add(mapping) }
    }

    /// Creates and queues the runner of `mapping`; `nil` when its function is not served or its
    /// source has no adapter (an external source without credentials).
    private func add(_ mapping: EventSourceMapping) -> (any MappingRunner)? {
        guard let function = catalog.entry(named: mapping.functionName)?.configuration else { return nil }
        let runner: any MappingRunner
        switch mapping.source {
        case .sqs:
            guard let queues = mapping.external ? streams?.externalQueues : consumer else { return nil }
            runner = SQSMappingRunner(
                mapping: mapping, function: function, consumer: queues, invoker: invoker, concurrency: concurrency,
                clock: clock, account: account, metricsFactory: metricsFactory, logger: logger)
        case .kinesis, .dynamoDBStream:
            guard let streams else { return nil }
            let chosen: (any StreamReader)?
            switch mapping.source {
            case .dynamoDBStream: chosen = streams.dynamoDBStreams
            default: chosen = mapping.external ? streams.externalKinesis : streams.reader
            }
            guard let reader = chosen else { return nil }
            let ownership: any ShardOwnership =
                if mapping.external, let leasing = streams.leasing {
                    LeasedShardOwnership(
                        leasing: leasing, functionName: mapping.functionName, streamARN: mapping.source.arn,
                        reader: reader, logger: logger)
                } else {
                    LocalShardOwnership(
                        mappingUUID: mapping.uuid, streamARN: mapping.source.arn, reader: reader,
                        checkpoints: streams.checkpoints, logger: logger)
                }
            runner = StreamMappingRunner(
                mapping: mapping, function: function, reader: reader, ownership: ownership,
                invoker: invoker, queueSender: streams.failureSender, clock: clock, account: account,
                metricsFactory: metricsFactory, logger: logger)
        }
        runners.withLock { $0[mapping.uuid] = runner }
        order.withLock { $0.append(mapping.uuid) }
        starter.yield(runner)
        return runner
    }

    /// Runs every mapping until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    for await runner in self.started {
                        group.addTask { await runner.run() }
                    }
                }
            } onCancel: {
                self.starter.finish()
            }
        }
    }

    // MARK: Control

    func status(_ runner: any MappingRunner) -> EventSourceMappingStatus {
        let mapping = runner.mapping
        return EventSourceMappingStatus(
            mapping: mapping, state: mapping.enabled ? "Enabled" : "Disabled",
            lastProcessingResult: runner.lastProcessingResult, stateTransitionReason: "USER_INITIATED")
    }
}

extension EventSourceMappingService: EventSourceMappingControl {
    public func list() -> [EventSourceMappingStatus] {
        let uuids = order.withLock { $0 }
        let runners = self.runners.withLock { $0 }
        return uuids.compactMap { runners[$0].map(status) }
    }

    public func get(uuid: String) -> EventSourceMappingStatus? {
        runners.withLock { $0[uuid] }.map(status)
    }

    public func create(_ mapping: EventSourceMapping) -> EventSourceMappingStatus? {
        add(mapping).map(status)
    }

    public func update(uuid: String, to mapping: EventSourceMapping) -> EventSourceMappingStatus? {
        guard let runner = runners.withLock({ $0[uuid] }) else { return nil }
        runner.update(mapping)
        return status(runner)
    }

    public func delete(uuid: String) -> EventSourceMappingStatus? {
        guard let runner = runners.withLock({ $0.removeValue(forKey: uuid) }) else { return nil }
        order.withLock { $0.removeAll { $0 == uuid } }
        runner.remove()
        var status = status(runner)
        status.state = "Deleting"
        return status
    }
}
