import FunctionHostCore
import Foundation
import GRDB

/// A message to send: what `SendMessage`, a batch entry or a ``QueueSender`` call carries.
public struct OutgoingMessage: Sendable, Hashable {
    public var body: String
    public var delaySeconds: Int?
    public var attributes: [String: MessageAttributeValue] = [:]
    public var traceHeader: String?
    public var groupID: String?
    public var deduplicationID: String?

    public init(body: String, attributes: [String: MessageAttributeValue] = [:]) {
        self.body = body
        self.attributes = attributes
    }
}

/// What a send answers: the message id, digests and (FIFO) the sequence number.
public struct SentMessage: Sendable, Hashable {
    public var messageID: String
    public var md5OfBody: String
    public var md5OfAttributes: String?
    public var sequenceNumber: String?
}

/// A delivered message with its new receipt handle and system attributes.
public struct ReceivedMessage: Sendable, Hashable {
    public var messageID: String
    public var receiptHandle: String
    public var body: String
    public var attributes: [String: MessageAttributeValue]
    /// `SenderId`, `SentTimestamp`, `ApproximateReceiveCount`, … (all of them; the caller filters).
    public var systemAttributes: [String: String]
}

/// How to receive: `ReceiveMessage`'s parameters, already validated.
public struct ReceiveRequest: Sendable, Hashable {
    public var maximum = 1
    /// Seconds to long-poll; `nil` uses the queue's `ReceiveMessageWaitTimeSeconds`.
    public var waitSeconds: Int?
    /// Seconds to hide what is received; `nil` uses the queue's `VisibilityTimeout`.
    public var visibilityTimeout: Int?

    public init(maximum: Int = 1, waitSeconds: Int? = nil, visibilityTimeout: Int? = nil) {
        self.maximum = maximum
        self.waitSeconds = waitSeconds
        self.visibilityTimeout = visibilityTimeout
    }
}

extension QueueEngine {
    /// Checks a message against the queue's rules; throws ``QueueError`` as SQS words it.
    static func validate(_ message: OutgoingMessage, for queue: QueueDefinition) throws(QueueError) {
        guard !message.body.isEmpty else {
            throw QueueError(.invalidParameterValue, "The request must contain the parameter MessageBody.")
        }
        let allowed = message.body.unicodeScalars.allSatisfy { scalar in
            let value = scalar.value
            return value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value)
                || (0xE000...0xFFFD).contains(value) || (0x10000...0x10FFFF).contains(value)
        }
        guard allowed else {
            throw QueueError(
                .invalidMessageContents,
                "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
            )
        }
        guard message.attributes.count <= 10 else {
            throw QueueError(
                .invalidParameterValue,
                "Number of message attributes [\(message.attributes.count)] exceeds the allowed maximum [10].")
        }
        for (name, value) in message.attributes { try value.validate(name: name) }
        let size = message.body.utf8.count + message.attributes.reduce(0) { $0 + $1.value.size(name: $1.key) }
        guard size <= queue.maximumMessageSize else {
            throw QueueError(
                .invalidParameterValue,
                "One or more parameters are invalid. Reason: Message must be shorter than \(queue.maximumMessageSize) bytes."
            )
        }
        if let delay = message.delaySeconds {
            guard QueueDefinition.delayRange.contains(delay) else {
                throw .invalidValue(delay, "DelaySeconds", "Must be >= 0 and <= 900.")
            }
            if queue.fifo && delay != 0 {
                throw .invalidValue(
                    delay, "DelaySeconds", "The request include parameter that is not valid for this queue type.")
            }
        }
        if queue.fifo {
            guard let group = message.groupID, !group.isEmpty else { throw .missing("MessageGroupId") }
            guard group.count <= 128 else {
                throw .invalidValue(group, "MessageGroupId", "Must be 1 to 128 characters.")
            }
            if message.deduplicationID == nil && !queue.contentBasedDeduplication {
                throw QueueError(
                    .invalidParameterValue,
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
                )
            }
        } else if message.deduplicationID != nil {
            throw .invalidValue(
                message.deduplicationID!, "MessageDeduplicationId",
                "The request include parameter that is not valid for this queue type")
        }
    }

    /// `SendMessage`: validates, then commits the message (FIFO: unless its dedup id was seen in the last 5 minutes).
    public func send(to name: String, _ message: OutgoingMessage) async throws -> SentMessage {
        let results = try await sendBatch(to: name, [message])
        switch results[0] {
        case .success(let sent): return sent
        case .failure(let error): throw error
        }
    }

    /// `SendMessageBatch`: each entry validated on its own; the valid ones are committed together.
    public func sendBatch(to name: String, _ messages: [OutgoingMessage]) async throws -> [Result<
        SentMessage, QueueError
    >] {
        let queue = try await queue(named: name)
        let now = clock.now()
        let results = try await writer.write { db in
            _ = try Self.record(db, name)
            try db.execute(
                sql: "DELETE FROM sqsDeduplication WHERE queue = ? AND expiresAt <= ?", arguments: [name, now])
            var results: [Result<SentMessage, QueueError>] = []
            for message in messages {
                do throws(QueueError) {
                    try Self.validate(message, for: queue)
                } catch {
                    results.append(.failure(error))
                    continue
                }
                results.append(.success(try self.insert(db, message, queue: queue, now: now)))
            }
            return results
        }
        signals.signal(name)
        return results
    }

    private func insert(_ db: Database, _ message: OutgoingMessage, queue: QueueDefinition, now: Int64) throws
        -> SentMessage
    {
        let md5Attributes = MessageDigest.attributes(message.attributes)
        var deduplicationID: String?
        if queue.fifo {
            let id = message.deduplicationID ?? MessageDigest.contentDeduplicationID(message.body)
            deduplicationID = id
            if let seen = try DeduplicationRecord.fetchOne(db, key: ["queue": queue.name, "deduplicationID": id]) {
                return SentMessage(
                    messageID: seen.messageID, md5OfBody: MessageDigest.body(message.body),
                    md5OfAttributes: md5Attributes,
                    sequenceNumber: MessageRecord.sequenceNumber(seen.sequence))
            }
        }
        let attributesJSON =
            message.attributes.isEmpty
            ? nil : String(decoding: try JSONEncoder().encode(message.attributes), as: UTF8.self)
        let delay = Int64(message.delaySeconds ?? queue.delaySeconds) * 1000
        var record = MessageRecord(
            queue: queue.name, messageID: UUID().uuidString.lowercased(), body: message.body,
            messageAttributes: attributesJSON, traceHeader: message.traceHeader, sentAt: now, visibleAt: now + delay,
            groupID: queue.fifo ? message.groupID : nil, deduplicationID: deduplicationID)
        try record.insert(db)
        let sequence = record.sequence ?? 0
        if let deduplicationID {
            try DeduplicationRecord(
                queue: queue.name, deduplicationID: deduplicationID, messageID: record.messageID, sequence: sequence,
                expiresAt: now + Self.deduplicationWindow
            ).insert(db)
        }
        return SentMessage(
            messageID: record.messageID, md5OfBody: MessageDigest.body(message.body), md5OfAttributes: md5Attributes,
            sequenceNumber: queue.fifo ? MessageRecord.sequenceNumber(sequence) : nil)
    }

    // MARK: receive

    /// `ReceiveMessage`: returns what is visible now, or long-polls until something is (woken by sends).
    public func receive(from name: String, _ request: ReceiveRequest) async throws -> [ReceivedMessage] {
        let queue = try await queue(named: name)
        let wait = request.waitSeconds ?? queue.receiveMessageWaitTimeSeconds
        let deadline = ContinuousClock.now + .seconds(wait)
        while true {
            let generation = signals.generation(of: name)
            let (messages, nextVisible) = try await receiveOnce(name, request)
            if !messages.isEmpty { return messages }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if wait == 0 || remaining <= .zero || Task.isCancelled || signals.isClosed { return [] }
            // The poll's own wait is real time (it is the client's), a hidden message's return is host-clock time.
            await signals.wait(queue: name, after: generation, timeout: remaining, orUntil: nextVisible, on: clock)
        }
    }

    /// One attempt: moves poison messages to the DLQ, delivers up to `maximum`, and reports when
    /// the next hidden message becomes visible (so a long poll can wake for it).
    private func receiveOnce(_ name: String, _ request: ReceiveRequest) async throws -> ([ReceivedMessage], Int64?) {
        let now = clock.now()
        let (messages, next, movedTo) = try await writer.write { db -> ([ReceivedMessage], Int64?, String?) in
            var deadLetterQueue: String?
            let queue = try Self.record(db, name)
            let definition = queue.definition
            try db.execute(
                sql: "DELETE FROM sqsMessage WHERE queue = ? AND sentAt + ? <= ?",
                arguments: [name, Int64(queue.messageRetentionPeriod) * 1000, now])
            var maxReceiveCount: Int?
            if let redrive = definition.redrive,
                let target = self.account.queueName(fromARN: redrive.deadLetterTargetARN),
                target != name, try QueueRecord.fetchOne(db, key: target) != nil
            {
                maxReceiveCount = redrive.maxReceiveCount
                deadLetterQueue = target
            }
            let blocked: Set<String> =
                definition.fifo
                ? Set(
                    try String.fetchAll(
                        db,
                        sql:
                            "SELECT DISTINCT groupID FROM sqsMessage WHERE queue = ? AND receiptToken IS NOT NULL AND visibleAt > ? AND groupID IS NOT NULL",
                        arguments: [name, now]))
                : []
            // Messages of a blocked FIFO group are left out in SQL, not after it: otherwise one big
            // group with a message in flight fills the candidate window and starves every other group.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT sequence, receiveCount, groupID FROM sqsMessage WHERE queue = ? AND visibleAt <= ?
                      AND (groupID IS NULL OR groupID NOT IN (
                        SELECT groupID FROM sqsMessage WHERE queue = ? AND receiptToken IS NOT NULL AND visibleAt > ?
                          AND groupID IS NOT NULL))
                    ORDER BY sequence LIMIT ?
                    """,
                arguments: [name, now, name, now, max(100, request.maximum * 20)])
            let plan = ReceivePlan(
                candidates: rows.map {
                    .init(sequence: $0["sequence"], receiveCount: $0["receiveCount"], groupID: $0["groupID"])
                },
                maximum: request.maximum, maxReceiveCount: maxReceiveCount, fifo: definition.fifo,
                blockedGroups: blocked)
            let sourceARN = self.account.queueARN(name)
            for sequence in plan.moveToDeadLetterQueue {
                try db.execute(
                    sql:
                        "UPDATE sqsMessage SET queue = ?, receiptToken = NULL, visibleAt = ?, deadLetterSourceARN = ? WHERE sequence = ?",
                    arguments: [deadLetterQueue, now, sourceARN, sequence])
            }
            let hidden = Int64(request.visibilityTimeout ?? definition.visibilityTimeout) * 1000
            var delivered: [ReceivedMessage] = []
            for sequence in plan.deliver {
                let token = UUID().uuidString
                try db.execute(
                    sql: """
                        UPDATE sqsMessage SET receiptToken = ?, receiveCount = receiveCount + 1,
                          firstReceivedAt = COALESCE(firstReceivedAt, ?), visibleAt = ? WHERE sequence = ?
                        """, arguments: [token, now, now + hidden, sequence])
                guard let record = try MessageRecord.fetchOne(db, key: sequence) else { continue }
                delivered.append(try self.received(record, token: token))
            }
            let next = try Int64.fetchOne(
                db, sql: "SELECT MIN(visibleAt) FROM sqsMessage WHERE queue = ? AND visibleAt > ?",
                arguments: [name, now])
            return (delivered, next, plan.moveToDeadLetterQueue.isEmpty ? nil : deadLetterQueue)
        }
        if let movedTo { signals.signal(movedTo) }
        return (messages, next)
    }

    private func received(_ record: MessageRecord, token: String) throws -> ReceivedMessage {
        var system: [String: String] = [
            "SenderId": "AIDAFNHOST\(account.accountID)",
            "SentTimestamp": String(record.sentAt),
            "ApproximateReceiveCount": String(record.receiveCount),
            "ApproximateFirstReceiveTimestamp": String(record.firstReceivedAt ?? record.sentAt),
        ]
        if let trace = record.traceHeader { system["AWSTraceHeader"] = trace }
        if let source = record.deadLetterSourceARN { system["DeadLetterQueueSourceArn"] = source }
        if let group = record.groupID {
            system["MessageGroupId"] = group
            system["SequenceNumber"] = MessageRecord.sequenceNumber(record.sequence ?? 0)
            if let dedup = record.deduplicationID { system["MessageDeduplicationId"] = dedup }
        }
        let attributes =
            try record.messageAttributes.map {
                try JSONDecoder().decode([String: MessageAttributeValue].self, from: Data($0.utf8))
            } ?? [:]
        return ReceivedMessage(
            messageID: record.messageID,
            receiptHandle: ReceiptHandle(queue: record.queue, messageID: record.messageID, token: token).text,
            body: record.body, attributes: attributes, systemAttributes: system)
    }

    // MARK: delete and visibility

    /// `DeleteMessage`: deletes the message a handle names (a handle of an already deleted message succeeds, as on SQS).
    public func delete(from name: String, receiptHandle: String) async throws {
        let handle = try ReceiptHandle(parsing: receiptHandle, queue: name)
        try await writer.write { db in
            try Self.deleteMessage(db, queue: try Self.record(db, name), handle)
        }
        signals.signal(name)
    }

    /// `DeleteMessageBatch`: every valid handle's message deleted in one transaction; a bad handle fails alone.
    public func deleteBatch(from name: String, receiptHandles: [String]) async throws -> [QueueError?] {
        let handles = receiptHandles.map { text in Result { () throws(QueueError) in try ReceiptHandle(parsing: text, queue: name) } }
        let outcomes = try await writer.write { db -> [QueueError?] in
            let queue = try Self.record(db, name)
            return try handles.map { parsed -> QueueError? in
                do {
                    try Self.deleteMessage(db, queue: queue, try parsed.get())
                    return nil
                } catch let error as QueueError {
                    return error
                }
            }
        }
        signals.signal(name)
        return outcomes
    }

    /// Deletes the message a handle names, if the handle is still that message's latest receipt. A
    /// stale handle (the message was received again since) deletes nothing: a standard queue answers
    /// success all the same, as SQS does; a FIFO queue refuses it.
    static func deleteMessage(_ db: Database, queue: QueueRecord, _ handle: ReceiptHandle) throws {
        try db.execute(
            sql: "DELETE FROM sqsMessage WHERE queue = ? AND messageID = ? AND receiptToken = ?",
            arguments: [queue.name, handle.messageID, handle.token])
        if queue.fifo, db.changesCount == 0,
            try MessageRecord.filter(Column("queue") == queue.name && Column("messageID") == handle.messageID).fetchCount(db)
                > 0
        {
            throw QueueError(.receiptHandleIsInvalid, "The receipt handle has expired.")
        }
    }

    /// `ChangeMessageVisibility`: hides an in-flight message for `timeout` seconds from now (0 = visible now).
    public func changeVisibility(of name: String, receiptHandle: String, timeout: Int) async throws {
        let handle = try ReceiptHandle(parsing: receiptHandle, queue: name)
        guard QueueDefinition.visibilityTimeoutRange.contains(timeout) else {
            throw QueueError.invalidValue(timeout, "VisibilityTimeout", "Must be >= 0 and <= 43200.")
        }
        let now = clock.now()
        try await writer.write { db in
            _ = try Self.record(db, name)
            guard
                let record = try MessageRecord.filter(
                    Column("queue") == name && Column("messageID") == handle.messageID
                )
                .fetchOne(db), record.receiptToken == handle.token, record.visibleAt > now
            else {
                throw QueueError(
                    .messageNotInflight,
                    "Value \(receiptHandle) for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
                )
            }
            try db.execute(
                sql: "UPDATE sqsMessage SET visibleAt = ? WHERE sequence = ?",
                arguments: [now + Int64(timeout) * 1000, record.sequence])
        }
        if timeout == 0 { signals.signal(name) }
    }
}

/// A receipt handle: base64 of queue, message id and a fresh token per receive.
struct ReceiptHandle: Hashable {
    var queue: String
    var messageID: String
    var token: String

    init(queue: String, messageID: String, token: String) {
        self.queue = queue
        self.messageID = messageID
        self.token = token
    }

    /// Parses a handle of `queue`; anything else is `ReceiptHandleIsInvalid`.
    init(parsing text: String, queue: String) throws(QueueError) {
        guard let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8) else {
            throw QueueError(
                .receiptHandleIsInvalid, "The input receipt handle \"\(text)\" is not a valid receipt handle.")
        }
        let parts = decoded.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[0] == queue else {
            throw QueueError(
                .receiptHandleIsInvalid, "The input receipt handle \"\(text)\" is not a valid receipt handle.")
        }
        self.init(queue: parts[0], messageID: parts[1], token: parts[2])
    }

    var text: String { Data("\(queue)\n\(messageID)\n\(token)".utf8).base64EncodedString() }
}
