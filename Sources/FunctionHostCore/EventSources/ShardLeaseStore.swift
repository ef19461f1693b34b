/// A table of shard leases shared by every host consuming a stream (DynamoDB at the external
/// endpoint): the executor's side of the lease seam. Every write is conditional; a condition that
/// does not hold answers `false` or `nil` (another host got there first), anything else throws.
public protocol ShardLeaseStore: Sendable {
    /// Creates the table if it does not exist and returns once it can be used.
    func prepare(table: String) async throws
    /// Every lease item, read consistently.
    func leases(table: String) async throws -> [ShardLease]
    /// Adds a free lease for `shardID` unless the table has one; `false` when it had.
    func create(table: String, shardID: String) async throws -> Bool
    /// Makes `owner` the holder if the counter is still `expectedCounter`; the lease as written, or
    /// `nil` when the counter had moved.
    func take(table: String, shardID: String, expectedCounter: Int, owner: String) async throws -> ShardLease?
    /// Adds one to the counter if `owner` still holds it at `counter`; `false` when it does not.
    func renew(table: String, shardID: String, counter: Int, owner: String) async throws -> Bool
    /// Hands a lease back (no owner, counter plus one) if `owner` still holds it, so another host
    /// takes it at once; `false` when it does not.
    func release(table: String, shardID: String, owner: String) async throws -> Bool
    /// Writes a checkpoint, and `windowState` (the shard's open tumbling windows, opaque) unless
    /// `nil`, if `owner` still holds the lease (a checkpoint behind the stored one is left alone
    /// and counts as written); `false` when another host holds it.
    func checkpoint(table: String, shardID: String, sequenceNumber: String, windowState: String?, owner: String)
        async throws -> Bool
    /// Writes `windowState` alone (a window closed without a checkpoint) if `owner` still holds
    /// the lease; `false` when another host holds it.
    func saveWindowState(table: String, shardID: String, windowState: String, owner: String) async throws -> Bool
}
