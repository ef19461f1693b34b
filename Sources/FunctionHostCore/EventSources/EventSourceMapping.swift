import Foundation

/// One event-source mapping (Lambda's `EventSourceMapping`): which source feeds which function
/// and with what batching, failure and scaling settings. Values are validated where they enter
/// (the template loader, the mapping API) against the limits declared here.
public struct EventSourceMapping: Sendable, Hashable {
    /// Where records come from. Part of the engine/adapter seam: a new source kind (a stream, an
    /// external queue) adds a case here and an adapter, not a new engine.
    public enum Source: Sendable, Hashable {
        /// An SQS queue, by ARN (the embedded queue engine serves the template's and API-created queues).
        case sqs(queueARN: String)
        /// A Kinesis stream, by ARN (the embedded stream engine serves the template's streams).
        case kinesis(streamARN: String)
        /// A DynamoDB stream, by ARN: always external (there is no embedded DynamoDB).
        case dynamoDBStream(streamARN: String)

        public var arn: String {
            switch self {
            case .sqs(let arn): arn
            case .kinesis(let arn): arn
            case .dynamoDBStream(let arn): arn
            }
        }
    }

    public var uuid: String
    /// The template resource (or `Function.Events.Name`) it came from; `nil` when created through the API.
    public var logicalID: String?
    public var functionName: String
    public var source: Source
    public var batchSize: Int
    public var maximumBatchingWindowInSeconds: Int
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    public var reportBatchItemFailures: Bool
    public var enabled: Bool
    /// `ScalingConfig.MaximumConcurrency`; `nil` means Lambda's per-mapping ceiling.
    public var maximumConcurrency: Int?
    /// `FilterCriteria.Filters` (OR-ed); empty passes every record.
    public var filters: [EventFilterPattern]
    /// Epoch seconds of the last change (`LastModified`).
    public var lastModified: Double
    /// The stream-only settings; `nil` for a queue.
    public var stream: StreamMappingSettings?
    /// Read from the real service at the standard endpoint settings (``AWSServiceEndpoint``), not
    /// from the embedded queue or stream: the template does not define the source.
    public var external = false

    public init(
        uuid: String = UUID().uuidString.lowercased(), logicalID: String? = nil, functionName: String, source: Source,
        batchSize: Int = Self.defaultBatchSize, maximumBatchingWindowInSeconds: Int = 0,
        reportBatchItemFailures: Bool = false, enabled: Bool = true, maximumConcurrency: Int? = nil,
        filters: [EventFilterPattern] = [], lastModified: Double = Date().timeIntervalSince1970
    ) {
        self.uuid = uuid
        self.logicalID = logicalID
        self.functionName = functionName
        self.source = source
        self.batchSize = batchSize
        self.maximumBatchingWindowInSeconds = maximumBatchingWindowInSeconds
        self.reportBatchItemFailures = reportBatchItemFailures
        self.enabled = enabled
        self.maximumConcurrency = maximumConcurrency
        self.filters = filters
        self.lastModified = lastModified
    }

    // MARK: Limits (Lambda's, for SQS sources)

    public static let defaultBatchSize = 10
    /// Without a batching window an SQS batch holds at most 10 messages; with one, up to 10,000.
    public static let sqsBatchSizeWithoutWindow = 1...10
    public static let sqsBatchSizeRange = 1...10_000
    public static let batchingWindowRange = 0...300
    public static let maximumConcurrencyRange = 2...1000
    /// Filters per mapping (Lambda's default quota).
    public static let maximumFilters = 5
    /// Concurrent batches per mapping when `MaximumConcurrency` is not set (Lambda's ceiling).
    public static let defaultConcurrencyCeiling = 1000
    /// A batch is invoked once its records reach this many bytes (Lambda's 6 MB payload limit).
    public static let maximumBatchBytes = 6_291_456

    /// The concurrent batches this mapping may run.
    public var concurrencyCeiling: Int { maximumConcurrency ?? Self.defaultConcurrencyCeiling }

    /// Checks the settings that do not depend on the source; returns the property and the rule it breaks.
    public func violation(fifo: Bool) -> (property: String, message: String)? {
        guard Self.sqsBatchSizeRange.contains(batchSize) else {
            return ("BatchSize", "must be from 1 to 10000 for an SQS queue, got \(batchSize)")
        }
        guard Self.batchingWindowRange.contains(maximumBatchingWindowInSeconds) else {
            return ("MaximumBatchingWindowInSeconds", "must be from 0 to 300 seconds, got \(maximumBatchingWindowInSeconds)")
        }
        if fifo && batchSize > 10 {
            return ("BatchSize", "must be from 1 to 10 for a FIFO queue, got \(batchSize)")
        }
        if fifo && maximumBatchingWindowInSeconds > 0 {
            return ("MaximumBatchingWindowInSeconds", "is not supported for FIFO queues")
        }
        if batchSize > 10 && maximumBatchingWindowInSeconds == 0 {
            return (
                "BatchSize",
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10 (BatchSize \(batchSize))"
            )
        }
        if let maximumConcurrency, !Self.maximumConcurrencyRange.contains(maximumConcurrency) {
            return ("ScalingConfig.MaximumConcurrency", "must be from 2 to 1000, got \(maximumConcurrency)")
        }
        return filtersViolation
    }

    /// Too many `FilterCriteria` patterns (any source kind).
    public var filtersViolation: (property: String, message: String)? {
        guard filters.count > Self.maximumFilters else { return nil }
        return ("FilterCriteria.Filters", "holds at most \(Self.maximumFilters) filters, got \(filters.count)")
    }

    /// The mapping's ARN: `arn:aws:lambda:REGION:ACCOUNT:event-source-mapping:UUID`.
    public func arn(in account: AccountContext) -> String {
        "arn:aws:lambda:\(account.region):\(account.accountID):event-source-mapping:\(uuid)"
    }
}
