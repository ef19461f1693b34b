import FunctionHostCore
import GRDB

/// One row of `sqsQueue`: a queue's definition plus its timestamps.
struct QueueRecord: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sqsQueue"

    var name: String
    var logicalID: String?
    var visibilityTimeout: Int
    var messageRetentionPeriod: Int
    var delaySeconds: Int
    var receiveMessageWaitTimeSeconds: Int
    var maximumMessageSize: Int
    var deadLetterTargetARN: String?
    var maxReceiveCount: Int?
    var fifo: Bool
    var contentBasedDeduplication: Bool
    var createdAt: Int64
    var modifiedAt: Int64
    var purgedAt: Int64?

    init(_ definition: QueueDefinition, now: Int64) {
        name = definition.name
        logicalID = definition.logicalID
        visibilityTimeout = definition.visibilityTimeout
        messageRetentionPeriod = definition.messageRetentionPeriod
        delaySeconds = definition.delaySeconds
        receiveMessageWaitTimeSeconds = definition.receiveMessageWaitTimeSeconds
        maximumMessageSize = definition.maximumMessageSize
        deadLetterTargetARN = definition.redrive?.deadLetterTargetARN
        maxReceiveCount = definition.redrive?.maxReceiveCount
        fifo = definition.fifo
        contentBasedDeduplication = definition.contentBasedDeduplication
        createdAt = now
        modifiedAt = now
    }

    var definition: QueueDefinition {
        var definition = QueueDefinition(name: name, logicalID: logicalID)
        definition.visibilityTimeout = visibilityTimeout
        definition.messageRetentionPeriod = messageRetentionPeriod
        definition.delaySeconds = delaySeconds
        definition.receiveMessageWaitTimeSeconds = receiveMessageWaitTimeSeconds
        definition.maximumMessageSize = maximumMessageSize
        if let deadLetterTargetARN, let maxReceiveCount {
            definition.redrive = .init(deadLetterTargetARN: deadLetterTargetARN, maxReceiveCount: maxReceiveCount)
        }
        definition.fifo = fifo
        definition.contentBasedDeduplication = contentBasedDeduplication
        return definition
    }

    /// Whether the attributes a user sets (not timestamps or the logical id) are the same.
    func sameAttributes(as other: QueueDefinition) -> Bool {
        var mine = definition
        var theirs = other
        mine.logicalID = nil
        theirs.logicalID = nil
        return mine == theirs
    }
}

/// One row of `sqsMessage`: a message and its delivery state.
///
/// In flight = has a `receiptToken` and `visibleAt` is in the future; delayed = no token and
/// `visibleAt` in the future; visible otherwise.
struct MessageRecord: Sendable, Hashable, FetchableRecord, TableRecord {
    static let databaseTableName = "sqsMessage"

    var sequence: Int64
    var queue: String
    var messageID: String
    var body: String
    /// JSON of `[name: MessageAttributeValue]`, as on the wire.
    var messageAttributes: String?
    var traceHeader: String?
    var sentAt: Int64
    var visibleAt: Int64
    var receiveCount: Int
    var firstReceivedAt: Int64?
    var receiptToken: String?
    var groupID: String?
    var deduplicationID: String?
    var deadLetterSourceARN: String?

    /// Reads the columns by position, in table order (`SELECT *`, `RETURNING *`): every received
    /// message is decoded, and `Decodable` row decoding looked each column up by name.
    init(row: Row) {
        sequence = row[0]
        queue = row[1]
        messageID = row[2]
        body = row[3]
        messageAttributes = row[4]
        traceHeader = row[5]
        sentAt = row[6]
        visibleAt = row[7]
        receiveCount = row[8]
        firstReceivedAt = row[9]
        receiptToken = row[10]
        groupID = row[11]
        deduplicationID = row[12]
        deadLetterSourceARN = row[13]
    }

    /// FIFO sequence numbers: the row's sequence, as SQS's 20-digit decimal text.
    static func sequenceNumber(_ sequence: Int64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
}

/// One row of `sqsDeduplication`: a FIFO deduplication id seen within the last five minutes.
struct DeduplicationRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sqsDeduplication"
    var queue: String
    var deduplicationID: String
    var messageID: String
    var sequence: Int64
    var expiresAt: Int64
}
