import CoreMetrics
import FunctionHostCore
import Foundation
import FunctionHostStore
import GRDB

/// The embedded SQS-compatible queue: queues and messages in the host's SQLite state, with
/// visibility timeouts, delays, retention, redrive to a dead-letter queue, FIFO groups and
/// deduplication, and long polls woken in-process when a message arrives.
///
/// Every accepted message is committed before the call returns. Time comes from the injected
/// host clock (``HostClock``). Thread-safe; throws ``QueueError`` (or a database error, which the SQS
/// endpoint reports as `InternalError`).
public final class QueueEngine: QueueSender, Sendable {
    let writer: any DatabaseWriter
    /// Every write goes through it: concurrent sends, receives and deletes share one transaction.
    let commits: GroupCommit
    public let account: AccountContext
    let clock: any HostClock
    let signals = QueueSignals()
    let metrics: QueueMetrics?
    /// Every received message's `SenderId`.
    let senderID: String

    /// FIFO deduplication window (5 minutes).
    static let deduplicationWindow: Int64 = 300_000
    /// Seconds after a purge during which another purge is refused.
    static let purgeInterval: Int64 = 60_000

    public init(
        writer: any DatabaseWriter, account: AccountContext, clock: any HostClock = WallClock(),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.writer = writer
        commits = GroupCommit(writer: writer)
        self.account = account
        self.clock = clock
        senderID = "AIDAFNHOST\(account.accountID)"
        metrics = metricsFactory.map { QueueMetrics(factory: $0) }
    }

    // MARK: queues

    /// Creates the template's queues, or brings existing ones to the template's attributes.
    public func ensure(_ definitions: [QueueDefinition]) async throws {
        let now = clock.now()
        try await commits.write { db in
            for definition in definitions {
                if var existing = try QueueRecord.fetchOne(db, key: definition.name) {
                    guard !existing.sameAttributes(as: definition) || existing.logicalID != definition.logicalID else {
                        continue
                    }
                    var updated = QueueRecord(definition, now: now)
                    updated.createdAt = existing.createdAt
                    updated.purgedAt = existing.purgedAt
                    existing = updated
                    try existing.update(db)
                } else {
                    try QueueRecord(definition, now: now).insert(db)
                }
            }
        }
    }

    /// `CreateQueue`: idempotent for identical attributes; `QueueNameExists` otherwise.
    public func createQueue(name: String, attributes: [String: String]) async throws -> QueueDefinition {
        var definition = QueueDefinition(name: name)
        definition.fifo = attributes["FifoQueue"]?.lowercased() == "true"
        try QueueAttributes.apply(attributes, to: &definition, creating: true, account: account)
        guard QueueDefinition.isValidName(name, fifo: definition.fifo) else {
            throw QueueError(
                .invalidParameterValue,
                definition.fifo || name.hasSuffix(".fifo")
                    ? "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."
                    : "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
        }
        let now = clock.now()
        let final = definition
        return try await commits.write { db in
            if let existing = try QueueRecord.fetchOne(db, key: name) {
                var requested = existing.definition
                try QueueAttributes.apply(attributes, to: &requested, creating: true, account: self.account)
                guard requested == existing.definition else {
                    let differing = attributes.keys.sorted().first ?? "FifoQueue"
                    throw QueueError(
                        .queueNameExists,
                        "A queue already exists with the same name and a different value for attribute \(differing)")
                }
                return existing.definition
            }
            try QueueRecord(final, now: now).insert(db)
            return final
        }
    }

    /// The queue named, or `QueueDoesNotExist`.
    public func queue(named name: String) async throws -> QueueDefinition {
        try await writer.read { db in try Self.record(db, name).definition }
    }

    static func record(_ db: Database, _ name: String) throws -> QueueRecord {
        let statement = try db.cachedStatement(sql: "SELECT * FROM sqsQueue WHERE name = ?")
        guard let record = try QueueRecord.fetchOne(statement, arguments: [name]) else { throw QueueError.noQueue }
        return record
    }

    /// Names of all queues, sorted, optionally those starting with `prefix`.
    public func queueNames(prefix: String? = nil) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqsQueue ORDER BY name").filter { name in
                prefix.map { name.hasPrefix($0) } ?? true
            }
        }
    }

    /// `GetQueueAttributes`.
    public func attributes(of name: String, names: [String]) async throws -> [String: String] {
        let now = clock.now()
        return try await writer.read { db in
            let record = try Self.record(db, name)
            return try QueueAttributes.render(
                record, depth: try Self.depth(db, name, now: now), names: names, account: self.account)
        }
    }

    /// `SetQueueAttributes`.
    public func setAttributes(of name: String, _ attributes: [String: String]) async throws {
        let now = clock.now()
        try await commits.write { db in
            var record = try Self.record(db, name)
            var definition = record.definition
            try QueueAttributes.apply(attributes, to: &definition, creating: false, account: self.account)
            var updated = QueueRecord(definition, now: now)
            updated.createdAt = record.createdAt
            updated.purgedAt = record.purgedAt
            record = updated
            try record.update(db)
        }
        signals.signal(name)
    }

    /// `PurgeQueue`: deletes every message; a second purge within 60 s is `PurgeQueueInProgress`.
    public func purge(_ name: String) async throws {
        let now = clock.now()
        try await commits.write { db in
            var record = try Self.record(db, name)
            if let purgedAt = record.purgedAt, now - purgedAt < Self.purgeInterval {
                throw QueueError(
                    .purgeQueueInProgress,
                    "Only one PurgeQueue operation on \(name) is allowed every 60 seconds.")
            }
            record.purgedAt = now
            try record.update(db)
            try db.execute(sql: "DELETE FROM sqsMessage WHERE queue = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM sqsDeduplication WHERE queue = ?", arguments: [name])
        }
    }

    /// `DeleteQueue`: the queue and its messages.
    public func deleteQueue(_ name: String) async throws {
        try await commits.write { db in
            _ = try Self.record(db, name)
            try db.execute(sql: "DELETE FROM sqsMessage WHERE queue = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM sqsQueue WHERE name = ?", arguments: [name])
        }
        signals.signal(name)
    }

    /// A queue's counts. Visible messages are counted in the index alone; only hidden ones (few,
    /// next to a backlog) are read to tell in-flight from delayed.
    static func depth(_ db: Database, _ name: String, now: Int64) throws -> QueueAttributes.Depth {
        let visible =
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM sqsMessage WHERE queue = ? AND visibleAt <= ?"),
                arguments: [name, now]) ?? 0
        let hidden = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT COALESCE(SUM(receiptToken IS NOT NULL), 0) AS inFlight,
                      COALESCE(SUM(receiptToken IS NULL), 0) AS delayed
                    FROM sqsMessage WHERE queue = ? AND visibleAt > ?
                    """), arguments: [name, now])
        return .init(visible: visible, inFlight: hidden?["inFlight"] ?? 0, delayed: hidden?["delayed"] ?? 0)
    }

    /// Every queue with its message counts (`fnhost queues`, `/metrics`).
    /// Awaited, never read synchronously: a blocking SQLite read would hold one of the few threads
    /// every task of the host runs on (concurrent `/metrics` scrapes deadlocked a 2-core host).
    public func depths() async throws -> [QueueDepthReport] {
        let now = clock.now()
        return try await writer.read { db in try Self.depths(db, now: now) }
    }

    /// Every queue of a database with its message counts; works on a read-only connection too.
    public static func depths(_ reader: any DatabaseReader, now: Int64) throws -> [QueueDepthReport] {
        try reader.read { db in try depths(db, now: now) }
    }

    static func depths(_ db: Database, now: Int64) throws -> [QueueDepthReport] {
        try String.fetchAll(db, sql: "SELECT name FROM sqsQueue ORDER BY name").map { name in
            let depth = try Self.depth(db, name, now: now)
            return QueueDepthReport(name: name, visible: depth.visible, inFlight: depth.inFlight, delayed: depth.delayed)
        }
    }

    // MARK: QueueSender

    public func send(toQueueARN arn: String, body: String, attributes: [String: QueueMessageAttribute]) async throws {
        guard let name = account.queueName(fromARN: arn) else { throw QueueError.noQueue }
        var values: [String: MessageAttributeValue] = [:]
        for (key, attribute) in attributes {
            if attribute.dataType.hasPrefix("Binary") {
                values[key] = MessageAttributeValue(
                    dataType: attribute.dataType,
                    binaryValue: Data(base64Encoded: attribute.stringValue) ?? Data(attribute.stringValue.utf8))
            } else {
                values[key] = MessageAttributeValue(dataType: attribute.dataType, stringValue: attribute.stringValue)
            }
        }
        var message = OutgoingMessage(body: body, attributes: values)
        let queue = try await queue(named: name)
        if queue.fifo {
            message.groupID = "fnhost"
            if !queue.contentBasedDeduplication { message.deduplicationID = UUID().uuidString }
        }
        _ = try await send(to: name, message)
    }
}

/// A queue's message counts by state, as `fnhost queues` and `/metrics` show them.
public struct QueueDepthReport: Sendable, Hashable {
    public var name: String
    public var visible: Int
    public var inFlight: Int
    public var delayed: Int
}
