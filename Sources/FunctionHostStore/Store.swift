import Foundation
import GRDB

/// The host's durable state: one SQLite file in WAL mode under the state directory
/// (`STATE_DIR/fnhost.sqlite`), shared by every feature that must survive a crash.
///
/// Each feature contributes its own named migrations (``StoreMigrations``); a shipped
/// migration is never edited, only followed by new ones. Code depends on `any DatabaseWriter`,
/// so tests can pass an in-memory `DatabaseQueue`.
public struct Store: Sendable {
    public let writer: any DatabaseWriter

    /// Opens (creating if needed) the database under `stateDirectory` and migrates it.
    public static func open(stateDirectory: String, migrations: [any StoreMigrations.Type]) throws -> Store {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: stateDirectory + "/fnhost.sqlite", configuration: configuration)
        // Every commit reaches the disk before it returns (and so before the 202 or 200 it backs):
        // with WAL, NORMAL would survive a `kill -9` of the host but not a crash of the machine.
        // Set on the pool's one writer connection once it is open: the pool sets NORMAL when it
        // enables WAL, after `prepareDatabase` has run (so a setting made there does not hold).
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        return try Store(writer: pool, migrations: migrations)
    }

    /// The state directory's database opened read-only (beside a running host, WAL lets readers
    /// in), for tools that report on it (`fnhost queues`); `nil` when it has none yet.
    public static func openReadOnly(stateDirectory: String) throws -> DatabaseQueue? {
        let path = stateDirectory + "/fnhost.sqlite"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Wraps an existing database (an in-memory `DatabaseQueue` in tests) and migrates it.
    public init(writer: any DatabaseWriter, migrations: [any StoreMigrations.Type]) throws {
        var migrator = DatabaseMigrator()
        for contribution in migrations { contribution.register(in: &migrator) }
        try migrator.migrate(writer)
        self.writer = writer
    }
}

/// A feature's tables: registers its named migrations, in order, with the host's migrator.
public protocol StoreMigrations {
    static func register(in migrator: inout DatabaseMigrator)
}
