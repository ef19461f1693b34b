import Foundation

/// One record of a shard, as `GetRecords` returns it and a stream mapping delivers it.
public struct StreamRecord: Sendable, Hashable {
    public var sequenceNumber: SequenceNumber
    public var partitionKey: String
    public var data: Data
    /// Epoch ms on the host clock (`ApproximateArrivalTimestamp`).
    public var arrivedAt: Int64

    public init(sequenceNumber: SequenceNumber, partitionKey: String, data: Data, arrivedAt: Int64) {
        self.sequenceNumber = sequenceNumber
        self.partitionKey = partitionKey
        self.data = data
        self.arrivedAt = arrivedAt
    }
}

/// A record to append: `PutRecord`, or one entry of `PutRecords`.
public struct OutgoingRecord: Sendable, Hashable {
    public var partitionKey: String
    public var data: Data
    /// `ExplicitHashKey`, overriding the partition key's MD5.
    public var explicitHashKey: UInt128?

    public init(partitionKey: String, data: Data, explicitHashKey: UInt128? = nil) {
        self.partitionKey = partitionKey
        self.data = data
        self.explicitHashKey = explicitHashKey
    }

    /// What counts against the shard's write throughput and the request's 5 MiB: data plus key.
    var size: Int { data.count + partitionKey.utf8.count }
}
