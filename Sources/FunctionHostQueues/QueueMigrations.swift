import FunctionHostStore
import GRDB

/// The embedded queue's tables: queues, their messages, and FIFO deduplication ids.
///
/// Times are epoch milliseconds from the engine's ``HostClock``. A shipped migration is never edited.
public enum QueueMigrations: StoreMigrations {
    public static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("queues.v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sqsQueue (
                        name TEXT PRIMARY KEY NOT NULL,
                        logicalID TEXT,
                        visibilityTimeout INTEGER NOT NULL,
                        messageRetentionPeriod INTEGER NOT NULL,
                        delaySeconds INTEGER NOT NULL,
                        receiveMessageWaitTimeSeconds INTEGER NOT NULL,
                        maximumMessageSize INTEGER NOT NULL,
                        deadLetterTargetARN TEXT,
                        maxReceiveCount INTEGER CHECK (maxReceiveCount BETWEEN 1 AND 1000),
                        fifo BOOLEAN NOT NULL,
                        contentBasedDeduplication BOOLEAN NOT NULL,
                        createdAt INTEGER NOT NULL,
                        modifiedAt INTEGER NOT NULL,
                        purgedAt INTEGER
                    );
                    CREATE TABLE sqsMessage (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                        queue TEXT NOT NULL REFERENCES sqsQueue(name) ON DELETE CASCADE ON UPDATE CASCADE,
                        messageID TEXT NOT NULL UNIQUE,
                        body TEXT NOT NULL,
                        messageAttributes TEXT,
                        traceHeader TEXT,
                        sentAt INTEGER NOT NULL,
                        visibleAt INTEGER NOT NULL,
                        receiveCount INTEGER NOT NULL DEFAULT 0,
                        firstReceivedAt INTEGER,
                        receiptToken TEXT,
                        groupID TEXT,
                        deduplicationID TEXT,
                        deadLetterSourceARN TEXT
                    );
                    CREATE INDEX sqsMessageByQueue ON sqsMessage(queue, visibleAt);
                    CREATE TABLE sqsDeduplication (
                        queue TEXT NOT NULL REFERENCES sqsQueue(name) ON DELETE CASCADE,
                        deduplicationID TEXT NOT NULL,
                        messageID TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        expiresAt INTEGER NOT NULL,
                        PRIMARY KEY (queue, deduplicationID)
                    );
                    """)
        }
        // Retention is enforced at every receive: without this index that delete read every message of the queue.
        migrator.registerMigration("queues.v2-retention-index") { db in
            try db.execute(sql: "CREATE INDEX sqsMessageBySentAt ON sqsMessage(queue, sentAt)")
        }
    }
}
