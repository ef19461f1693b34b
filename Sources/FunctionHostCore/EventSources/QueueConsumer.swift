/// Reads a queue for an SQS event-source mapping: the adapter side of the engine/adapter seam.
///
/// The embedded queue engine implements it; an external SQS endpoint (part 2) will too. Queues
/// are named by ARN. Every method throws when the queue does not exist or cannot be reached.
public protocol QueueConsumer: Sendable {
    /// What the mapping engine must know about the queue.
    func consumerInfo(queueARN: String) async throws -> ConsumedQueueInfo
    /// Receives up to `maximum` (1–10) messages with every system and message attribute, hiding
    /// them for `visibilityTimeout` seconds; long-polls up to `waitSeconds` of real time.
    func receive(queueARN: String, maximum: Int, waitSeconds: Int, visibilityTimeout: Int) async throws
        -> [ConsumedMessage]
    /// Deletes the received messages (a stale handle deletes nothing and is not an error).
    func delete(queueARN: String, receiptHandles: [String]) async throws
    /// Makes received messages visible again at once (a throttled batch goes back to the queue).
    func release(queueARN: String, receiptHandles: [String]) async throws
}

/// A queue's settings and backlog, as a mapping sees them.
public struct ConsumedQueueInfo: Sendable, Hashable {
    public var fifo: Bool
    public var visibilityTimeout: Int
    /// Messages visible now (`ApproximateNumberOfMessages`).
    public var backlog: Int
    /// The redrive policy's `maxReceiveCount`, when the queue has one.
    public var maxReceiveCount: Int?
    /// When the next hidden message (in flight or delayed) becomes visible, in host-clock epoch
    /// milliseconds; `nil` when none is hidden or the queue does not run on the host clock.
    public var nextVisibleAt: Int64?

    public init(
        fifo: Bool, visibilityTimeout: Int, backlog: Int, maxReceiveCount: Int? = nil, nextVisibleAt: Int64? = nil
    ) {
        self.fifo = fifo
        self.visibilityTimeout = visibilityTimeout
        self.backlog = backlog
        self.maxReceiveCount = maxReceiveCount
        self.nextVisibleAt = nextVisibleAt
    }
}

/// One received message, with what Lambda's SQS event record carries.
public struct ConsumedMessage: Sendable, Hashable {
    public var messageID: String
    public var receiptHandle: String
    public var body: String
    public var md5OfBody: String
    public var md5OfMessageAttributes: String?
    /// `ApproximateReceiveCount`, `SentTimestamp`, `SenderId`, `ApproximateFirstReceiveTimestamp`,
    /// FIFO's `SequenceNumber`, `MessageGroupId`, `MessageDeduplicationId`, `AWSTraceHeader`, ...
    public var systemAttributes: [String: String]
    public var messageAttributes: [String: Attribute]

    /// A message attribute: `dataType` and its string or base64 binary value.
    public struct Attribute: Sendable, Hashable {
        public var dataType: String
        public var stringValue: String?
        /// Base64.
        public var binaryValue: String?

        public init(dataType: String, stringValue: String?, binaryValue: String?) {
            self.dataType = dataType
            self.stringValue = stringValue
            self.binaryValue = binaryValue
        }
    }

    public init(
        messageID: String, receiptHandle: String, body: String, md5OfBody: String, md5OfMessageAttributes: String?,
        systemAttributes: [String: String], messageAttributes: [String: Attribute]
    ) {
        self.messageID = messageID
        self.receiptHandle = receiptHandle
        self.body = body
        self.md5OfBody = md5OfBody
        self.md5OfMessageAttributes = md5OfMessageAttributes
        self.systemAttributes = systemAttributes
        self.messageAttributes = messageAttributes
    }
}
