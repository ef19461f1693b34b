import GRDB
import Synchronization

/// One write submitted to a ``CommitQueue``: runs its work inside a savepoint of the shared
/// transaction, keeps the outcome, and wakes its caller when the transaction ended (or tells it
/// to run the next one). Thread-safe.
final class PendingWrite: Sendable {
    /// Why a waiting caller was woken.
    enum Turn: Sendable, Equatable {
        /// Its transaction ended; its outcome is final.
        case committed
        /// It is the first write waiting and runs the next transaction.
        case drain
    }

    private enum Wait {
        case waiting(CheckedContinuation<Turn, Never>?)
        case woken(Turn)
    }

    private struct State {
        var wait = Wait.waiting(nil)
        var outcome: Result<any Sendable, any Error>?
    }

    private let work: @Sendable (Database) throws -> any Sendable
    private let state = Mutex(State())

    init(_ work: @escaping @Sendable (Database) throws -> any Sendable) { self.work = work }

    /// Runs the work in a savepoint: if it throws, only its own changes are undone.
    func run(_ db: Database) {
        let outcome = Result { () throws -> any Sendable in
            var value: (any Sendable)?
            try db.inSavepoint {
                value = try work(db)
                return .commit
            }
            guard let value else { throw CancellationError() }
            return value
        }
        state.withLock { $0.outcome = outcome }
    }

    /// The transaction did not commit: a write that succeeded inside it fails with `error`.
    func fail(_ error: any Error) {
        state.withLock { state in
            if case .success = state.outcome { state.outcome = .failure(error) }
        }
    }

    /// What the work returned or threw (`nil` before ``run(_:)``).
    var outcome: Result<any Sendable, any Error>? { state.withLock { $0.outcome } }

    /// Waits until ``resume(_:)``; not cancellable (a submitted write always runs).
    func turn() async -> Turn {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Turn? in
                if case .woken(let turn) = state.wait { return turn }
                state.wait = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Wakes the caller (once; later calls are ignored).
    func resume(_ turn: Turn) {
        let waiter = state.withLock { state -> CheckedContinuation<Turn, Never>? in
            guard case .waiting(let continuation) = state.wait else { return nil }
            state.wait = .woken(turn)
            return continuation
        }
        waiter?.resume(returning: turn)
    }
}
