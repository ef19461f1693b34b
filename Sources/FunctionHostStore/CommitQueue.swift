import GRDB
import Synchronization

/// Group commit: concurrent writes share one SQLite transaction, so one disk sync (the store runs
/// `synchronous = FULL`) serves them all instead of one each.
///
/// ``write(_:)`` returns only after the transaction holding its changes has committed, or throws:
/// its own error (then only its changes are undone, through a savepoint of their own) or the
/// commit's (then nothing of that transaction is kept). There is no timer: a write that arrives
/// while a transaction commits waits for that commit and goes into the next transaction with
/// everything else that arrived meanwhile. The caller whose write opens a transaction runs it
/// and hands the next one to the first write waiting, so no caller runs more than one
/// transaction and no task of its own is needed. Writes run in arrival order. Cancelling a
/// caller does not abandon a write once submitted. Thread-safe.
///
/// Shared by every feature that acknowledges a write only once it is durable (the embedded
/// queue's sends, receives and deletes).
public final class CommitQueue: Sendable {
    private struct State {
        var pending: [PendingWrite] = []
        /// A caller is running a transaction, or has been handed the next one.
        var draining = false
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())

    /// Most writes one transaction carries; the rest go into the next.
    public static let transactionLimit = 512

    public init(writer: any DatabaseWriter) { self.writer = writer }

    /// Writes submitted and not yet in a transaction.
    var waiting: Int { state.withLock { $0.pending.count } }

    /// Whether a transaction is running (or handed to the next caller).
    var isDraining: Bool { state.withLock { $0.draining } }

    /// Runs `work` in a shared transaction and returns its value once that transaction committed.
    public func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let pending = PendingWrite { db in try work(db) }
        let opens = state.withLock { state in
            state.pending.append(pending)
            if state.draining { return false }
            state.draining = true
            return true
        }
        if opens {
            await drain()
        } else if await pending.turn() == .drain {
            await drain()
        }
        guard let value = try pending.outcome?.get() as? T else { throw CancellationError() }
        return value
    }

    /// Runs the waiting writes (at most ``transactionLimit``) in one transaction, wakes them, and
    /// hands the next transaction to the first write still waiting.
    private func drain() async {
        let batch = state.withLock { state in
            let batch = Array(state.pending.prefix(Self.transactionLimit))
            state.pending.removeFirst(batch.count)
            return batch
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            writer.asyncWrite { db in
                for write in batch { write.run(db) }
            } completion: { _, result in
                if case .failure(let error) = result {
                    for write in batch { write.fail(error) }
                }
                continuation.resume()
            }
        }
        let next = state.withLock { state -> PendingWrite? in
            guard let first = state.pending.first else {
                state.draining = false
                return nil
            }
            return first
        }
        for write in batch { write.resume(.committed) }
        next?.resume(.drain)
    }
}
