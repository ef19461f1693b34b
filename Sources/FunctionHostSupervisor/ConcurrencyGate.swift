import FunctionHostCore
import Synchronization

/// The one owner of the host's ``ConcurrencyLedger``: admits, throttles or parks invocations
/// and resumes parked ones when capacity frees up. Safe to use from any task; continuations
/// are resumed outside the lock.
final class ConcurrencyGate: Sendable {
    private struct State: Sendable {
        var ledger: ConcurrencyLedger
        var continuations: [ConcurrencyLedger.WaiterID: CheckedContinuation<Void, any Error>] = [:]
        /// Waiters admitted or cancelled before their continuation was stored.
        var admittedEarly: Set<ConcurrencyLedger.WaiterID> = []
        var cancelledEarly: Set<ConcurrencyLedger.WaiterID> = []
    }
    private let state: Mutex<State>

    init(_ ledger: ConcurrencyLedger) {
        state = Mutex(State(ledger: ledger))
    }

    var accountLimit: Int { state.withLock { $0.ledger.accountLimit } }

    /// A consistent copy of the ledger (for the control plane and metrics).
    var snapshot: ConcurrencyLedger { state.withLock { $0.ledger } }

    /// Counts one invocation of `function` in, or throws ``InvokeError/Code/throttled(_:)``
    /// (`.rejectWhenFull`) or waits for room (`.waitForCapacity`; throws `CancellationError`
    /// if the task is cancelled while waiting). Every successful return needs one ``release(_:)``.
    func acquire(_ function: String, admission: InvocationAdmission) async throws {
        switch admission {
        case .rejectWhenFull:
            if let reason = state.withLock({ $0.ledger.acquire(function) }) {
                throw InvokeError(.throttled(reason), "Rate Exceeded.")
            }
        case .waitForCapacity:
            let decision = state.withLock { $0.ledger.acquireOrWait(function) }
            guard case .wait(let id) = decision else { return }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let early: Result<Void, any Error>? = state.withLock { state in
                        if state.admittedEarly.remove(id) != nil { return .success(()) }
                        if state.cancelledEarly.remove(id) != nil { return .failure(CancellationError()) }
                        state.continuations[id] = continuation
                        return nil
                    }
                    if let early { continuation.resume(with: early) }
                }
            } onCancel: {
                let continuation: CheckedContinuation<Void, any Error>? = state.withLock { state in
                    guard state.ledger.cancelWait(id) else { return nil }
                    if let continuation = state.continuations.removeValue(forKey: id) { return continuation }
                    state.cancelledEarly.insert(id)
                    return nil
                }
                continuation?.resume(throwing: CancellationError())
            }
        }
    }

    /// Counts one invocation of `function` in and returns true when there is room now; false
    /// (nothing counted) when it would be throttled or wait.
    func tryAcquire(_ function: String) -> Bool {
        state.withLock { $0.ledger.acquire(function) } == nil
    }

    /// Counts one invocation of `function` out and resumes the waiters that now fit.
    func release(_ function: String) {
        let admitted = state.withLock { state in Self.take(state.ledger.release(function), from: &state) }
        for continuation in admitted { continuation.resume() }
    }

    /// Changes a reservation at run time; waiters that now fit are resumed.
    func setReserved(_ value: Int?, for function: String) throws(ConcurrencyConfigurationError) {
        let admitted = try state.withLock { (state: inout State) throws(ConcurrencyConfigurationError) in
            Self.take(try state.ledger.setReserved(value, for: function), from: &state)
        }
        for continuation in admitted { continuation.resume() }
    }

    private static func take(_ ids: [ConcurrencyLedger.WaiterID], from state: inout State)
        -> [CheckedContinuation<Void, any Error>]
    {
        ids.compactMap { id in
            if let continuation = state.continuations.removeValue(forKey: id) { return continuation }
            state.admittedEarly.insert(id)
            return nil
        }
    }
}
