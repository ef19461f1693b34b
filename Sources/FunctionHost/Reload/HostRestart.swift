import Synchronization

/// What `serve` carries from one run of the services to the next when a changed template is
/// reloaded: the port actually bound (so `--port 0` keeps its port), and the host that
/// replaces the running one once the services have stopped.
final class HostRestart: Sendable {
    private struct State {
        var port: Int
        var next: FunctionHost?
    }
    private let state: Mutex<State>

    init(port: Int) {
        state = Mutex(State(port: port, next: nil))
    }

    var port: Int {
        get { state.withLock { $0.port } }
        set { state.withLock { $0.port = newValue } }
    }

    /// Sets the host to restart with.
    func restart(with host: FunctionHost) {
        state.withLock { $0.next = host }
    }

    /// The host to restart with, if any, cleared for the next run.
    func takeNext() -> FunctionHost? {
        state.withLock { state in
            defer { state.next = nil }
            return state.next
        }
    }
}
