/// What a mapping's pollers (SQS) or shard lanes (streams) are doing, so a virtual clock's
/// advance can wait until the mapping has handed over everything that fell due (``ClockSettling``).
///
/// A poller is busy from the moment it wakes until it parks again: receiving, gathering,
/// invoking, deleting or checkpointing. It parks with the host-clock time it must wake at: its
/// batching window's end, the next hidden message's return, a tumbling window's end or a retry's
/// due time, whichever is first (`Int64.max` when nothing is pending, or the mapping is disabled). The mapping is settled at `now` when no poller is busy
/// and none is parked with a wake-up at or before `now` (woken but not yet running counts as due).
///
/// Pure; the runner reports each poller's transitions under its lock.
struct PollerActivity: Sendable, Hashable {
    private var busy: Set<Int> = []
    private var parked: [Int: Int64] = [:]
    private var nextID = 0

    /// A new poller, busy; returns its id.
    mutating func join() -> Int {
        nextID += 1
        busy.insert(nextID)
        return nextID
    }

    /// The poller woke and works.
    mutating func wake(_ id: Int) {
        parked.removeValue(forKey: id)
        busy.insert(id)
    }

    /// The poller waits until the host clock reads `wakeAt` (or something else wakes it).
    mutating func park(_ id: Int, wakeAt: Int64) {
        busy.remove(id)
        parked[id] = wakeAt
    }

    /// The poller ended.
    mutating func leave(_ id: Int) {
        busy.remove(id)
        parked.removeValue(forKey: id)
    }

    /// Whether everything due at or before `now` has been handed over.
    func isSettled(at now: Int64) -> Bool {
        busy.isEmpty && parked.values.allSatisfy { $0 > now }
    }
}
