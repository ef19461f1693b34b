import FunctionHostCore

/// A stream as the engine holds it: its settings, when it was created, and each shard's last
/// sequence counter (what `DescribeStream` and `ListShards` report).
public struct StreamState: Sendable, Hashable {
    public var definition: StreamDefinition
    /// Epoch ms.
    public var createdAt: Int64
    /// Indexed by shard; 0 while a shard has no record.
    public var lastSequences: [Int]

    public var shardIDs: [String] { (0..<definition.shardCount).map(ShardID.string) }
}
