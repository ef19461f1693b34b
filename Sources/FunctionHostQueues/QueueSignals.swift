import FunctionHostCore
import Synchronization

/// In-process wake-ups for long polls: a generation counter per queue, bumped whenever a message
/// may have become receivable, and the receivers parked until it changes or their timeout passes.
///
/// Read ``generation(of:)`` *before* looking at the database, then ``wait(queue:after:timeout:)``:
/// a send that lands in between changes the generation, so the wait returns at once.
final class QueueSignals: Sendable {
    private struct State {
        var generations: [String: UInt64] = [:]
        var waiters: [String: [UInt64: CheckedContinuation<Void, Never>]] = [:]
        var nextID: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())

    func generation(of queue: String) -> UInt64 { state.withLock { $0.generations[queue, default: 0] } }

    /// Wakes every receiver waiting on `queue`.
    func signal(_ queue: String) {
        let waiters = state.withLock { state in
            state.generations[queue, default: 0] &+= 1
            return state.waiters.removeValue(forKey: queue) ?? [:]
        }
        for waiter in waiters.values { waiter.resume() }
    }

    /// Wakes every waiter and makes later waits return at once (graceful shutdown: long polls answer empty).
    func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters.values.flatMap(\.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Receivers parked in a long poll right now.
    var waiting: Int { state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } } }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Returns when `queue` is signalled after `generation`, when `timeout` (real time) passes, when
    /// `clock` reaches `deadline`, on ``close()``, or on cancellation.
    func wait(
        queue: String, after generation: UInt64, timeout: Duration, orUntil deadline: Int64? = nil,
        on clock: (any HostClock)? = nil
    ) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = self.state.withLock { state in
                            if Task.isCancelled || state.closed || state.generations[queue, default: 0] != generation {
                                return true
                            }
                            state.waiters[queue, default: [:]][id] = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    let waiter = self.state.withLock { $0.waiters[queue]?.removeValue(forKey: id) }
                    waiter?.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            if let deadline, let clock { group.addTask { try? await clock.sleep(until: deadline) } }
            await group.next()
            group.cancelAll()
        }
    }
}
