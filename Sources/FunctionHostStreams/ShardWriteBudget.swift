/// A provisioned shard's write throughput in the current second: Kinesis's 1,000 records and
/// 1 MiB per second per shard. A record past either is refused with
/// `ProvisionedThroughputExceededException` (per record in `PutRecords`).
///
/// A pure value: ``admit(bytes:now:)`` decides and counts. The second is the host clock's, so
/// under the virtual clock a full shard stays full until the clock is advanced.
struct ShardWriteBudget: Sendable, Hashable {
    static let recordsPerSecond = 1000
    static let bytesPerSecond = 1_048_576

    private var second: Int64 = .min
    private var records = 0
    private var bytes = 0

    /// Whether a record of `bytes` (data plus partition key) fits this second; counts it if so.
    mutating func admit(bytes size: Int, now: Int64) -> Bool {
        let current = now / 1000
        if current != second {
            second = current
            records = 0
            bytes = 0
        }
        guard records < Self.recordsPerSecond, bytes + size <= Self.bytesPerSecond else { return false }
        records += 1
        bytes += size
        return true
    }
}
