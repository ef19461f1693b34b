import FunctionHostStore
import GRDB

/// The stream mappings' checkpoint table, and the tumbling windows saved with it. A shipped
/// migration is never edited.
public enum StreamMappingMigrations: StoreMigrations {
    public static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("streamMappings.v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE streamCheckpoint (
                        mappingUUID TEXT NOT NULL,
                        streamARN TEXT NOT NULL,
                        shardID TEXT NOT NULL,
                        sequenceNumber TEXT NOT NULL,
                        updatedAt INTEGER NOT NULL,
                        PRIMARY KEY (mappingUUID, streamARN, shardID)
                    )
                    """)
        }
        migrator.registerMigration("streamMappings.v2.windows") { db in
            try db.execute(
                sql: """
                    CREATE TABLE streamWindow (
                        mappingUUID TEXT NOT NULL,
                        streamARN TEXT NOT NULL,
                        shardID TEXT NOT NULL,
                        lane INTEGER NOT NULL,
                        windowStart INTEGER NOT NULL,
                        windowEnd INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        PRIMARY KEY (mappingUUID, streamARN, shardID, lane)
                    )
                    """)
        }
    }
}
