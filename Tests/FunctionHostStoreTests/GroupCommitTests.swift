import Foundation
import FunctionHostStore
import FunctionHostTesting
import GRDB
import Synchronization
import Testing

/// The commit queue against a real SQLite file in WAL mode (``Store/open(stateDirectory:migrations:)``).
@Suite struct GroupCommitTests {
    @Test func writesThatArriveDuringACommitShareTheNextTransaction() async throws {
        try await withStore { store in
            let commits = try await CommitCounter.observing(store)
            let committedBefore = commits.count
            let group = GroupCommit(writer: store.writer)
            // The first write holds its transaction open until the others wait behind it.
            let release = Gate()
            async let first: Void = group.write { db in
                release.wait()
                try db.execute(sql: "INSERT INTO item(value) VALUES (0)")
            }
            #expect(await eventually { release.isHolding })
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for value in 1...50 {
                    tasks.addTask { try await group.write { db in try db.execute(sql: "INSERT INTO item(value) VALUES (?)", arguments: [value]) } }
                }
                #expect(await eventually { group.waitingCount == 50 })
                release.open()
                try await tasks.waitForAll()
            }
            try await first
            let values = try await store.writer.read { db in try Int.fetchAll(db, sql: "SELECT value FROM item ORDER BY value") }
            #expect(values == Array(0...50))
            // One transaction for the first write, one for the fifty that waited.
            #expect(commits.count - committedBefore == 2)
        }
    }

    @Test func aWriteThatFailsIsRolledBackAloneAndOnlyItsCallerSeesTheError() async throws {
        try await withStore { store in
            let group = GroupCommit(writer: store.writer)
            let release = Gate()
            async let first: Void = group.write { db in
                release.wait()
                try db.execute(sql: "INSERT INTO item(value) VALUES (1)")
            }
            #expect(await eventually { release.isHolding })
            async let failing: (any Error)? = {
                do {
                    try await group.write { db in
                        try db.execute(sql: "INSERT INTO item(value) VALUES (2)")
                        try db.execute(sql: "INSERT INTO item(value) VALUES (NULL)")  // NOT NULL: fails
                    }
                    return nil
                } catch {
                    return error
                }
            }()
            async let third: Void = group.write { db in try db.execute(sql: "INSERT INTO item(value) VALUES (3)") }
            #expect(await eventually { group.waitingCount == 2 })
            release.open()
            try await first
            try await third
            let failure = await failing
            #expect(failure is DatabaseError)
            let values = try await store.writer.read { db in try Int.fetchAll(db, sql: "SELECT value FROM item ORDER BY value") }
            // The failed write's first insert was rolled back with it.
            #expect(values == [1, 3])
        }
    }

    @Test func aLoneWriteIsCommittedWithoutCompany() async throws {
        try await withStore { store in
            let group = GroupCommit(writer: store.writer)
            try await group.write { db in try db.execute(sql: "INSERT INTO item(value) VALUES (7)") }
            #expect(group.waitingCount == 0)
            // Visible to a new reader: committed, not merely written.
            let count = try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item") }
            #expect(count == 1)
        }
    }

    @Test func aFailedCommitFailsEveryWriteOfItsTransactionAndTheQueueGoesOn() async throws {
        try await withStore { store in
            let group = GroupCommit(writer: store.writer)
            let release = Gate()
            async let first: Void = group.write { _ in release.wait() }
            #expect(await eventually { release.isHolding })
            async let fine: Bool = succeeded { try await group.write { db in try db.execute(sql: "INSERT INTO item(value) VALUES (1)") } }
            // A deferred foreign key: the statement succeeds, the commit does not.
            async let breaking: Bool = succeeded { try await group.write { db in try db.execute(sql: "INSERT INTO link(item) VALUES (99)") } }
            #expect(await eventually { group.waitingCount == 2 })
            release.open()
            try await first
            #expect(await fine == false)
            #expect(await breaking == false)
            #expect(try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item") } == 0)
            // Writes return their work's value, once committed.
            #expect(try await group.write { db in try Int.fetchOne(db, sql: "SELECT 7") } == 7)
        }
    }

    @Test func theCallbackFormAnswersOnlyOnceItsTransactionIsCommitted() async throws {
        try await withStore { store in
            let commits = try await CommitCounter.observing(store)
            let committedBefore = commits.count
            let group = GroupCommit(writer: store.writer)
            let (value, committedWhenAnswered) = try await withCheckedThrowingContinuation {
                (done: CheckedContinuation<(Int, Int), any Error>) in
                group.write(
                    { db in
                        try db.execute(sql: "INSERT INTO item(value) VALUES (5)")
                        return 5
                    },
                    completion: { result in done.resume(with: result.map { ($0, commits.count) }) })
            }
            #expect(value == 5)
            #expect(committedWhenAnswered == committedBefore + 1)
        }
    }

    @Test func aFailingWriteInABatchLeavesTheOthersCommittedOnceWithTheirValues() async throws {
        try await withStore { store in
            let commits = try await CommitCounter.observing(store)
            let group = GroupCommit(writer: store.writer)
            let release = Gate()
            async let first: Void = group.write { db in
                release.wait()
                try db.execute(sql: "INSERT INTO item(value) VALUES (1)")
            }
            #expect(await eventually { release.isHolding })
            let committedBefore = commits.count
            async let ten: Int64 = group.write { db in
                try db.execute(sql: "INSERT INTO item(value) VALUES (10)")
                return db.lastInsertedRowID
            }
            async let failing: Bool = succeeded {
                try await group.write { db in try db.execute(sql: "INSERT INTO item(value) VALUES (NULL)") }
            }
            async let eleven: Int64 = group.write { db in
                try db.execute(sql: "INSERT INTO item(value) VALUES (11)")
                return db.lastInsertedRowID
            }
            #expect(await eventually { group.waitingCount == 3 })
            release.open()
            try await first
            let (tenID, elevenID) = (try await ten, try await eleven)
            #expect(await failing == false)
            let rows = try await store.writer.read { db in
                try Row.fetchAll(db, sql: "SELECT id, value FROM item ORDER BY value")
            }
            // Each surviving write's row once, and the value it returned names it (the batch's order is the arrival's).
            #expect(rows.map { $0["value"] as Int } == [1, 10, 11])
            #expect(rows.dropFirst().map { $0["id"] as Int64 } == [tenID, elevenID])
            // The first write's transaction, then one for the batch (its first try was rolled back).
            #expect(commits.count - committedBefore == 2)
        }
    }

    private func succeeded(_ body: () async throws -> Void) async -> Bool {
        do {
            try await body()
            return true
        } catch {
            return false
        }
    }

    private func withStore(_ body: (Store) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("group-commit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(try Store.open(stateDirectory: directory, migrations: [ItemMigrations.self]))
    }
}

private enum ItemMigrations: StoreMigrations {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("item.v1") { db in
            try db.create(table: "item") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("value", .integer).notNull()
            }
            try db.execute(sql: "CREATE TABLE link (item INTEGER REFERENCES item(id) DEFERRABLE INITIALLY DEFERRED)")
        }
    }
}

/// Counts committed transactions.
private final class CommitCounter: TransactionObserver, Sendable {
    private let commits = Atomic(0)

    /// A counter of every commit `store`'s writer makes from now on.
    static func observing(_ store: Store) async throws -> CommitCounter {
        let commits = CommitCounter()
        try await store.writer.write { db in db.add(transactionObserver: commits, extent: .databaseLifetime) }
        return commits
    }

    var count: Int { commits.load(ordering: .relaxed) }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { commits.add(1, ordering: .relaxed) }
    func databaseDidRollback(_ db: Database) {}
}

/// Blocks a database closure (on the writer's own queue) until the test opens it.
private final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let holding = Atomic(false)
    /// Whether a closure is blocked in ``wait()``.
    var isHolding: Bool { holding.load(ordering: .relaxed) }
    func wait() {
        holding.store(true, ordering: .relaxed)
        semaphore.wait()
    }
    func open() { semaphore.signal() }
}
