import FunctionHostStore
import GRDB

/// Each stream mapping's checkpoint per shard, committed in the host's state database: the last
/// sequence number whose record is done (delivered, or discarded to OnFailure). After a restart,
/// even `kill -9`, a shard resumes just after it; a batch in flight at the crash runs again.
/// A `LATEST` shard that has done nothing yet is marked with an empty sequence number and the time
/// it started, so a restart resumes from that time instead of skipping what arrived meanwhile.
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
    }

    /// The mapping's checkpoints by shard id.
    func load(mapping uuid: String, streamARN: String) async throws -> [String: Saved] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT shardID, sequenceNumber, updatedAt FROM streamCheckpoint WHERE mappingUUID = ? AND streamARN = ?",
                arguments: [uuid, streamARN])
            return Dictionary(
                rows.map { (row: Row) -> (String, Saved) in
                    (row["shardID"], Saved(sequenceNumber: row["sequenceNumber"], updatedAt: row["updatedAt"]))
                },
                uniquingKeysWith: { _, last in last })
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

    /// Commits a checkpoint; one behind the stored one (numerically) changes nothing.
    func save(mapping uuid: String, streamARN: String, shardID: String, sequenceNumber: String, now: Int64) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO streamCheckpoint (mappingUUID, streamARN, shardID, sequenceNumber, updatedAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (mappingUUID, streamARN, shardID) DO UPDATE SET sequenceNumber = excluded.sequenceNumber, updatedAt = excluded.updatedAt
                    WHERE length(excluded.sequenceNumber) > length(sequenceNumber)
                       OR (length(excluded.sequenceNumber) = length(sequenceNumber) AND excluded.sequenceNumber > sequenceNumber)
                    """, arguments: [uuid, streamARN, shardID, sequenceNumber, now])
        }
    }
}
