import FunctionHostCore

/// One shard of a stream mapping with `ParallelizationFactor` lanes (spec 3.3): records are
/// split by partition key over the lanes, each lane a ``StreamShardEngine`` that keeps its keys in
/// order, and the shard's checkpoint only moves past a record once every record before it, in any
/// lane, is done. With one lane it is exactly the shard engine.
///
/// A pure value: lane actions come out with their lane checkpoints turned into shard checkpoints.
public struct ParallelShardEngine: Sendable, Hashable {
    public private(set) var lanes: [StreamShardEngine]
    /// Records read and not yet behind the shard checkpoint, in shard order.
    private var pending: [Entry] = []

    private struct Entry: Sendable, Hashable {
        var sequenceNumber: String
        var lane: Int
        var done = false
    }

    public init(policy: StreamShardEngine.Policy, factor: Int) {
        lanes = Array(repeating: StreamShardEngine(policy: policy), count: max(1, factor))
    }

    public var policy: StreamShardEngine.Policy {
        get { lanes[0].policy }
        set { for index in lanes.indices { lanes[index].policy = newValue } }
    }

    /// The lane of a partition key: FNV-1a of its UTF-8 bytes, modulo the lanes.
    public static func lane(of partitionKey: String, lanes: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in partitionKey.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(max(1, lanes)))
    }

    /// Whether the reader should read more: fewer records wait than one batch per lane, and fewer
    /// are read but not yet checkpointed than four (filtered records pile up behind a batch that
    /// keeps failing without filling any lane).
    public var wantsRecords: Bool {
        let batches = lanes[0].policy.batchSize * lanes.count
        return lanes.reduce(0) { $0 + $1.buffer.count } < batches && pending.count < 4 * batches
    }

    /// Records read from the shard, in order. Those whose sequence number is in `filteredOut` (no
    /// `FilterCriteria` pattern matched) go to no lane and count as done: the checkpoint passes them
    /// once everything before them is done; returns that checkpoint when it can move at once.
    @discardableResult
    public mutating func received(
        _ records: [StreamReadRecord], filteredOut: Set<String> = [], now: Int64
    ) -> [StreamShardEngine.Action] {
        var split = Array(repeating: [StreamReadRecord](), count: lanes.count)
        for record in records {
            let lane = Self.lane(of: record.partitionKey, lanes: lanes.count)
            let skipped = filteredOut.contains(record.sequenceNumber)
            if !skipped { split[lane].append(record) }
            pending.append(Entry(sequenceNumber: record.sequenceNumber, lane: lane, done: skipped))
        }
        for lane in lanes.indices where !split[lane].isEmpty { lanes[lane].received(split[lane], now: now) }
        return advanceCheckpoint().map { [.checkpoint($0)] } ?? []
    }

    public func windowDeadline(lane: Int) -> Int64? { lanes[lane].windowDeadline() }

    public func window(lane: Int) -> StreamShardEngine.TumblingWindow? { lanes[lane].window }

    public mutating func next(lane: Int, now: Int64) -> [StreamShardEngine.Action] {
        shardActions(lane, lanes[lane].next(now: now))
    }

    public mutating func completed(lane: Int, _ outcome: StreamShardEngine.Outcome, now: Int64) -> [StreamShardEngine.Action] {
        shardActions(lane, lanes[lane].completed(outcome, now: now))
    }

    public mutating func windowStateReturned(lane: Int, _ state: String) {
        lanes[lane].windowStateReturned(state)
    }

    /// Each lane's open tumbling window (what is saved with the shard checkpoint).
    public var windows: [Int: StreamShardEngine.TumblingWindow] {
        var open: [Int: StreamShardEngine.TumblingWindow] = [:]
        for lane in lanes.indices { open[lane] = lanes[lane].window }
        return open
    }

    /// Windows saved with the checkpoint, by lane (lanes the factor no longer has are dropped).
    public mutating func restore(windows: [Int: StreamShardEngine.TumblingWindow]) {
        for (lane, window) in windows where lanes.indices.contains(lane) { lanes[lane].restoreWindow(window) }
    }

    /// A lane's checkpoint marks its records up to it done; the shard checkpoint is the last of the
    /// done records at the front. Other actions pass unchanged.
    private mutating func shardActions(_ lane: Int, _ actions: [StreamShardEngine.Action]) -> [StreamShardEngine.Action] {
        actions.compactMap { action in
            guard case .checkpoint(let sequenceNumber) = action else { return action }
            for index in pending.indices
            where pending[index].lane == lane && !StreamReadRecord.precedes(sequenceNumber, pending[index].sequenceNumber) {
                pending[index].done = true
            }
            return advanceCheckpoint().map { .checkpoint($0) }
        }
    }

    /// Drops the done records at the front; returns the last of them (the new shard checkpoint).
    private mutating func advanceCheckpoint() -> String? {
        let finished = pending.prefix { $0.done }
        guard let last = finished.last else { return nil }
        pending.removeFirst(finished.count)
        return last.sequenceNumber
    }
}
