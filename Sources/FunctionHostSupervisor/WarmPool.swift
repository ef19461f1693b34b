import FunctionHostCore
import NIOCore

/// Which of one function's execution environments serves, and when environments start and stop,
/// as a pure state machine: every decision of ``FunctionPool``, none of its processes.
///
/// Provisioned environments take invocations first and are never evicted; above them the most
/// recently used idle on-demand one is reused, and a new one is started when none is idle.
/// On-demand environments idle for ``idleTimeout`` are evicted.
///
/// At most ``startLimit`` on-demand environments start at once, each from the decision until its
/// runtime's first `/next` (or failure), or until the owner's timer says it took too long
/// (``startIsSlow(_:)``). An invocation that finds none idle and no start free waits in line and
/// takes whichever comes first, an environment that finished its invocation or a start that became
/// free, so a burst never starts more environments in parallel than the machine can take. Once no
/// one waits, the starts go on (``Action/prewarm(_:)``) until there are as many environments as
/// invocations were in flight at the burst's peak, as Lambda would have started one for each;
/// they come up idle, as after Lambda's proactive initialisation.
///
/// An environment that cannot be reused (it timed out, crashed, or runs code from before a reload)
/// is stopped; a provisioned one that is lost is replaced. Methods take the host-clock time as
/// `now` (epoch milliseconds) and return the ``Action``s the owner carries out; environments are
/// named by ``EnvironmentID``, the owner maps them to its workers. Not thread-safe: the owner
/// serialises calls.
struct WarmPool: Sendable {
    typealias EnvironmentID = UInt64
    /// An invocation waiting in line for an environment.
    typealias WaiterID = UInt64

    enum Kind: Sendable, Hashable {
        case onDemand
        case provisioned
    }

    enum Phase: Sendable, Hashable {
        /// Its process is being started (and, when provisioned, initialised).
        case starting
        /// Waiting for an invocation since `since` (epoch milliseconds).
        case idle(since: Int64)
        case busy
    }

    struct Environment: Sendable, Hashable {
        var kind: Kind
        var phase: Phase
        /// The pool's ``generation`` when it started: an older one runs replaced code.
        var generation: Int
    }

    /// What the owner does after a decision.
    enum Action: Sendable, Hashable {
        /// Stop this environment's process tree and forget it.
        case stop(EnvironmentID)
        /// Start the missing provisioned environments (in the background: ``startProvisioning()``).
        case provision
        /// Tell this waiting invocation what it got: an environment that finished its invocation
        /// (`reuse`, busy again), a start of its own (`start`), or `shuttingDown`.
        case assign(WaiterID, Acquisition)
        /// Start and initialise this new on-demand environment for no invocation in particular (one
        /// the last burst is still owed), then ``prewarmed(_:now:)`` or ``prewarmFailed(_:)``.
        case prewarm(EnvironmentID)
    }

    /// What ``acquire(isAlive:)`` decided for one invocation.
    enum Acquisition: Sendable, Hashable {
        /// Run it on this warm environment (now busy).
        case reuse(EnvironmentID, Kind)
        /// Start this new on-demand environment for it (a cold start), then ``started(_:)`` and
        /// ``initialized(_:)``.
        case start(EnvironmentID)
        /// Wait in line: an ``Action/assign(_:_:)`` for this waiter comes with a later decision.
        case wait(WaiterID)
        /// The pool is stopped.
        case shuttingDown
    }

    /// How long an on-demand environment may stay idle, in milliseconds.
    let idleTimeout: Int64
    /// On-demand environments started at once, at most.
    let startLimit: Int
    /// On-demand environments holding a start: from the decision to their runtime's first `/next`
    /// (or failure), or until the owner says they took too long (``startIsSlow(_:)``).
    private var holdingStarts: Set<EnvironmentID> = []
    /// Invocations waiting for an environment, oldest first.
    private var waiting = CircularBuffer<WaiterID>()
    /// Environments plus invocations in line at the current burst's peak: how many environments
    /// Lambda would have; 0 once there are that many (or a start for them failed).
    private(set) var burstDemand = 0
    private var nextWaiter: WaiterID = 0
    private(set) var environments: [EnvironmentID: Environment] = [:]
    /// Idle on-demand environments; the last is the most recently used.
    private var idleOnDemand: [EnvironmentID] = []
    private var idleProvisioned: [EnvironmentID] = []
    private(set) var busyCount = 0
    private(set) var stopped = false
    /// Bumped by ``drain()``.
    private(set) var generation = 0
    private var nextID: EnvironmentID = 0
    /// Provisioned concurrency as configured (`allocated` is filled in by ``provisionedStatus``).
    private var provisioned: ProvisionedConcurrencyStatus?
    /// Provisioned environments started and initialised (idle or busy).
    private(set) var provisionedAlive = 0
    /// Provisioned environments being started.
    private(set) var provisioning = 0

    init(idleTimeout: Int64, provisioned: ProvisionedConcurrencyStatus? = nil, startLimit: Int = .max) {
        self.idleTimeout = idleTimeout
        self.provisioned = provisioned
        self.startLimit = max(1, startLimit)
    }

    /// Invocations waiting in line.
    var waitingCount: Int { waiting.count }

    /// Starts taken.
    var starting: Int { holdingStarts.count }

    /// Idle environments, provisioned or not.
    var idleCount: Int { idleOnDemand.count + idleProvisioned.count }

    /// Every idle environment (for a liveness check outside the invoke path).
    var idleEnvironments: [EnvironmentID] { idleProvisioned + idleOnDemand }

    // MARK: Invocations

    /// Chooses the environment for one invocation: an idle provisioned one, else the most recently
    /// used idle on-demand one, else a new one while fewer than ``startLimit`` start, else a place
    /// in line. Idle environments whose process exited (`isAlive` false) are dropped on the way,
    /// and lost provisioned ones replaced.
    mutating func acquire(
        isAlive: (EnvironmentID) -> Bool, prefers: (EnvironmentID) -> Bool = { _ in false }
    ) -> (Acquisition, [Action]) {
        guard !stopped else { return (.shuttingDown, []) }
        let (warm, actions) = acquireWarm(isAlive: isAlive, prefers: prefers)
        if let warm { return (.reuse(warm.id, warm.kind), actions) }
        guard starting < startLimit else {
            nextWaiter += 1
            waiting.append(nextWaiter)
            burstDemand = max(burstDemand, environments.count + waiting.count)
            return (.wait(nextWaiter), actions)
        }
        return (.start(holdStart(newEnvironment(.onDemand))), actions)
    }

    /// As ``acquire(isAlive:)`` without the cold start: an idle environment made busy, or `nil`
    /// when none is idle (or the pool stopped); the actions are owed either way. Among the most
    /// recently used idle environments of a kind, one that `prefers` is taken first (the caller's
    /// own event loop: no thread hop), else the most recently used.
    mutating func acquireWarm(
        isAlive: (EnvironmentID) -> Bool, prefers: (EnvironmentID) -> Bool = { _ in false }
    ) -> ((id: EnvironmentID, kind: Kind)?, [Action]) {
        guard !stopped else { return (nil, []) }
        var actions: [Action] = []
        while let id = Self.take(from: &idleProvisioned, prefers: prefers) {
            guard isAlive(id) else {
                environments[id] = nil
                provisionedAlive -= 1
                actions.append(.stop(id))
                continue
            }
            environments[id]?.phase = .busy
            busyCount += 1
            return ((id, .provisioned), actions + replenishment())
        }
        let replenish = replenishment()
        while let id = Self.take(from: &idleOnDemand, prefers: prefers) {
            guard isAlive(id) else {
                environments[id] = nil
                actions.append(.stop(id))
                continue
            }
            environments[id]?.phase = .busy
            busyCount += 1
            return ((id, .onDemand), actions + replenish)
        }
        return (nil, actions + replenish)
    }

    /// How many of the most recently used idle environments a preference looks at: an acquire
    /// stays O(1) however many are idle (a burst leaves a thousand).
    static let preferenceWindow = 8

    /// Removes the most recently used preferred id among the last ``preferenceWindow`` of an idle
    /// list (ordered oldest first), else its last.
    private static func take(from idle: inout [EnvironmentID], prefers: (EnvironmentID) -> Bool) -> EnvironmentID? {
        guard let preferred = idle.suffix(preferenceWindow).lastIndex(where: prefers) else { return idle.popLast() }
        return idle.remove(at: preferred)
    }

    /// A cold start's process is up: true, or false when the pool stopped meanwhile (the owner
    /// stops it and answers that the host is shutting down). It still counts as starting until
    /// ``initialized(_:)``.
    mutating func started(_ id: EnvironmentID) -> Bool {
        guard !stopped else {
            environments[id] = nil
            holdingStarts.remove(id)
            return false
        }
        environments[id]?.phase = .busy
        busyCount += 1
        return true
    }

    /// A started environment's runtime asked for its first event, or its init ended otherwise:
    /// its start (if it still holds it) is free for the next invocation in line.
    mutating func initialized(_ id: EnvironmentID) -> [Action] {
        releaseStart(id)
    }

    /// An environment has held its start as long as a start may (the owner's timer, from the
    /// decision): its init waits on something other than this machine, or the machine is swamped;
    /// it goes on, and its start goes to the next in line, so a function whose init hangs until
    /// its timeout still starts environments at a steady rate.
    mutating func startIsSlow(_ id: EnvironmentID) -> [Action] {
        releaseStart(id)
    }

    /// A cold start could not start its process: its start is free for the next invocation in line.
    mutating func startFailed(_ id: EnvironmentID) -> [Action] {
        environments[id] = nil
        return releaseStart(id)
    }

    /// A prewarmed environment is up and initialised: it serves the oldest invocation in line, or
    /// idles; it is stopped when the pool stopped or the code changed meanwhile. Its start is free.
    mutating func prewarmed(_ id: EnvironmentID, now: Int64) -> [Action] {
        guard let environment = environments[id], !stopped, environment.generation == generation else {
            environments[id] = nil
            return [.stop(id)] + releaseStart(id)
        }
        if let waiter = nextInLine() {
            environments[id]?.phase = .busy
            busyCount += 1
            return [.assign(waiter, .reuse(id, .onDemand))] + releaseStart(id)
        }
        environments[id]?.phase = .idle(since: now)
        idleOnDemand.append(id)
        return releaseStart(id)
    }

    /// A prewarmed environment could not start or failed its init: the burst is owed no more.
    mutating func prewarmFailed(_ id: EnvironmentID) -> [Action] {
        environments[id] = nil
        burstDemand = 0
        return releaseStart(id)
    }

    /// An invocation ended on `id`; `reusable` is false when its environment must be replaced
    /// (timeout, crash, out of memory). A provisioned environment beyond the configured count
    /// (lowered meanwhile) becomes on-demand.
    mutating func finished(_ id: EnvironmentID, reusable: Bool, now: Int64) -> [Action] {
        guard let environment = environments[id] else { return [] }
        busyCount -= 1
        let isProvisioned = environment.kind == .provisioned
        guard reusable, !stopped, environment.generation == generation else {
            environments[id] = nil
            guard isProvisioned else { return [.stop(id)] }
            provisionedAlive -= 1
            return [.stop(id)] + replenishment()
        }
        let stillProvisioned = isProvisioned && provisionedAlive <= provisioned?.requested ?? 0
        if isProvisioned, !stillProvisioned {
            provisionedAlive -= 1
            environments[id]?.kind = .onDemand
        }
        if let waiter = nextInLine() {
            busyCount += 1
            return [.assign(waiter, .reuse(id, stillProvisioned ? .provisioned : .onDemand))]
        }
        environments[id]?.phase = .idle(since: now)
        if stillProvisioned { idleProvisioned.append(id) } else { idleOnDemand.append(id) }
        return []
    }

    /// Evicts on-demand environments idle since `now - idleTimeout` or earlier.
    mutating func evict(now: Int64) -> [Action] {
        let cutoff = now - idleTimeout
        var evicted: [Action] = []
        idleOnDemand.removeAll { id in
            guard case .idle(let since) = environments[id]?.phase, since <= cutoff else { return false }
            environments[id] = nil
            evicted.append(.stop(id))
            return true
        }
        return evicted
    }

    // MARK: Provisioned concurrency

    /// Registers the provisioned environments missing now as starting; the owner starts them and
    /// reports each with ``provisionedStarted(_:now:)`` or ``provisionedFailed(_:)``.
    mutating func startProvisioning() -> [EnvironmentID] {
        guard !stopped, let provisioned else { return [] }
        let missing = provisioned.requested - provisionedAlive - provisioning
        guard missing > 0 else { return [] }
        provisioning += missing
        return (0..<missing).map { _ in newEnvironment(.provisioned) }
    }

    /// A provisioned environment is up and initialised: parked, or stopped when it is no longer
    /// wanted (the pool stopped, the code was reloaded while it started, or the count was lowered).
    mutating func provisionedStarted(_ id: EnvironmentID, now: Int64) -> [Action] {
        provisioning -= 1
        guard let environment = environments[id] else { return [] }
        guard !stopped, environment.generation == generation, provisionedAlive < provisioned?.requested ?? 0 else {
            environments[id] = nil
            // One started before a reload runs the old code: its replacement starts now.
            return environment.generation == generation ? [.stop(id)] : [.stop(id), .provision]
        }
        provisionedAlive += 1
        if let waiter = nextInLine() {
            environments[id]?.phase = .busy
            busyCount += 1
            return [.assign(waiter, .reuse(id, .provisioned))]
        }
        environments[id]?.phase = .idle(since: now)
        idleProvisioned.append(id)
        return []
    }

    /// A provisioned environment could not start or failed its init.
    mutating func provisionedFailed(_ id: EnvironmentID) {
        provisioning -= 1
        environments[id] = nil
    }

    /// After a round of ``startProvisioning()``: `nil` when every environment came up, else the
    /// last failure; `giveUp` after the last try reports the configuration `FAILED` with it.
    mutating func provisioningRound(failure: String?, giveUp: Bool) {
        provisioned?.failureReason = failure != nil && giveUp ? failure : nil
    }

    /// The configuration and how much of it is allocated, or `nil`.
    var provisionedStatus: ProvisionedConcurrencyStatus? {
        guard var status = provisioned else { return nil }
        status.allocated = provisionedAlive
        return status
    }

    /// Sets (or with `nil` removes) provisioned concurrency at `timestamp`: surplus idle
    /// provisioned environments stop (busy ones become on-demand when they finish), missing
    /// ones are to be started.
    mutating func setProvisioned(_ count: Int?, qualifier: String, timestamp: String) -> [Action] {
        provisioned = count.map {
            ProvisionedConcurrencyStatus(qualifier: qualifier, requested: $0, allocated: provisionedAlive, lastModified: timestamp)
        }
        var actions: [Action] = []
        while provisionedAlive > count ?? 0, let id = idleProvisioned.popLast() {
            environments[id] = nil
            provisionedAlive -= 1
            actions.append(.stop(id))
        }
        return actions + replenishment()
    }

    // MARK: Reload and shutdown

    /// The code or layers changed: idle environments stop now, busy ones when their invocation
    /// ends; provisioned ones are started again.
    mutating func drain() -> [Action] {
        generation += 1
        burstDemand = 0
        let stale = idleProvisioned + idleOnDemand
        provisionedAlive -= idleProvisioned.count
        idleProvisioned.removeAll()
        idleOnDemand.removeAll()
        for id in stale { environments[id] = nil }
        return stale.map(Action.stop) + [.provision]
    }

    /// Stops everything: idle and busy environments stop now; invocations in flight end as they
    /// die; those in line are told the pool is shutting down.
    mutating func stop() -> [Action] {
        stopped = true
        burstDemand = 0
        let all = environments.filter { $0.value.phase != .starting }.keys.sorted()
        idleProvisioned.removeAll()
        idleOnDemand.removeAll()
        for id in all where environments[id]?.phase != .busy { environments[id] = nil }
        var rejected: [Action] = []
        while let waiter = nextInLine() { rejected.append(.assign(waiter, .shuttingDown)) }
        return all.map(Action.stop) + rejected
    }

    // MARK: Helpers

    /// Removes and returns the oldest invocation in line, if any.
    private mutating func nextInLine() -> WaiterID? { waiting.popFirst() }

    /// A start became free: a new on-demand environment for the oldest invocation in line, else
    /// one the burst is owed.
    private mutating func startForNextInLine() -> [Action] {
        guard !stopped, starting < startLimit else { return [] }
        if let waiter = nextInLine() {
            return [.assign(waiter, .start(holdStart(newEnvironment(.onDemand))))]
        }
        guard environments.count < burstDemand else {
            burstDemand = 0
            return []
        }
        return [.prewarm(holdStart(newEnvironment(.onDemand)))]
    }

    private mutating func holdStart(_ id: EnvironmentID) -> EnvironmentID {
        holdingStarts.insert(id)
        return id
    }

    /// `id` gives its start back, if it still holds one: to the next in line.
    private mutating func releaseStart(_ id: EnvironmentID) -> [Action] {
        guard holdingStarts.remove(id) != nil else { return [] }
        return startForNextInLine()
    }

    private mutating func newEnvironment(_ kind: Kind) -> EnvironmentID {
        nextID += 1
        environments[nextID] = Environment(kind: kind, phase: .starting, generation: generation)
        return nextID
    }

    /// `[.provision]` when provisioned environments are missing and not being started.
    private func replenishment() -> [Action] {
        guard !stopped, let provisioned, provisionedAlive + provisioning < provisioned.requested else { return [] }
        return [.provision]
    }
}
