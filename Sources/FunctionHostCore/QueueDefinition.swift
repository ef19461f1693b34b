/// An embedded SQS queue's name and attributes, as a template (`AWS::SQS::Queue`) or `CreateQueue` defines it.
///
/// Values are already validated (ranges as SQS enforces them); times are whole seconds.
public struct QueueDefinition: Sendable, Hashable {
    /// Where a queue's poison messages go (`RedrivePolicy`).
    public struct Redrive: Sendable, Hashable {
        public var deadLetterTargetARN: String
        /// 1–1000: a message received this many times is moved on its next receive attempt.
        public var maxReceiveCount: Int

        public init(deadLetterTargetARN: String, maxReceiveCount: Int) {
            self.deadLetterTargetARN = deadLetterTargetARN
            self.maxReceiveCount = maxReceiveCount
        }
    }

    /// The template's logical id, when the queue comes from a template.
    public var logicalID: String?
    public var name: String
    public var visibilityTimeout = 30
    public var messageRetentionPeriod = 345_600
    public var delaySeconds = 0
    public var receiveMessageWaitTimeSeconds = 0
    public var maximumMessageSize = 1_048_576
    public var redrive: Redrive?
    public var fifo = false
    public var contentBasedDeduplication = false

    public init(name: String, logicalID: String? = nil) {
        self.name = name
        self.logicalID = logicalID
        fifo = name.hasSuffix(".fifo")
    }

    /// SQS's name rule: 1–80 of `[A-Za-z0-9_-]`, plus `.fifo` for FIFO queues (counted in the 80).
    public static func isValidName(_ name: String, fifo: Bool) -> Bool {
        let stem = fifo ? (name.hasSuffix(".fifo") ? String(name.dropLast(5)) : "") : name
        guard !stem.isEmpty, name.count <= 80 else { return false }
        return stem.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    public static let visibilityTimeoutRange = 0...43_200
    public static let retentionRange = 60...1_209_600
    public static let delayRange = 0...900
    public static let waitTimeRange = 0...20
    public static let maximumMessageSizeRange = 1024...1_048_576
    public static let maxReceiveCountRange = 1...1000
}

extension AccountContext {
    /// `arn:aws:sqs:REGION:ACCOUNT:NAME`.
    public func queueARN(_ name: String) -> String { "arn:aws:sqs:\(region):\(accountID):\(name)" }

    /// The queue name an SQS ARN of this account and region names, or `nil`.
    public func queueName(fromARN arn: String) -> String? {
        let prefix = "arn:aws:sqs:\(region):\(accountID):"
        guard arn.hasPrefix(prefix) else { return nil }
        let name = String(arn.dropFirst(prefix.count))
        return name.isEmpty || name.contains(":") ? nil : name
    }
}
