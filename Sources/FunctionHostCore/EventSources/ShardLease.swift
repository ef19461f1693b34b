/// One shard's item in a stream mapping's lease table, as read: who holds the shard, how often its
/// lease was written (every take and renewal adds one; a counter that stops moving means its holder
/// is gone), and the last checkpoint of whoever held it.
public struct ShardLease: Sendable, Hashable {
    public var shardID: String
    /// `nil` while nobody holds it.
    public var owner: String?
    public var counter: Int
    /// The last sequence number whose record is done; `nil` before the first checkpoint.
    public var checkpoint: String?
    /// State carried with the checkpoint (a tumbling window's), opaque to the lease logic; `nil`
    /// until the stream runner stores window state with its checkpoints.
    public var windowState: String?

    public init(shardID: String, owner: String?, counter: Int, checkpoint: String?, windowState: String? = nil) {
        self.shardID = shardID
        self.owner = owner
        self.counter = counter
        self.checkpoint = checkpoint
        self.windowState = windowState
    }
}
