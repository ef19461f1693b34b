import Logging
import Synchronization

/// Launchers started ahead of need, per memory size, so a cold start skips the launcher's spawn
/// and its cgroup join: carries out ``StandbyPlan``'s decisions and nothing else.
///
/// ``take(megabytes:)`` hands a ready launcher to a worker (or `nil`: the worker spawns its own,
/// as in a burst that outruns the spares); ``refill()`` starts replacements, off the worker's own
/// start. ``shutdown()`` ends every launcher nobody took (before the host removes its cgroups).
public final class StandbyLaunchers: Sendable {
    private struct State {
        var plan: StandbyPlan
        var launchers: [StandbyPlan.ID: StandbyLauncher] = [:]
        var pending: [StandbyPlan.Action] = []
    }

    private let state: Mutex<State>
    private let launcher: String
    private let lifeline: Int32
    private let inherited: [Int32]
    private let options: [String]
    private let memory: MemoryEnforcement
    private let logger: Logger

    /// Launchers kept ready per memory size. A replacement needs its own cgroup join (5-40 ms under
    /// load) before it saves anything, so with one spare, cold starts one after another (a runtime
    /// that keeps crashing, a ramp) often took a launcher still joining; two cover them. A burst
    /// outruns any small number and spawns the rest.
    static let sparesPerSize = 2

    /// Starts the spares of each size in `sizes` (MB) with `settings`' launcher, lifeline and sandbox descriptors.
    public init(settings: WorkerSettings, memory: MemoryEnforcement, sizes: Set<Int>, logger: Logger) {
        launcher = settings.launcher
        lifeline = settings.lifeline
        inherited = settings.sandbox.inheritedDescriptors
        options = settings.sandbox.standbyArguments
        self.memory = memory
        self.logger = logger
        var plan = StandbyPlan(sizes: sizes, sparesPerSize: Self.sparesPerSize)
        let initial = plan.refill()
        state = Mutex(State(plan: plan, pending: initial))
        refill()
    }

    /// A ready launcher for a worker of `megabytes`, now the caller's; `nil` when none is ready.
    func take(megabytes: Int) -> StandbyLauncher? {
        state.withLock { state in
            let (id, actions) = state.plan.take(megabytes: megabytes)
            state.pending += actions
            return id.flatMap { state.launchers.removeValue(forKey: $0) }
        }
    }

    /// Starts the launchers the plan asked for since the last call.
    func refill() {
        while true {
            let action: StandbyPlan.Action? = state.withLock { state in
                state.pending.isEmpty ? nil : state.pending.removeFirst()
            }
            guard let action else { return }
            switch action {
            case .start(let id, let megabytes):
                start(id, megabytes: megabytes)
            case .discard(let id):
                state.withLock { $0.launchers.removeValue(forKey: id) }?.discard()
            }
        }
    }

    private func start(_ id: StandbyPlan.ID, megabytes: Int) {
        do {
            let resources = try memory.makeCgroups(memoryMegabytes: megabytes)
            let standby: StandbyLauncher
            do {
                standby = try StandbyLauncher(
                    launcher: launcher, megabytes: megabytes, resources: resources, lifeline: lifeline,
                    inherited: inherited,
                    options: options)
            } catch {
                resources.release()
                throw error
            }
            let actions = state.withLock { state in
                state.launchers[id] = standby
                return state.plan.started(id)
            }
            for case .discard(let id) in actions { state.withLock { $0.launchers.removeValue(forKey: id) }?.discard() }
        } catch {
            logger.error("a standby launcher could not be started", metadata: ["error": "\(error)"])
            state.withLock { $0.plan.startFailed(id) }
        }
    }

    /// Ends every launcher nobody took.
    public func shutdown() {
        let discarded = state.withLock { state in
            state.plan.stop().compactMap { action -> StandbyLauncher? in
                guard case .discard(let id) = action else { return nil }
                return state.launchers.removeValue(forKey: id)
            }
        }
        for standby in discarded { standby.discard() }
    }
}
