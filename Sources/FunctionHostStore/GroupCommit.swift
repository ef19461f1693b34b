import GRDB
import Synchronization

/// A commit queue in front of a `DatabaseWriter`: concurrent writes share one transaction, so
/// they share its commit (one WAL fsync under `synchronous = FULL`) instead of paying one each.
///
/// ``write(_:)`` returns once its changes are committed, exactly as `writer.write` would, so a
/// caller may acknowledge durably accepted work (a 202, an SQS 200) right after it. Which writes
/// go together is decided by ``GroupCommitQueue``: a lone write is committed at once; writes that
/// arrive during a commit make the next transaction together. Within a shared transaction each
/// write runs in its own savepoint: one that throws is rolled back alone and its caller gets the
/// error; a failed commit fails every write of the batch.
///
/// Transactions run through `asyncWrite`, on the writer's own queue: a cancelled caller neither
/// cancels the batch it joined nor holds a task thread while it waits.
public final class GroupCommit: Sendable {
    /// One write's database work.
    public typealias Updates = @Sendable (Database) throws -> Void

    /// The most writes one transaction carries.
    public static let maximumBatch = 512

    private struct Pending: Sendable {
        let updates: Updates
        let done: CheckedContinuation<Void, any Error>
    }

    private let writer: any DatabaseWriter
    private let queue: Mutex<GroupCommitQueue<Pending>>

    public init(writer: any DatabaseWriter, maximumBatch: Int = GroupCommit.maximumBatch) {
        self.writer = writer
        queue = Mutex(GroupCommitQueue(maximumBatch: maximumBatch))
    }

    /// Runs `updates` in a transaction shared with concurrent writes; returns once it is committed.
    /// - Throws: the error `updates` threw (its changes rolled back), or the commit's error.
    public func write(_ updates: @escaping Updates) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let pending = Pending(updates: updates, done: done)
            if let batch = queue.withLock({ $0.arrive(pending) }) { commit(batch) }
        }
    }

    /// Writes that wait for the transaction being committed (for tests and diagnostics).
    public var waitingCount: Int { queue.withLock { $0.waiting.count } }

    private func commit(_ batch: [Pending]) {
        writer.asyncWrite(
            { db in
                // A single write needs no savepoint: the transaction is its own.
                guard batch.count > 1 else { return [Result { try batch[0].updates(db) }] }
                return batch.map { pending in
                    Result {
                        try db.inSavepoint {
                            try pending.updates(db)
                            return .commit
                        }
                    }
                }
            },
            completion: { _, committed in
                // The next transaction is queued before anyone is answered: the writer stays busy.
                if let next = self.queue.withLock({ $0.batchCommitted() }) { self.commit(next) }
                switch committed {
                case .success(let results):
                    for (pending, result) in zip(batch, results) { pending.done.resume(with: result) }
                case .failure(let error):
                    for pending in batch { pending.done.resume(throwing: error) }
                }
            })
    }
}
