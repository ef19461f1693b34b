/// The settings only a stream mapping (Kinesis, DynamoDB Streams) has: where it starts, how it
/// retries, bisects and discards, and where discarded batches are reported. Validated where they
/// enter (the template loader) against the limits declared here.
public struct StreamMappingSettings: Sendable, Hashable {
    /// `StartingPosition` (with `StartingPositionTimestamp` for `AT_TIMESTAMP`).
    public enum StartingPosition: Sendable, Hashable {
        case trimHorizon
        case latest
        /// Epoch milliseconds.
        case atTimestamp(Int64)

        /// The wire name (`TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP`).
        public var name: String {
            switch self {
            case .trimHorizon: "TRIM_HORIZON"
            case .latest: "LATEST"
            case .atTimestamp: "AT_TIMESTAMP"
            }
        }
    }

    public var startingPosition: StartingPosition
    /// -1: until the records expire.
    public var maximumRetryAttempts = -1
    /// -1: no limit.
    public var maximumRecordAgeInSeconds = -1
    public var bisectBatchOnFunctionError = false
    public var parallelizationFactor = 1
    /// 0: off.
    public var tumblingWindowInSeconds = 0
    /// `DestinationConfig.OnFailure.Destination`: an SQS queue ARN.
    public var onFailureDestination: String?

    public init(startingPosition: StartingPosition) {
        self.startingPosition = startingPosition
    }

    public static let defaultBatchSize = 100
    public static let batchSizeRange = 1...10_000
    public static let maximumRetryAttemptsRange = -1...10_000
    public static let maximumRecordAgeRange = 60...604_800
    public static let parallelizationFactorRange = 1...10
    public static let tumblingWindowRange = 0...900

    /// Checks the stream settings and the shared batch settings; returns the property and the rule it breaks.
    public func violation(batchSize: Int, batchingWindow: Int) -> (property: String, message: String)? {
        guard Self.batchSizeRange.contains(batchSize) else {
            return ("BatchSize", "must be from 1 to 10000 for a stream, got \(batchSize)")
        }
        guard EventSourceMapping.batchingWindowRange.contains(batchingWindow) else {
            return ("MaximumBatchingWindowInSeconds", "must be from 0 to 300 seconds, got \(batchingWindow)")
        }
        guard Self.maximumRetryAttemptsRange.contains(maximumRetryAttempts) else {
            return ("MaximumRetryAttempts", "must be -1 (until the records expire) or from 0 to 10000, got \(maximumRetryAttempts)")
        }
        guard maximumRecordAgeInSeconds == -1 || Self.maximumRecordAgeRange.contains(maximumRecordAgeInSeconds) else {
            return ("MaximumRecordAgeInSeconds", "must be -1 (no limit) or from 60 to 604800, got \(maximumRecordAgeInSeconds)")
        }
        guard Self.parallelizationFactorRange.contains(parallelizationFactor) else {
            return ("ParallelizationFactor", "must be from 1 to 10, got \(parallelizationFactor)")
        }
        guard Self.tumblingWindowRange.contains(tumblingWindowInSeconds) else {
            return ("TumblingWindowInSeconds", "must be from 0 to 900 seconds, got \(tumblingWindowInSeconds)")
        }
        return nil
    }
}
