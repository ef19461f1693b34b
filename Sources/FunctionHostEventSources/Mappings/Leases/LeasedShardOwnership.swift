import FunctionHostCore
import Logging
import Synchronization

/// The shards of an external stream that this host holds leases on, with their checkpoints in the
/// lease table: the executor of ``ShardLeaseBalancer``. One loop per mapping renews, reads the
/// table and takes leases every renewal interval; each held shard runs in a task of its own that is
/// cancelled when the lease is lost, and a checkpoint write that finds another owner stops it too.
///
/// When the mapping stops (host shutdown, mapping deleted) its leases are handed back after the
/// shard loops have ended. The table is created on first use. When it cannot be reached nothing
/// is processed (holding no lease, this host cannot know a shard is not another host's) and
/// `report` says why.
/// Thread-safe.
final class LeasedShardOwnership: ShardOwnership {
    let leasing: ShardLeasing
    let table: String
    let streamARN: String
    let reader: any StreamReader
    private let logger: Logger
    private let balancer: Mutex<ShardLeaseBalancer>
    /// Ends a held shard's task.
    private let stops = Mutex<[String: AsyncStream<Never>.Continuation]>([:])

    init(leasing: ShardLeasing, functionName: String, streamARN: String, reader: any StreamReader, logger: Logger) {
        self.leasing = leasing
        self.streamARN = streamARN
        self.reader = reader
        table = leasing.tableName(functionName: functionName, sourceARN: streamARN)
        var logger = logger
        logger[metadataKey: "lease.table"] = "\(table)"
        logger[metadataKey: "function.name"] = "\(functionName)"
        self.logger = logger
        balancer = Mutex(ShardLeaseBalancer(owner: leasing.owner, leaseDuration: leasing.leaseDuration))
    }

    private var clock: any HostClock { leasing.clock }

    func run(
        while active: @escaping @Sendable () -> Bool, report: @escaping @Sendable (String) -> Void,
        process: @escaping @Sendable (String, StreamCheckpoints.Saved?) async -> Void
    ) async {
        let interval = balancer.withLock { $0.renewInterval }
        while !Task.isCancelled && active() {
            do {
                try await leasing.store.prepare(table: table)
                break
            } catch {
                logger.error(
                    "stream event source mapping could not prepare its lease table", metadata: ["error": "\(error)"])
                report("PROBLEM: lease table \(table): \(error)")
                try? await clock.sleep(milliseconds: max(interval, 1000))
            }
        }
        var closing: [String] = []
        await withDiscardingTaskGroup { group in
            var shards: [String] = []
            var shardsReadAt: Int64?
            var rescanned = false
            while !Task.isCancelled && active() {
                await perform(balancer.withLock { $0.tick(now: clock.now()) }, in: &group, process: process)
                do {
                    let now = clock.now()
                    if shards.isEmpty || shardsReadAt.map({ now - $0 >= leasing.leaseDuration }) ?? true {
                        shards = try await reader.shardIDs(streamARN: streamARN)
                        shardsReadAt = now
                    }
                    let leases = try await leasing.store.leases(table: table)
                    let actions = balancer.withLock { $0.scanned(leases, shards: shards, now: clock.now()) }
                    await perform(actions, in: &group, process: process)
                    // New shards got their leases: take them now rather than a renewal interval later (once).
                    let created = actions.contains { if case .create = $0 { true } else { false } }
                    if created && !rescanned {
                        rescanned = true
                        continue
                    }
                    rescanned = false
                } catch {
                    logger.warning(
                        "stream event source mapping could not read its shards or leases", metadata: ["error": "\(error)"])
                    report("PROBLEM: lease table \(table): \(error)")
                }
                try? await clock.sleep(milliseconds: interval)
            }
            closing = balancer.withLock { $0.shutdown() }
            for continuation in stops.withLock({ $0.values }) { continuation.finish() }
        }
        await release(closing)
    }

    /// Hands leases back once their shards' loops have ended (their last checkpoints written), so
    /// other hosts take them at once rather than after they expire. At shutdown this task is
    /// cancelled, which would cancel the calls before they are sent, so they run in a task of their
    /// own that this one awaits (each call bounded by the store's timeout).
    private func release(_ shards: [String]) async {
        guard !shards.isEmpty else { return }
        await Task {
            for shardID in shards { await self.handBack(shardID) }
        }.value
    }

    private func handBack(_ shardID: String) async {
        do {
            _ = try await leasing.store.release(table: table, shardID: shardID, owner: leasing.owner)
        } catch {
            logger.warning(
                "stream event source mapping could not hand back a shard lease",
                metadata: ["error": "\(error)", "shard.id": "\(shardID)"])
        }
    }

    /// Carries out the balancer's actions, and those that follow from their outcomes.
    private func perform(
        _ actions: [ShardLeaseBalancer.Action], in group: inout DiscardingTaskGroup,
        process: @escaping @Sendable (String, StreamCheckpoints.Saved?) async -> Void
    ) async {
        var actions = actions
        while !actions.isEmpty {
            let action = actions.removeFirst()
            let sentAt = clock.now()
            do {
                switch action {
                case .create(let shardID):
                    _ = try await leasing.store.create(table: table, shardID: shardID)
                case .take(let shardID, let expectedCounter):
                    if let lease = try await leasing.store.take(
                        table: table, shardID: shardID, expectedCounter: expectedCounter, owner: leasing.owner)
                    {
                        logger.info(
                            "stream event source mapping took a shard lease", metadata: ["shard.id": "\(shardID)"])
                        actions += balancer.withLock { $0.taken(lease, sentAt: sentAt) }
                    }
                case .renew(let shardID, let counter):
                    if try await leasing.store.renew(
                        table: table, shardID: shardID, counter: counter, owner: leasing.owner)
                    {
                        balancer.withLock { $0.renewed(shardID, counter: counter + 1, sentAt: sentAt) }
                    } else {
                        actions += balancer.withLock { $0.lost(shardID) }
                    }
                case .start(let shardID, let checkpoint, let windowState):
                    start(shardID, checkpoint: checkpoint, windowState: windowState, in: &group, process: process)
                case .stop(let shardID):
                    logger.info("stream event source mapping lost a shard lease", metadata: ["shard.id": "\(shardID)"])
                    stops.withLock { $0[shardID] }?.finish()
                }
            } catch {
                // The next cycle reads the table again; a lease not renewed in time is given up by `tick`.
                logger.warning(
                    "stream event source mapping lease write failed",
                    metadata: ["error": "\(error)", "action": "\(action)"])
            }
        }
    }

    /// Runs a shard until its lease is lost (or the mapping ends), then lets it be taken again.
    private func start(
        _ shardID: String, checkpoint: String?, windowState: String?, in group: inout DiscardingTaskGroup,
        process: @escaping @Sendable (String, StreamCheckpoints.Saved?) async -> Void
    ) {
        let (stopped, stop) = AsyncStream<Never>.makeStream()
        stops.withLock { $0[shardID] = stop }
        let windows = windowState.map(StreamShardEngine.TumblingWindow.decode) ?? [:]
        let saved = checkpoint.map { StreamCheckpoints.Saved(sequenceNumber: $0, updatedAt: 0, windows: windows) }
        group.addTask {
            await withTaskGroup(of: Void.self) { race in
                race.addTask { await process(shardID, saved) }
                race.addTask { for await _ in stopped {} }
                await race.next()
                race.cancelAll()
            }
            self.stops.withLock { _ = $0.removeValue(forKey: shardID) }
            self.balancer.withLock { balancer in
                _ = balancer.lost(shardID)
                balancer.stopped(shardID)
            }
        }
    }

    func saveWindows(shardID: String, windows: [Int: StreamShardEngine.TumblingWindow]) async throws {
        _ = try await leasing.store.saveWindowState(
            table: table, shardID: shardID, windowState: StreamShardEngine.TumblingWindow.encode(windows), owner: leasing.owner)
    }

    /// External streams start at the mapping's position when they have no checkpoint, as KCL's
    /// consumers do; nothing is marked.
    func markStart(shardID: String, now: Int64) async throws {}

    func save(shardID: String, sequenceNumber: String, windows: [Int: StreamShardEngine.TumblingWindow]?, now: Int64)
        async throws -> Bool
    {
        do {
            if try await leasing.store.checkpoint(
                table: table, shardID: shardID, sequenceNumber: sequenceNumber,
                windowState: windows.map(StreamShardEngine.TumblingWindow.encode), owner: leasing.owner)
            {
                return true
            }
        } catch  where Task.isCancelled {
            // The shard is being stopped (its lease was lost, or the host stops): not a failure to report.
            return false
        }
        if balancer.withLock({ $0.lost(shardID) }).isEmpty == false {
            logger.info(
                "stream event source mapping lost a shard lease at a checkpoint", metadata: ["shard.id": "\(shardID)"])
            stops.withLock { $0[shardID] }?.finish()
        }
        return false
    }
}
