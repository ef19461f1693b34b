import GRDB
import Synchronization

/// A commit queue in front of a `DatabaseWriter`: concurrent writes share one transaction, so
/// they share its commit (one WAL fsync under `synchronous = FULL`) instead of paying one each.
///
/// ``write(_:)`` returns once its changes are committed (with what its work returned), exactly as
/// `writer.write` would, so a
/// caller may acknowledge durably accepted work (a 202, an SQS 200) right after it. Which writes
/// go together is decided by ``GroupCommitQueue``: a lone write is committed at once; writes that
/// arrive during a commit make the next transaction together. Within a shared transaction each
/// write runs in its own savepoint: one that throws is rolled back alone and its caller gets the
/// error; a failed commit fails every write of the batch.
///
/// Transactions run through `asyncWrite`, on the writer's own queue: a cancelled caller neither
/// cancels the batch it joined nor holds a task thread while it waits.
public final class GroupCommit: Sendable {
    /// The most writes one transaction carries.
    public static let maximumBatch = 512

    private struct Pending: Sendable {
        let work: @Sendable (Database) throws -> any Sendable
        let done: CheckedContinuation<any Sendable, any Error>
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
        let value = try await withCheckedThrowingContinuation { (done: CheckedContinuation<any Sendable, any Error>) in
            let pending = Pending(work: { db in try work(db) }, done: done)
            if let batch = queue.withLock({ $0.arrive(pending) }) { commit(batch) }
        }
        guard let typed = value as? T else { throw LostValue() }
        return typed
    }

    /// Writes that wait for the transaction being committed (for tests and diagnostics).
    public var waitingCount: Int { queue.withLock { $0.waiting.count } }

    private func commit(_ batch: [Pending]) {
        writer.asyncWrite(
            { db in
                // A single write needs no savepoint: the transaction is its own.
                guard batch.count > 1 else { return [Result { try batch[0].work(db) }] }
                return batch.map { pending in
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
