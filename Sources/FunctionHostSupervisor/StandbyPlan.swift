/// Which standby launchers to keep: a few per memory size in use, started ahead so a cold start
/// finds one already in its cgroup. Pure: ``StandbyLaunchers`` executes the actions.
///
/// A size is in use once a worker of it was asked for (or given at start-up). A size whose
/// launcher could not be started is given up (a cold start of that size then spawns its launcher
/// itself), so a broken cgroup does not loop. After ``stop()`` nothing is started and every
/// launcher that becomes ready is discarded.
struct StandbyPlan: Sendable {
    typealias ID = Int

    enum Action: Equatable, Sendable {
        /// Start a standby launcher of `megabytes`, then report ``started(_:)`` or ``startFailed(_:)``.
        case start(ID, megabytes: Int)
        /// End a standby launcher nobody will use.
        case discard(ID)
    }

    /// Launchers kept ready (or starting) per size.
    let sparesPerSize: Int
    private var sizes: Set<Int>
    /// Ready launchers per size, oldest first.
    private(set) var ready: [Int: [ID]] = [:]
    /// Launchers being started, and their size.
    private(set) var starting: [ID: Int] = [:]
    private var nextID: ID = 0
    private(set) var stopped = false

    init(sizes: Set<Int>, sparesPerSize: Int) {
        self.sizes = sizes
        self.sparesPerSize = sparesPerSize
    }

    /// A worker of `megabytes` starts: the ready launcher it takes (`nil`: it spawns its own), and
    /// the launchers to start in its place.
    mutating func take(megabytes: Int) -> (ID?, [Action]) {
        guard !stopped else { return (nil, []) }
        sizes.insert(megabytes)
        let taken = ready[megabytes]?.isEmpty == false ? ready[megabytes]?.removeFirst() : nil
        return (taken, refill())
    }

    /// The launchers to start so that every size in use has its spares (at start-up, and after each change).
    mutating func refill() -> [Action] {
        guard !stopped else { return [] }
        var actions: [Action] = []
        for size in sizes.sorted() {
            let have = ready[size, default: []].count + starting.values.count { $0 == size }
            for _ in have..<max(have, sparesPerSize) {
                nextID += 1
                starting[nextID] = size
                actions.append(.start(nextID, megabytes: size))
            }
        }
        return actions
    }

    /// Launcher `id` runs and waits for its order.
    mutating func started(_ id: ID) -> [Action] {
        guard let size = starting.removeValue(forKey: id) else { return [] }
        if stopped { return [.discard(id)] }
        ready[size, default: []].append(id)
        return []
    }

    /// Launcher `id` could not be started: its size is given up.
    mutating func startFailed(_ id: ID) {
        guard let size = starting.removeValue(forKey: id) else { return }
        sizes.remove(size)
    }

    /// Ends the plan: every ready launcher is discarded; those still starting are as they report.
    mutating func stop() -> [Action] {
        stopped = true
        defer { ready.removeAll() }
        return ready.values.joined().sorted().map { .discard($0) }
    }
}
