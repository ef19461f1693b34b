/// The Kinesis operations the embedded stream serves: the `<Operation>` of
/// `X-Amz-Target: Kinesis_20131202.<Operation>`, parsed once at the edge.
enum KinesisOperation: String, Sendable, CaseIterable {
    case createStream = "CreateStream"
    case deleteStream = "DeleteStream"
    case describeStream = "DescribeStream"
    case describeStreamSummary = "DescribeStreamSummary"
    case listShards = "ListShards"
    case listStreams = "ListStreams"
    case putRecord = "PutRecord"
    case putRecords = "PutRecords"
    case getShardIterator = "GetShardIterator"
    case getRecords = "GetRecords"

    static let targetPrefix = "Kinesis_20131202."

    /// The operation a target names; `nil` when it is not a Kinesis target at all.
    static func parse(target: String) throws(StreamError) -> KinesisOperation {
        let name = target.dropFirst(targetPrefix.count)
        guard target.hasPrefix(targetPrefix), let operation = KinesisOperation(rawValue: String(name)) else {
            throw StreamError(.unknownOperation, "\(name) is not an operation the fnhost embedded stream serves.")
        }
        return operation
    }
}
