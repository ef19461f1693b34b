import Foundation
import FunctionHostTesting
import GRDB
import Synchronization
import Testing

@testable import FunctionHostStore

@Suite struct CommitQueueTests {
    /// Counts the commits and rollbacks of a database.
    final class Commits: TransactionObserver, @unchecked Sendable {
        let count = Mutex(0)
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { count.withLock { $0 += 1 } }
        func databaseDidRollback(_ db: Database) {}
    }

    struct Refused: Error {}

    /// A file database (WAL, as the host's) with a table of rows and one with a deferred foreign
    /// key, whose violation only the commit finds.
    func makeDatabase(_ directory: URL) throws -> (DatabasePool, Commits) {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        let pool = try DatabasePool(
            path: directory.appendingPathComponent("test.sqlite").path, configuration: configuration)
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE row (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
                    CREATE TABLE child (parent INTEGER REFERENCES row(id) DEFERRABLE INITIALLY DEFERRED);
                    """)
        }
        let commits = Commits()
        pool.add(transactionObserver: commits, extent: .databaseLifetime)
        return (pool, commits)
    }

    func withDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "commit-queue-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    /// Submits `first`, holds its transaction open until `others` more writes wait behind it, then
    /// lets it commit; returns every outcome in submission order.
    func batched(
        _ queue: CommitQueue, others: [@Sendable (Database) throws -> Int]
    ) async throws -> [Result<Int, any Error>] {
        let gate = DispatchSemaphore(value: 0)
        return try await withThrowingTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            group.addTask {
                (
                    0,
                    await outcome {
                        try await queue.write { _ in
                            gate.wait(); return 0
                        }
                    }
                )
            }
            // The first write's transaction is open (and held); nothing waits yet.
            #expect(await eventually { queue.isDraining && queue.waiting == 0 })
            for (index, work) in others.enumerated() {
                group.addTask { (index + 1, await outcome { try await queue.write(work) }) }
                #expect(await eventually { queue.waiting == index + 1 })
            }
            gate.signal()
            var outcomes: [Int: Result<Int, any Error>] = [:]
            for try await (index, outcome) in group { outcomes[index] = outcome }
            return (0...others.count).compactMap { outcomes[$0] }
        }
    }

    func outcome(_ body: () async throws -> Int) async -> Result<Int, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    @Test func writesThatArriveDuringACommitShareTheNextTransaction() async throws {
        try await withDirectory { directory in
            let (pool, commits) = try makeDatabase(directory)
            let queue = CommitQueue(writer: pool)
            let inserts: [@Sendable (Database) throws -> Int] = (1...40).map { n in
                { db in
                    try db.execute(sql: "INSERT INTO row (id, label) VALUES (?, ?)", arguments: [n, "row \(n)"])
                    return n
                }
            }
            let outcomes = try await batched(queue, others: inserts)
            #expect(outcomes.map { try? $0.get() } == Array(0...40))
            // The held transaction, then one for all forty that queued behind it.
            #expect(commits.count.withLock { $0 } == 2)
            #expect(try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM row") } == 40)
            #expect(!queue.isDraining)
        }
    }

    @Test func aFailingWriteIsUndoneAloneAndGetsItsError() async throws {
        try await withDirectory { directory in
            let (pool, _) = try makeDatabase(directory)
            let queue = CommitQueue(writer: pool)
            let outcomes = try await batched(
                queue,
                others: [
                    { db in
                        try db.execute(sql: "INSERT INTO row (id, label) VALUES (1, 'kept')")
                        return 1
                    },
                    { db in
                        try db.execute(sql: "INSERT INTO row (id, label) VALUES (2, 'undone')")
                        throw Refused()
                    },
                    { db in
                        try db.execute(sql: "INSERT INTO row (id, label) VALUES (3, 'kept')")
                        return 3
                    },
                ])
            #expect((try? outcomes[1].get()) == 1)
            #expect(throws: Refused.self) { try outcomes[2].get() }
            #expect((try? outcomes[3].get()) == 3)
            #expect(
                try await pool.read { db in try Int.fetchAll(db, sql: "SELECT id FROM row ORDER BY id") } == [1, 3])
        }
    }

    @Test func aFailedCommitFailsEveryWriteOfItsTransaction() async throws {
        try await withDirectory { directory in
            let (pool, _) = try makeDatabase(directory)
            let queue = CommitQueue(writer: pool)
            let outcomes = try await batched(
                queue,
                others: [
                    { db in
                        try db.execute(sql: "INSERT INTO row (id, label) VALUES (1, 'fine on its own')")
                        return 1
                    },
                    { db in
                        // A deferred foreign key: the statement succeeds, the commit does not.
                        try db.execute(sql: "INSERT INTO child (parent) VALUES (99)")
                        return 2
                    },
                ])
            #expect((try? outcomes[1].get()) == nil)
            #expect((try? outcomes[2].get()) == nil)
            #expect(try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM row") } == 0)
            // The queue goes on after a failed commit.
            #expect(try await queue.write { db in try Int.fetchOne(db, sql: "SELECT 7") } == 7)
        }
    }
}
