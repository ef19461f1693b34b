import FunctionHostCore
import Foundation
import FunctionHostStore
import GRDB

/// Reads queue depths straight from a state directory's SQLite file (`fnhost queues`), read-only,
/// so it works beside a running host (WAL lets readers in) and after one has stopped.
public enum QueueInventory {
    /// Every embedded queue with its counts, or `nil` when the state directory has no queue state yet.
    public static func depths(stateDirectory: String, now: Int64 = WallClock().now()) throws
        -> [QueueDepthReport]?
    {
        guard let database = try Store.openReadOnly(stateDirectory: stateDirectory) else { return nil }
        guard try database.read({ try $0.tableExists(QueueRecord.databaseTableName) }) else { return nil }
        return try QueueEngine.depths(database, now: now)
    }
}
