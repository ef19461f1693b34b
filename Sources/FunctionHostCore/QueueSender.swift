/// Delivers a message to a queue named by its ARN: the seam between async destinations and
/// dead-letter queues (which send) and the embedded SQS-compatible queue (which stores).
public protocol QueueSender: Sendable {
    /// Returns once the message is durably stored; throws if the queue does not exist.
    func send(toQueueARN arn: String, body: String, attributes: [String: QueueMessageAttribute]) async throws
}

/// An SQS message attribute: `DataType` (`String`, `Number`, `Binary`) and its string value.
public struct QueueMessageAttribute: Sendable, Hashable {
    public var dataType: String
    public var stringValue: String

    public init(dataType: String, stringValue: String) {
        self.dataType = dataType
        self.stringValue = stringValue
    }
}
