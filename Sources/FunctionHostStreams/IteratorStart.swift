/// Where a new shard iterator starts (`ShardIteratorType` with its argument).
public enum IteratorStart: Sendable, Hashable {
    /// The oldest record still retained.
    case trimHorizon
    /// Just after the newest record: only records put from now on.
    case latest
    case atSequenceNumber(SequenceNumber)
    case afterSequenceNumber(SequenceNumber)
    /// The first record that arrived at or after this time (epoch ms).
    case atTimestamp(Int64)
}
