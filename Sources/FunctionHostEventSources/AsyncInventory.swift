import Foundation
import FunctionHostStore
import GRDB

/// The accepted `Event` invocations still waiting in a state directory, per function: what
/// `fnhost queues` lists and what a host warns about when their function left the template.
public enum AsyncInventory {
    /// Events of one function not finished yet.
    public struct Waiting: Sendable, Hashable {
        public var functionName: String
        public var count: Int
        /// Seconds (host clock) when the oldest of them was accepted.
        public var oldestEnqueuedAt: Double
    }

    /// Reads `STATE_DIR/fnhost.sqlite` read-only; `nil` when there is no async state yet.
    public static func waiting(stateDirectory: String) throws -> [Waiting]? {
        guard let database = try Store.openReadOnly(stateDirectory: stateDirectory) else { return nil }
        return try database.read { db in
            try db.tableExists(AsyncInvocationRecord.databaseTableName) ? try waiting(db) : nil
        }
    }

    static func waiting(_ db: Database) throws -> [Waiting] {
        try Row.fetchAll(
            db,
            sql: "SELECT functionName, COUNT(*), MIN(enqueuedAt) FROM asyncInvocation GROUP BY functionName ORDER BY functionName"
        ).map { Waiting(functionName: $0[0], count: $0[1], oldestEnqueuedAt: $0[2]) }
    }
}
