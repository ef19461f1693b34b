import Foundation
import FunctionHostStore
import GRDB
import Testing

/// The state database as the host opens it.
@Suite struct StoreTests {
    @Test func theWriterCommitsWithSynchronousFull() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store.open(stateDirectory: directory, migrations: [])
        // 2 = FULL: a commit is synced to disk before it returns, not only at checkpoints (NORMAL, 1).
        let synchronous = try await store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(synchronous == 2)
        let journal = try await store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }
}
