import Synchronization

/// One shard's ``ParallelShardEngine`` shared by its reader and lane loops: a lock around the
/// value, held only while deciding (never across an await).
final class ShardLanes: Sendable {
    private let engine: Mutex<ParallelShardEngine>

    init(_ engine: ParallelShardEngine) {
        self.engine = Mutex(engine)
    }

    func withLock<Result: Sendable>(_ body: (inout ParallelShardEngine) -> Result) -> Result {
        engine.withLock { body(&$0) }
    }
}
