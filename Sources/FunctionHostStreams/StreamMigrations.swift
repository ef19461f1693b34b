import FunctionHostStore
import GRDB

/// The embedded stream's tables: streams, their shards' sequence counters, and records.
///
/// Times are epoch milliseconds from the engine's ``HostClock``. Hash-key ranges are not stored:
/// they follow from the shard count (``HashKeySpace``). A shipped migration is never edited.
public enum StreamMigrations: StoreMigrations {
    public static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("streams.v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE kinesisStream (
                        name TEXT PRIMARY KEY NOT NULL,
                        logicalID TEXT,
                        shardCount INTEGER NOT NULL CHECK (shardCount BETWEEN 1 AND 1000),
                        retentionHours INTEGER NOT NULL CHECK (retentionHours BETWEEN 24 AND 8760),
                        mode TEXT NOT NULL CHECK (mode IN ('PROVISIONED', 'ON_DEMAND')),
                        createdAt INTEGER NOT NULL
                    );
                    CREATE TABLE kinesisShard (
                        stream TEXT NOT NULL REFERENCES kinesisStream(name) ON DELETE CASCADE,
                        shardIndex INTEGER NOT NULL,
                        lastSequence INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (stream, shardIndex)
                    );
                    CREATE TABLE kinesisRecord (
                        stream TEXT NOT NULL REFERENCES kinesisStream(name) ON DELETE CASCADE,
                        shardIndex INTEGER NOT NULL,
                        sequence INTEGER NOT NULL,
                        partitionKey TEXT NOT NULL,
                        data BLOB NOT NULL,
                        arrivedAt INTEGER NOT NULL,
                        UNIQUE (stream, shardIndex, sequence)
                    );
                    CREATE INDEX kinesisRecordByArrival ON kinesisRecord(stream, arrivedAt);
                    """)
        }
    }
}
