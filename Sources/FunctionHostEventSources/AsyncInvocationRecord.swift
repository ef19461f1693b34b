import Foundation
import FunctionHostStore
import GRDB

/// One accepted `Event` invocation that has not finished yet: a row of `asyncInvocation`.
///
/// The row is inserted (and committed) before the caller gets its 202 and deleted only once the
/// event succeeded or was given up and its destinations were served, so a host killed at any
/// moment runs every accepted event again after a restart (at least once).
struct AsyncInvocationRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "asyncInvocation"

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let functionName = Column(CodingKeys.functionName)
        static let notBefore = Column(CodingKeys.notBefore)
        static let enqueuedAt = Column(CodingKeys.enqueuedAt)
    }

    var id: Int64?
    /// The request id of every attempt (and of the records sent to destinations).
    var requestID: String
    var functionName: String
    /// The ARN the caller invoked (handed to the runtime).
    var invokedFunctionARN: String
    var traceID: String
    /// The event, exactly as accepted (JSON).
    var payload: Data
    /// Seconds on the queue clock when the event was accepted.
    var enqueuedAt: Double
    /// Seconds on the queue clock before which the event must not run (retry delay).
    var notBefore: Double
    /// Attempts started so far (`approximateInvokeCount`), each counted before it starts.
    var attempts: Int
    /// Set once the event is decided (`Success` or the failure condition) while a destination or the
    /// dead-letter queue could not be reached yet: later tries deliver, they never run the function again.
    var outcome: String? = nil
    /// The function's last response (and its `X-Amz-Function-Error`), kept with ``outcome``.
    var response: Data? = nil
    var functionError: String? = nil
    /// Failed deliveries so far: the backoff before the next try.
    var deliveryFailures = 0

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    init(
        id: Int64? = nil, requestID: String, functionName: String, invokedFunctionARN: String, traceID: String,
        payload: Data, enqueuedAt: Double, notBefore: Double, attempts: Int, outcome: String? = nil,
        response: Data? = nil, functionError: String? = nil, deliveryFailures: Int = 0
    ) {
        self.id = id
        self.requestID = requestID
        self.functionName = functionName
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
        self.payload = payload
        self.enqueuedAt = enqueuedAt
        self.notBefore = notBefore
        self.attempts = attempts
        self.outcome = outcome
        self.response = response
        self.functionError = functionError
        self.deliveryFailures = deliveryFailures
    }

    /// Read by column, not through `Decodable`: the dispatcher reads every event it starts. A value
    /// that does not decode throws, as `Decodable` would.
    init(row: Row) throws {
        self.init(
            id: try row.decode(forColumn: "id"), requestID: try row.decode(forColumn: "requestID"),
            functionName: try row.decode(forColumn: "functionName"),
            invokedFunctionARN: try row.decode(forColumn: "invokedFunctionARN"), traceID: try row.decode(forColumn: "traceID"),
            payload: try row.decode(forColumn: "payload"), enqueuedAt: try row.decode(forColumn: "enqueuedAt"),
            notBefore: try row.decode(forColumn: "notBefore"), attempts: try row.decode(forColumn: "attempts"),
            outcome: try row.decode(forColumn: "outcome"), response: try row.decode(forColumn: "response"),
            functionError: try row.decode(forColumn: "functionError"),
            deliveryFailures: try row.decode(forColumn: "deliveryFailures"))
    }

    // Every accepted event is inserted once, read once and deleted once (the insert and the delete
    // inside a shared commit), where GRDB's record methods (Codable encoding, a statement prepared
    // per call) cost ≈ 50 µs a row: these use cached statements.

    /// Inserts a just-accepted event (no attempt, outcome or delivery yet).
    func insertNew(_ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO asyncInvocation (requestID, functionName, invokedFunctionARN, traceID, payload, enqueuedAt, notBefore, attempts)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [requestID, functionName, invokedFunctionARN, traceID, payload, enqueuedAt, notBefore, attempts])
    }

    /// The event with this id, if it is still queued.
    static func fetchOne(id: Int64, _ db: Database) throws -> AsyncInvocationRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM asyncInvocation WHERE id = ?"), arguments: [id])
            .map { try AsyncInvocationRecord(row: $0) }
    }

    /// Records that an attempt of the event starts (`attempts` counts it).
    static func countAttempt(id: Int64, attempts: Int, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE asyncInvocation SET attempts = ? WHERE id = ?")
            .execute(arguments: [attempts, id])
    }

    /// Removes a finished event.
    static func delete(id: Int64?, _ db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM asyncInvocation WHERE id = ?").execute(arguments: [id])
    }
}

/// The async queue's tables, contributed to the host's ``Store``.
public enum AsyncInvocationMigrations: StoreMigrations {
    public static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("asyncInvocation.v1") { db in
            try db.create(table: "asyncInvocation") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("requestID", .text).notNull()
                table.column("functionName", .text).notNull()
                table.column("invokedFunctionARN", .text).notNull()
                table.column("traceID", .text).notNull()
                table.column("payload", .blob).notNull()
                table.column("enqueuedAt", .double).notNull()
                table.column("notBefore", .double).notNull()
                table.column("attempts", .integer).notNull().defaults(to: 0).check { $0 >= 0 }
            }
            try db.create(index: "asyncInvocation_due", on: "asyncInvocation", columns: ["functionName", "notBefore"])
        }
        migrator.registerMigration("asyncInvocation.v2-pending-delivery") { db in
            try db.alter(table: "asyncInvocation") { table in
                table.add(column: "outcome", .text)
                table.add(column: "response", .blob)
                table.add(column: "functionError", .text)
                table.add(column: "deliveryFailures", .integer).notNull().defaults(to: 0)
            }
        }
    }
}
