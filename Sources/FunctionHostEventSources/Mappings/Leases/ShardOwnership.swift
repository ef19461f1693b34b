/// Which shards of one stream mapping this host processes, and where their checkpoints are kept:
/// the host's own state database for a stream only it reads (``LocalShardOwnership``), or a lease
/// table shared by every host consuming an external stream (``LeasedShardOwnership``).
protocol ShardOwnership: Sendable {
    /// Runs `process` for each shard this host holds, from its saved position, in a task of its own
    /// that is cancelled when the shard is lost; returns once cancelled, or once `active` says no,
    /// and its shard tasks have ended. Problems (a stream or table that cannot be read) go to `report`.
    func run(
        while active: @escaping @Sendable () -> Bool, report: @escaping @Sendable (String) -> Void,
        process: @escaping @Sendable (_ shardID: String, _ saved: StreamCheckpoints.Saved?) async -> Void
    ) async
    /// Records that a `LATEST` shard without a checkpoint started at `now`.
    func markStart(shardID: String, now: Int64) async throws
    /// Commits a checkpoint, with the shard's open tumbling windows unless `nil`; `false` when the
    /// shard is no longer this host's (its loop is being stopped and must not start another
    /// batch). Throws when the store cannot be reached.
    func save(shardID: String, sequenceNumber: String, windows: [Int: StreamShardEngine.TumblingWindow]?, now: Int64)
        async throws -> Bool
    /// Stores the shard's open tumbling windows alone (a window closed without a checkpoint).
    func saveWindows(shardID: String, windows: [Int: StreamShardEngine.TumblingWindow]) async throws
}
