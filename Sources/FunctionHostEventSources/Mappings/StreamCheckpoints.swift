import FunctionHostStore
import GRDB

/// Each stream mapping's checkpoint per shard, committed in the host's state database: the last
/// sequence number whose record is done (delivered, or discarded to OnFailure). After a restart,
/// even `kill -9`, a shard resumes just after it; a batch in flight at the crash runs again.
///
/// Thread-safe (the database serialises writes).
public struct StreamCheckpoints: Sendable {
    let writer: any DatabaseWriter

    public init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// The mapping's checkpoints by shard id.
    func load(mapping uuid: String, streamARN: String) async throws -> [String: String] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT shardID, sequenceNumber FROM streamCheckpoint WHERE mappingUUID = ? AND streamARN = ?",
                arguments: [uuid, streamARN])
            return Dictionary(
                rows.map { (row: Row) -> (String, String) in (row["shardID"], row["sequenceNumber"]) },
                uniquingKeysWith: { _, last in last })
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
