import FunctionHostCore
import Synchronization

/// One function's dispatch state: which of its events are running, and a wake-up signal the
/// queue pokes when an event is accepted or an attempt ends. Mapping runners use the signal alone
/// to wake a poller or a shard's reader and lanes (settings changed, a batch finished).
///
/// Thread-safe; each lane has one waiting loop.
final class AsyncDispatchLane: Sendable {
    let functionName: String
    private let state = Mutex(State())

    private struct State {
        var running: Set<Int64> = []
        var signalled = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    init(functionName: String) { self.functionName = functionName }

    var running: Set<Int64> { state.withLock { $0.running } }

    func start(_ id: Int64) { state.withLock { _ = $0.running.insert(id) } }

    func finish(_ id: Int64) {
        state.withLock { _ = $0.running.remove(id) }
        signal()
    }

    /// Wakes the waiting loop (or the next wait, when none is waiting).
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.signalled = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns on a signal, when `clock` reaches `deadline` (epoch milliseconds), after `recheck`
    /// of real time (so changed settings are seen), or on cancellation, whichever is first.
    func wait(until deadline: Int64?, on clock: any HostClock, recheckAfter recheck: Duration) async {
        // Signalled while the loop worked (the usual case while events keep arriving): no timers to set up.
        let signalled = state.withLock { state in
            defer { state.signalled = false }
            return state.signalled
        }
        guard !signalled else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal() }
            if let deadline { group.addTask { try? await clock.sleep(until: deadline) } }
            group.addTask { try? await Task.sleep(for: recheck) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.signalled || Task.isCancelled {
                        state.signalled = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            // Resumes a registered waiter; one not yet registered sees the cancellation itself.
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
