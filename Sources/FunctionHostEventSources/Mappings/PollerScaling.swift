/// How many pollers an SQS mapping runs (spec 2.7): one to start; when a receive comes back full
/// (a backlog remains) up to five at once, as Lambda starts five concurrent batches, then one
/// more at most every ``scaleUpInterval`` (Lambda adds up to 300 a minute), up to the ceiling
/// (`MaximumConcurrency` within the function's reserved or the account's concurrency); a poller
/// whose receive comes back empty retires unless it is the last.
///
/// One poller while the queue is quiet keeps a batching window's messages in one batch; the
/// burst reaches throughput as soon as a backlog shows.
///
/// Pure; the mapping runner feeds it events with a monotonic time in milliseconds (real time:
/// this paces the host's own work, it is not Lambda time) and starts or ends pollers as it says.
struct PollerScaling: Sendable, Hashable {
    private(set) var active = 0
    var ceiling: Int
    private var lastScaleUp: Int64?

    /// Milliseconds between two scale-ups (300 a minute).
    static let scaleUpInterval: Int64 = 200
    /// Pollers the first scale-up reaches at once (Lambda's five concurrent batches).
    static let burst = 5

    enum Event: Sendable, Hashable {
        /// A receive returned as many messages as it asked for.
        case receivedFull
        /// A receive returned nothing.
        case receivedEmpty
    }

    enum Action: Sendable, Hashable {
        case none
        /// Start this many more pollers.
        case startPollers(Int)
        /// The poller that reported the event ends.
        case retire
    }

    init(ceiling: Int) { self.ceiling = max(1, ceiling) }

    /// The first poller; call once when the mapping starts.
    mutating func start() -> Action {
        guard active == 0 else { return .none }
        active = 1
        return .startPollers(1)
    }

    mutating func on(_ event: Event, now: Int64) -> Action {
        switch event {
        case .receivedFull:
            guard active < ceiling else { return .none }
            if let lastScaleUp, now - lastScaleUp < Self.scaleUpInterval { return .none }
            lastScaleUp = now
            let added = active < Self.burst ? min(Self.burst, ceiling) - active : 1
            active += added
            return .startPollers(added)
        case .receivedEmpty:
            guard active > 1 else { return .none }
            active -= 1
            return .retire
        }
    }

    /// A poller ended for another reason (the mapping was disabled or the host is stopping).
    mutating func stopped() { active = max(0, active - 1) }
}
