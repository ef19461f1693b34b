import Synchronization

/// A ``HostClock`` that moves only when told (`fnhost serve --virtual-clock`, and every
/// time-based test): ``advance(by:)`` wakes what falls due in deadline order, as if that time
/// had passed.
///
/// Each step sets the clock to the earliest pending deadline, wakes every sleeper due by then,
/// and waits until every registered ``ClockSettling`` participant has done what is due (at most
/// ``settleLimit`` of real time per step), so a retry scheduled by a woken task inside the
/// advanced span fires within the same advance. The clock never moves backwards.
/// Thread-safe; overlapping advances are serialised.
public final class VirtualClock: HostClock {
    private struct Sleeper {
        var deadline: Int64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Int64
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        /// Advances in progress or waiting (serialised through ``advancing``).
        var advancing = false
        var advanceWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// How many times the advancing task yields after waking sleepers, so woken tasks can take
    /// their next step (and register their next sleep) before the clock moves on.
    private static let settleYields = 64

    private let state: Mutex<State>
    private let participants = Mutex<[any ClockSettling]>([])

    /// The longest real time one step waits for participants (work parked for other reasons,
    /// such as a reserved concurrency of 0, must not hold the clock forever).
    public static let settleLimit: Duration = .seconds(5)

    /// Starts at `now` (epoch milliseconds); the host starts it at the real time.
    public init(startingAt now: Int64) { state = Mutex(State(now: now)) }

    public func now() -> Int64 { state.withLock { $0.now } }

    /// Makes advances wait for `participant` after each step.
    public func addParticipant(_ participant: any ClockSettling) {
        participants.withLock { $0.append(participant) }
    }

    /// The earliest deadline anything is sleeping until, if any.
    public var nextDeadline: Int64? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    /// Tasks sleeping on this clock.
    public var sleeping: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Int64) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `milliseconds` (negative counts as zero), firing what falls
    /// due in order; returns the new time.
    @discardableResult
    public func advance(by milliseconds: Int64) async -> Int64 {
        await beginAdvance()
        defer { endAdvance() }
        let target = state.withLock { $0.now } &+ max(0, milliseconds)
        while true {
            let due: [CheckedContinuation<Void, any Error>]? = state.withLock { state in
                guard let earliest = state.sleepers.values.map(\.deadline).min(), earliest <= target else {
                    state.now = max(state.now, target)
                    return nil
                }
                state.now = max(state.now, earliest)
                let now = state.now
                let ids = state.sleepers.filter { $0.value.deadline <= now }.map(\.key)
                return ids.compactMap { state.sleepers.removeValue(forKey: $0)?.continuation }
            }
            guard let due else { break }
            for continuation in due { continuation.resume() }
            for _ in 0..<Self.settleYields { await Task.yield() }
            await settle()
        }
        await settle()
        return target
    }

    /// Waits (polling, bounded by ``settleLimit``) until every participant has done what is due now.
    private func settle() async {
        let members = participants.withLock { $0 }
        guard !members.isEmpty else { return }
        let now = self.now()
        let limit = ContinuousClock.now + Self.settleLimit
        for member in members {
            while !(await member.isSettled(at: now)) {
                guard ContinuousClock.now < limit, !Task.isCancelled else { return }
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
    }

    private func beginAdvance() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { state in
                if state.advancing {
                    state.advanceWaiters.append(continuation)
                    return false
                }
                state.advancing = true
                return true
            }
            if proceed { continuation.resume() }
        }
    }

    private func endAdvance() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.advanceWaiters.isEmpty {
                state.advancing = false
                return nil
            }
            return state.advanceWaiters.removeFirst()
        }
        next?.resume()
    }
}
