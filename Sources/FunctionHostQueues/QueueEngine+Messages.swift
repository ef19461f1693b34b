import FunctionHostCore
import FunctionHostStore
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
        let now = clock.now()
        let results = try await commits.write { db in
            let queue = try Self.record(db, name).definition
            if queue.fifo {
                try db.cachedStatement(sql: "DELETE FROM sqsDeduplication WHERE queue = ? AND expiresAt <= ?")
                    .execute(arguments: [name, now])
            }
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
        let messageID = UUID().uuidString.lowercased()
        // A prepared statement, reused: a record's generic insert encoded every column by name.
        try db.cachedStatement(
            sql: """
                INSERT INTO sqsMessage (queue, messageID, body, messageAttributes, traceHeader, sentAt, visibleAt,
                  groupID, deduplicationID) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            queue.name, messageID, message.body, attributesJSON, message.traceHeader, now, now + delay,
            queue.fifo ? message.groupID : nil, deduplicationID,
        ])
        let sequence = db.lastInsertedRowID
        if let deduplicationID {
            try DeduplicationRecord(
                queue: queue.name, deduplicationID: deduplicationID, messageID: messageID, sequence: sequence,
                expiresAt: now + Self.deduplicationWindow
            ).insert(db)
        }
        return SentMessage(
            messageID: messageID, md5OfBody: MessageDigest.body(message.body), md5OfAttributes: md5Attributes,
            sequenceNumber: queue.fifo ? MessageRecord.sequenceNumber(sequence) : nil)
    }

    // MARK: receive

    /// `ReceiveMessage`: returns what is visible now, or long-polls until something is (woken by sends).
    public func receive(from name: String, _ request: ReceiveRequest) async throws -> [ReceivedMessage] {
        let started = ContinuousClock.now
        while true {
            let generation = signals.generation(of: name)
            let attempt = try await receiveOnce(name, request)
            if !attempt.messages.isEmpty { return attempt.messages }
            let wait = request.waitSeconds ?? attempt.queue.receiveMessageWaitTimeSeconds
            let remaining = ContinuousClock.now.duration(to: started + .seconds(wait))
            if wait == 0 || remaining <= .zero || Task.isCancelled || signals.isClosed { return [] }
            // The poll's own wait is real time (it is the client's), a hidden message's return is host-clock time.
            await signals.wait(
                queue: name, after: generation, timeout: remaining, orUntil: attempt.nextVisible, on: clock)
        }
    }

    /// What one receive attempt found.
    private struct ReceiveAttempt: Sendable {
        var messages: [ReceivedMessage]
        var queue: QueueDefinition
        /// When the next hidden message becomes visible (asked only when nothing was delivered).
        var nextVisible: Int64?
    }

    /// One attempt, one transaction of a few statements whatever the count: drops expired
    /// messages, moves poison messages to the DLQ, and delivers up to `maximum` under one fresh
    /// receipt token (the handle also names the message, so each stays distinct).
    private func receiveOnce(_ name: String, _ request: ReceiveRequest) async throws -> ReceiveAttempt {
        let now = clock.now()
        let (attempt, movedTo) = try await commits.write { db -> (ReceiveAttempt, String?) in
            let definition = try Self.record(db, name).definition
            try db.cachedStatement(sql: "DELETE FROM sqsMessage WHERE queue = ? AND sentAt <= ?")
                .execute(arguments: [name, now - Int64(definition.messageRetentionPeriod) * 1000])
            var maxReceiveCount: Int?
            var deadLetterQueue: String?
            if let redrive = definition.redrive,
                let target = self.account.queueName(fromARN: redrive.deadLetterTargetARN),
                target != name, try Self.exists(db, target)
            {
                maxReceiveCount = redrive.maxReceiveCount
                deadLetterQueue = target
            }
            let plan = try Self.plan(
                db, definition, maximum: request.maximum, maxReceiveCount: maxReceiveCount, now: now)
            if let deadLetterQueue, !plan.moveToDeadLetterQueue.isEmpty {
                try Self.statement(
                    db, listing: plan.moveToDeadLetterQueue.count,
                    sql: """
                        UPDATE sqsMessage SET queue = ?, receiptToken = NULL, visibleAt = ?, deadLetterSourceARN = ?
                        WHERE sequence IN (\(Self.placeholders(plan.moveToDeadLetterQueue.count)))
                        """
                ).execute(
                    arguments: [deadLetterQueue, now, self.account.queueARN(name)]
                        + StatementArguments(plan.moveToDeadLetterQueue))
            }
            var delivered: [ReceivedMessage] = []
            if !plan.deliver.isEmpty {
                let token = UUID().uuidString
                let hidden = Int64(request.visibilityTimeout ?? definition.visibilityTimeout) * 1000
                let rows = try Row.fetchAll(
                    Self.statement(
                        db, listing: plan.deliver.count,
                        sql: """
                            UPDATE sqsMessage SET receiptToken = ?, receiveCount = receiveCount + 1,
                              firstReceivedAt = COALESCE(firstReceivedAt, ?), visibleAt = ?
                            WHERE sequence IN (\(Self.placeholders(plan.deliver.count))) RETURNING *
                            """),
                    arguments: [token, now, now + hidden] + StatementArguments(plan.deliver))
                // RETURNING comes in no particular order: hand out in the plan's.
                let records = Dictionary(
                    rows.map(MessageRecord.init(row:)).map { ($0.sequence, $0) }, uniquingKeysWith: { $1 })
                delivered = try plan.deliver.compactMap { records[$0] }.map { try self.received($0, token: token) }
            }
            let next = delivered.isEmpty ? try Self.nextVisible(db, name, after: now) : nil
            return (
                ReceiveAttempt(messages: delivered, queue: definition, nextVisible: next),
                plan.moveToDeadLetterQueue.isEmpty ? nil : deadLetterQueue
            )
        }
        if let movedTo { signals.signal(movedTo) }
        return attempt
    }

    /// Reads the candidates of a receive and asks ``ReceivePlan`` what to deliver and what to redrive.
    private static func plan(
        _ db: Database, _ definition: QueueDefinition, maximum: Int, maxReceiveCount: Int?, now: Int64
    ) throws -> ReceivePlan {
        let name = definition.name
        let rows: [Row]
        var blocked: Set<String> = []
        if definition.fifo {
            blocked = Set(
                try String.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT DISTINCT groupID FROM sqsMessage WHERE queue = ? AND receiptToken IS NOT NULL
                              AND visibleAt > ? AND groupID IS NOT NULL
                            """), arguments: [name, now]))
            // Messages of a blocked FIFO group are left out in SQL, not after it: otherwise one big
            // group with a message in flight fills the candidate window and starves every other group.
            // Send order is the table's own order: read in it (a sort of every visible message costs
            // milliseconds at tens of thousands).
            rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT sequence, receiveCount, groupID FROM sqsMessage NOT INDEXED
                        WHERE queue = ? AND visibleAt <= ?
                          AND (groupID IS NULL OR groupID NOT IN (
                            SELECT groupID FROM sqsMessage WHERE queue = ? AND receiptToken IS NOT NULL AND visibleAt > ?
                              AND groupID IS NOT NULL))
                        ORDER BY sequence LIMIT ?
                        """), arguments: [name, now, name, now, max(100, maximum * 20)])
        } else {
            // A standard queue hands out messages in the order they became visible (send order for
            // messages visible at the same moment): the order of its index, so nothing is sorted and
            // the read stops at the limit. Without redrive every candidate is delivered: read no more than wanted.
            rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT sequence, receiveCount, groupID FROM sqsMessage WHERE queue = ? AND visibleAt <= ?
                        ORDER BY visibleAt, sequence LIMIT ?
                        """), arguments: [name, now, maxReceiveCount == nil ? maximum : max(100, maximum * 20)])
        }
        return ReceivePlan(
            candidates: rows.map {
                .init(sequence: $0["sequence"], receiveCount: $0["receiveCount"], groupID: $0["groupID"])
            },
            maximum: maximum, maxReceiveCount: maxReceiveCount, fifo: definition.fifo, blockedGroups: blocked)
    }

    /// When the queue's next hidden message becomes visible, if one is hidden.
    static func nextVisible(_ db: Database, _ name: String, after now: Int64) throws -> Int64? {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT MIN(visibleAt) FROM sqsMessage WHERE queue = ? AND visibleAt > ?"),
            arguments: [name, now])
    }

    /// Lists up to this long (SQS's batch limit) get prepared statements kept for reuse; longer
    /// ones (a mapping's batch holds up to 10,000 handles) are prepared each time, or every length
    /// would stay cached as a statement of its own.
    static let cachedListLength = 10

    /// The statement for `sql`, whose lists hold `listing` values.
    static func statement(_ db: Database, listing: Int, sql: String) throws -> Statement {
        listing <= cachedListLength ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }

    /// `(?, ?), (?, ?)` for `count` receipt handles (message id, token) in a `VALUES` list.
    static func handleRows(_ count: Int) -> String {
        Array(repeating: "(?, ?)", count: max(1, count)).joined(separator: ", ")
    }

    /// `?, ?, ?` for an `IN` list of `count` values.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: max(1, count)).joined(separator: ", ")
    }

    /// Whether a queue named `name` exists.
    static func exists(_ db: Database, _ name: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM sqsQueue WHERE name = ?"), arguments: [name]) ?? false
    }

    private func received(_ record: MessageRecord, token: String) throws -> ReceivedMessage {
        var system: [String: String] = [
            "SenderId": senderID,
            "SentTimestamp": String(record.sentAt),
            "ApproximateReceiveCount": String(record.receiveCount),
            "ApproximateFirstReceiveTimestamp": String(record.firstReceivedAt ?? record.sentAt),
        ]
        if let trace = record.traceHeader { system["AWSTraceHeader"] = trace }
        if let source = record.deadLetterSourceARN { system["DeadLetterQueueSourceArn"] = source }
        if let group = record.groupID {
            system["MessageGroupId"] = group
            system["SequenceNumber"] = MessageRecord.sequenceNumber(record.sequence)
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
        if let error = try await deleteBatch(from: name, receiptHandles: [receiptHandle]).first ?? nil { throw error }
    }

    /// `DeleteMessageBatch`: every valid handle's message deleted by one statement; a bad handle fails alone.
    ///
    /// A handle is deleted only while it is still its message's latest receipt. A stale handle (the
    /// message was received again since) deletes nothing: a standard queue answers success all the
    /// same, as SQS does; a FIFO queue refuses it with `ReceiptHandleIsInvalid`.
    public func deleteBatch(from name: String, receiptHandles: [String]) async throws -> [QueueError?] {
        let handles = receiptHandles.map { text in
            Result { () throws(QueueError) in try ReceiptHandle(parsing: text, queue: name) }
        }
        let valid = handles.compactMap { try? $0.get() }
        let (fifo, stale) = try await commits.write { db -> (Bool, Set<String>) in
            let fifo = try Self.record(db, name).fifo
            guard !valid.isEmpty else { return (fifo, []) }
            let deleted = Set(
                try String.fetchAll(
                    Self.statement(
                        db, listing: valid.count,
                        sql: """
                            DELETE FROM sqsMessage WHERE sequence IN (
                              SELECT message.sequence FROM (VALUES \(Self.handleRows(valid.count))) AS handle
                              JOIN sqsMessage AS message ON message.messageID = handle.column1 AND message.receiptToken = handle.column2
                              WHERE message.queue = ?)
                            RETURNING messageID
                            """),
                    arguments: StatementArguments(valid.flatMap { [$0.messageID, $0.token] }) + [name]))
            let missed = valid.map(\.messageID).filter { !deleted.contains($0) }
            guard fifo, !missed.isEmpty else { return (fifo, []) }
            // A FIFO queue refuses a handle whose message is still there under a newer receipt.
            let stale = try String.fetchAll(
                Self.statement(
                    db, listing: missed.count,
                    sql: """
                        SELECT messageID FROM sqsMessage
                        WHERE queue = ? AND messageID IN (\(Self.placeholders(missed.count)))
                        """),
                arguments: [name] + StatementArguments(missed))
            return (fifo, Set(stale))
        }
        // A deletion frees a FIFO group; in a standard queue it makes nothing receivable.
        if fifo { signals.signal(name) }
        return handles.map { parsed in
            switch parsed {
            case .failure(let error): return error
            case .success(let handle):
                return stale.contains(handle.messageID)
                    ? QueueError(.receiptHandleIsInvalid, "The receipt handle has expired.") : nil
            }
        }
    }

    /// `ChangeMessageVisibility`: hides an in-flight message for `timeout` seconds from now (0 = visible now).
    public func changeVisibility(of name: String, receiptHandle: String, timeout: Int) async throws {
        let handle = try ReceiptHandle(parsing: receiptHandle, queue: name)
        guard QueueDefinition.visibilityTimeoutRange.contains(timeout) else {
            throw QueueError.invalidValue(timeout, "VisibilityTimeout", "Must be >= 0 and <= 43200.")
        }
        let now = clock.now()
        try await commits.write { db in
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

    /// Makes in-flight messages visible again at once, in one statement (a mapping's throttled
    /// batch going back); a handle whose message is gone or was received again since changes nothing.
    public func release(from name: String, receiptHandles: [String]) async throws {
        let handles = receiptHandles.compactMap { try? ReceiptHandle(parsing: $0, queue: name) }
        guard !handles.isEmpty else { return }
        let now = clock.now()
        try await commits.write { db in
            try Self.statement(
                db, listing: handles.count,
                sql: """
                    UPDATE sqsMessage SET visibleAt = ? WHERE sequence IN (
                      SELECT message.sequence FROM (VALUES \(Self.handleRows(handles.count))) AS handle
                      JOIN sqsMessage AS message ON message.messageID = handle.column1 AND message.receiptToken = handle.column2
                      WHERE message.queue = ? AND message.visibleAt > ?)
                    """
            ).execute(
                arguments: [now] + StatementArguments(handles.flatMap { [$0.messageID, $0.token] }) + [name, now])
        }
        signals.signal(name)
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
