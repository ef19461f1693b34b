import GRDB
import Synchronization

/// A commit queue in front of a `DatabaseWriter`: concurrent writes share one transaction, so
/// they share its commit (one WAL fsync under `synchronous = FULL`) instead of paying one each.
///
/// A write's answer comes once its changes are committed (with what its work returned), exactly
/// as `writer.write` would, so a caller may acknowledge durably accepted work (a 202, an SQS 200)
/// right after it: awaited (``write(_:)``), or as a callback (``write(_:completion:)``) for callers
/// on an event loop, which then need no task. Which writes go together is decided by
/// ``GroupCommitQueue``: a lone write is committed at once; writes that arrive during a commit
/// make the next transaction together.
///
/// A write that throws is rolled back alone and only its caller gets the error; a failed commit
/// fails every write of the batch. A batch first runs its writes one after the other in its
/// transaction; only when one of them throws is that transaction rolled back and the batch run
/// again with each write in its own savepoint. So a write's work may run twice: it must only
/// touch the database (what the run that is committed returned is its answer).
///
/// Transactions run through `asyncWriteWithoutTransaction`, on the writer's own queue: a
/// cancelled caller neither cancels the batch it joined nor holds a thread while it waits.
public final class GroupCommit: Sendable {
    /// The most writes one transaction carries.
    public static let maximumBatch = 512

    private struct Pending: Sendable {
        let work: @Sendable (Database) throws -> any Sendable
        let done: @Sendable (Result<any Sendable, any Error>) -> Void
    }

    /// A write's value did not come back as the type it was written with (never expected).
    struct LostValue: Error {}

    private let writer: any DatabaseWriter
    private let queue: Mutex<GroupCommitQueue<Pending>>

    public init(writer: any DatabaseWriter, maximumBatch: Int = GroupCommit.maximumBatch) {
        self.writer = writer
        queue = Mutex(GroupCommitQueue(maximumBatch: maximumBatch))
    }

    /// Runs `work` in a transaction shared with concurrent writes; returns its value once that
    /// transaction is committed.
    /// - Throws: the error `work` threw (its changes rolled back), or the commit's error.
    @discardableResult
    public func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
            write(work, completion: { done.resume(with: $0) })
        }
    }

    /// Runs `work` in a transaction shared with concurrent writes; `completion` gets its value
    /// once that transaction is committed (or the error `work` threw, or the commit's), on the
    /// writer's queue: it must return quickly (hand the answer to its own thread).
    public func write<T: Sendable>(
        _ work: @escaping @Sendable (Database) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let pending = Pending(
            work: { db in try work(db) },
            done: { result in
                completion(result.flatMap { value in (value as? T).map { .success($0) } ?? .failure(LostValue()) })
            })
        if let batch = queue.withLock({ $0.arrive(pending) }) { commit(batch) }
    }

    /// Writes that wait for the transaction being committed (for tests and diagnostics).
    public var waitingCount: Int { queue.withLock { $0.waiting.count } }

    private func commit(_ batch: [Pending]) {
        writer.asyncWriteWithoutTransaction { db in
            let results = Self.run(batch, in: db)
            // The next transaction is queued before anyone is answered: the writer stays busy.
            if let next = self.queue.withLock({ $0.batchCommitted() }) { self.commit(next) }
            for (pending, result) in zip(batch, results) { pending.done(result) }
        }
    }

    /// Runs and commits `batch` in one transaction: the writes' results, in order.
    private static func run(_ batch: [Pending], in db: Database) -> [Result<any Sendable, any Error>] {
        var values: [any Sendable] = []
        values.reserveCapacity(batch.count)
        var aWriteFailed = false
        do {
            try db.inTransaction {
                for pending in batch {
                    do {
                        values.append(try pending.work(db))
                    } catch {
                        aWriteFailed = true
                        throw error
                    }
                }
                return .commit
            }
            return values.map { .success($0) }
        } catch {
            // A lone write's error is its own; a failed commit is every write's.
            guard aWriteFailed, batch.count > 1 else { return batch.map { _ in .failure(error) } }
        }
        // One write threw and took the others' changes with it: again, each in a savepoint.
        var results: [Result<any Sendable, any Error>] = []
        do {
            try db.inTransaction {
                results = batch.map { pending in
                    Result { () throws -> any Sendable in
                        var value: (any Sendable)?
                        try db.inSavepoint {
                            value = try pending.work(db)
                            return .commit
                        }
                        guard let value else { throw LostValue() }
                        return value
                    }
                }
                return .commit
            }
            return results
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }
}
