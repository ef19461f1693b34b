import Foundation

/// Reads a stream's shards for a stream mapping: the adapter side of the engine/adapter seam, in
/// Kinesis's own terms (shards, iterators, pages). The embedded stream engine implements it; an
/// external Kinesis or DynamoDB Streams endpoint can too. Streams are named by ARN. Every method
/// throws when the stream or shard does not exist or cannot be reached; an expired iterator
/// throws too, and the caller asks for a new one from its checkpoint.
public protocol StreamReader: Sendable {
    /// The stream's shard ids, in order.
    func shardIDs(streamARN: String) async throws -> [String]
    /// An iterator of one shard.
    func iterator(streamARN: String, shardID: String, from start: StreamStart) async throws -> String
    /// Up to `limit` records from `iterator`.
    func read(streamARN: String, iterator: String, limit: Int) async throws -> StreamReadPage
}

/// Where a shard iterator starts.
public enum StreamStart: Sendable, Hashable {
    case trimHorizon
    case latest
    /// Epoch milliseconds.
    case atTimestamp(Int64)
    /// Just after a checkpointed sequence number.
    case afterSequenceNumber(String)
}

/// One page of a shard.
public struct StreamReadPage: Sendable, Hashable {
    public var records: [StreamReadRecord]
    /// `nil` when the shard is closed and read to its end.
    public var nextIterator: String?

    public init(records: [StreamReadRecord], nextIterator: String?) {
        self.records = records
        self.nextIterator = nextIterator
    }
}

/// One record read from a shard.
public struct StreamReadRecord: Sendable, Hashable {
    /// A decimal string; compare with ``StreamReadRecord/precedes(_:_:)``.
    public var sequenceNumber: String
    public var partitionKey: String
    public var data: Data
    /// Epoch milliseconds.
    public var arrivedAt: Int64

    public init(sequenceNumber: String, partitionKey: String, data: Data, arrivedAt: Int64) {
        self.sequenceNumber = sequenceNumber
        self.partitionKey = partitionKey
        self.data = data
        self.arrivedAt = arrivedAt
    }

    /// Numeric order of two decimal sequence numbers of any length (no leading zeros).
    public static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.count != rhs.utf8.count ? lhs.utf8.count < rhs.utf8.count : lhs < rhs
    }
}
