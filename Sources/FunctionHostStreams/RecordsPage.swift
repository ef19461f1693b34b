/// One `GetRecords` answer: the records, the iterator to continue with, and how far behind the
/// shard's newest record the reader is.
public struct RecordsPage: Sendable, Hashable {
    public var records: [StreamRecord]
    public var next: ShardIterator
    /// 0 when the page reached the newest record; else the age of the first record not returned.
    public var millisBehindLatest: Int64
}
