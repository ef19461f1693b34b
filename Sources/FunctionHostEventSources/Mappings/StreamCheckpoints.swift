import FunctionHostStore
import GRDB

/// Each stream mapping's checkpoint per shard, committed in the host's state database: the last
/// sequence number whose record is done (delivered, or discarded to OnFailure). After a restart,
/// even `kill -9`, a shard resumes just after it; a batch in flight at the crash runs again.
/// A `LATEST` shard that has done nothing yet is marked with an empty sequence number and the time
/// it started, so a restart resumes from that time instead of skipping what arrived meanwhile.
/// Each lane's open tumbling window (bounds and state) is committed in the same transaction as the
/// checkpoint, so after a restart the window goes on with the state of the records before it.
///
/// Thread-safe (the database serialises writes).
public struct StreamCheckpoints: Sendable {
    let writer: any DatabaseWriter

    public init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// A shard's saved position.
    struct Saved: Sendable, Hashable {
        /// Empty for a start marker.
        var sequenceNumber: String
        /// Epoch ms on the host clock.
        var updatedAt: Int64
        /// Open tumbling windows by lane.
        var windows: [Int: StreamShardEngine.TumblingWindow] = [:]
    }

    /// The mapping's checkpoints by shard id.
    func load(mapping uuid: String, streamARN: String) async throws -> [String: Saved] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT shardID, sequenceNumber, updatedAt FROM streamCheckpoint WHERE mappingUUID = ? AND streamARN = ?",
                arguments: [uuid, streamARN])
            var saved = Dictionary(
                rows.map { (row: Row) -> (String, Saved) in
                    (row["shardID"], Saved(sequenceNumber: row["sequenceNumber"], updatedAt: row["updatedAt"]))
                },
                uniquingKeysWith: { _, last in last })
            let windows = try Row.fetchAll(
                db,
                sql: """
                    SELECT shardID, lane, windowStart, windowEnd, state FROM streamWindow
                    WHERE mappingUUID = ? AND streamARN = ?
                    """, arguments: [uuid, streamARN])
            for row in windows {
                let shardID: String = row["shardID"]
                saved[shardID]?.windows[row["lane"]] = StreamShardEngine.TumblingWindow(
                    start: row["windowStart"], end: row["windowEnd"], state: row["state"])
            }
            return saved
        }
    }

    /// Records that a `LATEST` shard started at `now` (kept until its first real checkpoint).
    func markStart(mapping uuid: String, streamARN: String, shardID: String, now: Int64) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO streamCheckpoint (mappingUUID, streamARN, shardID, sequenceNumber, updatedAt)
                    VALUES (?, ?, ?, '', ?)
                    """, arguments: [uuid, streamARN, shardID, now])
        }
    }

    /// Commits a checkpoint (one behind the stored one, numerically, changes nothing) and, for a
    /// mapping with tumbling windows, the shard's open windows, in one transaction.
    func save(
        mapping uuid: String, streamARN: String, shardID: String, sequenceNumber: String,
        windows: [Int: StreamShardEngine.TumblingWindow]? = nil, now: Int64
    ) async throws {
        try await writer.write { db in
            if let windows { try Self.replaceWindows(db, uuid, streamARN, shardID, windows) }
            try db.execute(
                sql: """
                    INSERT INTO streamCheckpoint (mappingUUID, streamARN, shardID, sequenceNumber, updatedAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (mappingUUID, streamARN, shardID) DO UPDATE SET sequenceNumber = excluded.sequenceNumber, updatedAt = excluded.updatedAt
                    WHERE length(excluded.sequenceNumber) > length(sequenceNumber)
                       OR (length(excluded.sequenceNumber) = length(sequenceNumber) AND excluded.sequenceNumber > sequenceNumber)
                    """, arguments: [uuid, streamARN, shardID, sequenceNumber, now])
        }
    }

    /// Stores the shard's open tumbling windows (a window closed without a checkpoint).
    func saveWindows(
        mapping uuid: String, streamARN: String, shardID: String, windows: [Int: StreamShardEngine.TumblingWindow]
    ) async throws {
        try await writer.write { db in try Self.replaceWindows(db, uuid, streamARN, shardID, windows) }
    }

    private static func replaceWindows(
        _ db: Database, _ uuid: String, _ streamARN: String, _ shardID: String,
        _ windows: [Int: StreamShardEngine.TumblingWindow]
    ) throws {
        try db.execute(
            sql: "DELETE FROM streamWindow WHERE mappingUUID = ? AND streamARN = ? AND shardID = ?",
            arguments: [uuid, streamARN, shardID])
        for (lane, window) in windows {
            try db.execute(
                sql: """
                    INSERT INTO streamWindow (mappingUUID, streamARN, shardID, lane, windowStart, windowEnd, state)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [uuid, streamARN, shardID, lane, window.start, window.end, window.state])
        }
    }
}
