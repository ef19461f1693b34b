import FunctionHostCore
import Foundation
import GRDB
import Synchronization

/// The embedded Kinesis-compatible stream: streams, shards and records in the host's SQLite
/// state, partition keys routed by MD5 over the shards' hash-key ranges, sequence numbers
/// increasing per shard, retention, and provisioned shards held to their write throughput.
///
/// Every accepted record is committed before the call returns. Time comes from the injected
/// host clock. Thread-safe; throws ``StreamError`` (or a database error, which the Kinesis
/// endpoint reports as `InternalFailure`).
public final class StreamEngine: Sendable {
    let writer: any DatabaseWriter
    public let account: AccountContext
    let clock: any HostClock
    /// Write throughput per provisioned shard, keyed by stream name; in memory (a restart forgets a second's use).
    let budgets = Mutex<[String: [ShardWriteBudget]]>([:])

    /// Records a `GetRecords` returns at most (its `Limit` range is 1 to this).
    public static let maximumGetRecordsLimit = 10_000
    /// Bytes of data one `GetRecords` returns at most (10 MiB); one record more is never split.
    static let maximumGetRecordsBytes = 10 * 1_048_576

    public init(writer: any DatabaseWriter, account: AccountContext, clock: any HostClock = WallClock()) {
        self.writer = writer
        self.account = account
        self.clock = clock
    }

    // MARK: streams

    /// Creates the template's streams. An existing stream keeps its records when its shard count
    /// is unchanged (retention and mode are updated); a changed shard count recreates it empty,
    /// since fnhost does not reshard.
    public func ensure(_ definitions: [StreamDefinition]) async throws {
        let now = clock.now()
        try await writer.write { db in
            for definition in definitions {
                if let existing = try Self.state(db, definition.name) {
                    if existing.definition.shardCount == definition.shardCount {
                        try db.execute(
                            sql: "UPDATE kinesisStream SET logicalID = ?, retentionHours = ?, mode = ? WHERE name = ?",
                            arguments: [
                                definition.logicalID, definition.retentionPeriodHours, definition.mode.rawValue,
                                definition.name,
                            ])
                        continue
                    }
                    try db.execute(sql: "DELETE FROM kinesisStream WHERE name = ?", arguments: [definition.name])
                }
                try Self.insert(db, definition, now: now)
            }
        }
        budgets.withLock { $0.removeAll() }
    }

    /// `CreateStream`: `ResourceInUseException` when the name is taken.
    public func createStream(_ definition: StreamDefinition) async throws {
        let now = clock.now()
        try await writer.write { db in
            guard try Self.state(db, definition.name) == nil else {
                throw StreamError(
                    .resourceInUse, "Stream \(definition.name) under account \(self.account.accountID) already exists.")
            }
            try Self.insert(db, definition, now: now)
        }
    }

    /// `DeleteStream`: the stream and its records.
    public func deleteStream(_ name: String) async throws {
        try await writer.write { db in
            _ = try self.requireState(db, name)
            try db.execute(sql: "DELETE FROM kinesisRecord WHERE stream = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM kinesisStream WHERE name = ?", arguments: [name])
        }
        _ = budgets.withLock { $0.removeValue(forKey: name) }
    }

    /// The stream named, or `ResourceNotFoundException`.
    public func stream(named name: String) async throws -> StreamState {
        try await writer.read { db in try self.requireState(db, name) }
    }

    /// Every stream's name, sorted.
    public func streamNames() async throws -> [String] {
        try await writer.read { db in try String.fetchAll(db, sql: "SELECT name FROM kinesisStream ORDER BY name") }
    }

    private static func insert(_ db: Database, _ definition: StreamDefinition, now: Int64) throws {
        try db.execute(
            sql: "INSERT INTO kinesisStream (name, logicalID, shardCount, retentionHours, mode, createdAt) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                definition.name, definition.logicalID, definition.shardCount, definition.retentionPeriodHours,
                definition.mode.rawValue, now,
            ])
        for index in 0..<definition.shardCount {
            try db.execute(
                sql: "INSERT INTO kinesisShard (stream, shardIndex) VALUES (?, ?)", arguments: [definition.name, index])
        }
    }

    static func state(_ db: Database, _ name: String) throws -> StreamState? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT logicalID, shardCount, retentionHours, mode, createdAt FROM kinesisStream WHERE name = ?",
                arguments: [name])
        else { return nil }
        let definition = StreamDefinition(
            name: name, logicalID: row["logicalID"], shardCount: row["shardCount"],
            retentionPeriodHours: row["retentionHours"],
            mode: StreamDefinition.Mode(rawValue: row["mode"]) ?? .provisioned)
        let sequences = try Int.fetchAll(
            db, sql: "SELECT lastSequence FROM kinesisShard WHERE stream = ? ORDER BY shardIndex", arguments: [name])
        return StreamState(definition: definition, createdAt: row["createdAt"], lastSequences: sequences)
    }

    func requireState(_ db: Database, _ name: String) throws -> StreamState {
        guard let state = try Self.state(db, name) else {
            throw StreamError.streamNotFound(name, account: account.accountID)
        }
        return state
    }

    /// Oldest arrival time still retained.
    static func retentionCutoff(_ state: StreamState, now: Int64) -> Int64 {
        now - Int64(state.definition.retentionPeriodHours) * 3_600_000
    }
}
