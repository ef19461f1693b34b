import FunctionHostCore

/// Decides which shards of one stream mapping this host holds when several hosts consume the stream
/// through a shared lease table (the Kinesis Client Library's lease model): it renews what it holds,
/// takes leases that are free or expired, and steals from the most loaded host until it holds its
/// fair share, one lease at a time.
///
/// A lease is expired when its counter has not moved for ``leaseDuration`` as seen by this host (its
/// own clock: hosts never compare clocks); a lease first seen counts from that moment. The fair share
/// is the shard count over the hosts holding live leases (this one included), rounded up. A lease
/// this host does not renew within ``leaseDuration`` (the table unreachable) is given up, since
/// another host may take it by then; a shard that is stopping is not taken again until its loop has
/// ended, so one host never runs a shard twice. A lease in this host's name that it does not hold
/// (given up, or held before a template reload) is taken back at once.
///
/// Pure: events with the host's time in milliseconds in, actions out; the executor
/// (``LeasedShardOwnership``) performs them against the table and reports back.
struct ShardLeaseBalancer: Sendable, Hashable {
    /// This host's name in the table's `leaseOwner`.
    let owner: String
    /// Milliseconds without renewal after which a lease is another host's to take.
    let leaseDuration: Int64

    /// How often a held lease is renewed (``ShardLeasing/renewInterval(leaseDuration:)``).
    var renewInterval: Int64 { ShardLeasing.renewInterval(leaseDuration: leaseDuration) }

    private struct Observation: Sendable, Hashable {
        var lease: ShardLease
        /// When this host last saw the lease's counter or owner change.
        var changedAt: Int64
    }

    private struct Held: Sendable, Hashable {
        var counter: Int
        /// When the last successful write of the lease (take or renewal) was sent.
        var renewedAt: Int64
    }

    private var observed: [String: Observation] = [:]
    private var held: [String: Held] = [:]
    /// Shards whose loop was told to stop and has not ended yet.
    private var stopping: Set<String> = []

    init(owner: String, leaseDuration: Int64) {
        self.owner = owner
        self.leaseDuration = max(1, leaseDuration)
    }

    enum Action: Sendable, Hashable {
        /// Write a free lease for a shard the table does not have yet (only if still absent).
        case create(shardID: String)
        /// Make this host the owner, if the counter is still `expectedCounter`.
        case take(shardID: String, expectedCounter: Int)
        /// Add one to the counter, if this host still owns it at `counter`.
        case renew(shardID: String, counter: Int)
        /// Run the shard, resuming after `checkpoint` with the tumbling windows in `windowState`.
        case start(shardID: String, checkpoint: String?, windowState: String? = nil)
        /// Stop the shard's loop before its next checkpoint.
        case stop(shardID: String)
    }

    /// The shards this host holds.
    var heldShards: Set<String> { Set(held.keys) }

    /// The table was read: `leases` are its items, `shards` the stream's shards.
    mutating func scanned(_ leases: [ShardLease], shards: [String], now: Int64) -> [Action] {
        var actions: [Action] = []
        let present = Set(leases.map(\.shardID))
        for shard in shards where !present.contains(shard) {
            actions.append(.create(shardID: shard))
        }
        let streamShards = Set(shards)
        var next: [String: Observation] = [:]
        for lease in leases where streamShards.contains(lease.shardID) {
            if let previous = observed[lease.shardID], previous.lease.counter == lease.counter,
                previous.lease.owner == lease.owner
            {
                next[lease.shardID] = Observation(lease: lease, changedAt: previous.changedAt)
            } else {
                next[lease.shardID] = Observation(lease: lease, changedAt: now)
            }
        }
        observed = next
        // A held lease another host now owns (it was taken or stolen) is lost.
        for shard in held.keys.sorted() {
            guard let seen = observed[shard] else { continue }
            if seen.lease.owner != owner {
                actions += lost(shard)
            }
        }
        return actions + balance(now: now)
    }

    /// Which leases to take: free and expired ones first, else one from the most loaded host.
    private func balance(now: Int64) -> [Action] {
        guard !observed.isEmpty else { return [] }
        var counts: [String: Int] = [owner: held.count]
        var available: [ShardLease] = []
        for (shard, seen) in observed where held[shard] == nil {
            if let holder = seen.lease.owner, holder != owner, now - seen.changedAt < leaseDuration {
                counts[holder, default: 0] += 1
            } else if !stopping.contains(shard) {
                // Free, expired, or this host's own that it no longer runs (given up, or held before a reload).
                available.append(seen.lease)
            }
        }
        let hosts = counts.count
        let target = (observed.count + hosts - 1) / hosts
        let needed = target - held.count
        guard needed > 0 else { return [] }
        if !available.isEmpty {
            return available.sorted { $0.shardID < $1.shardID }.prefix(needed).map {
                .take(shardID: $0.shardID, expectedCounter: $0.counter)
            }
        }
        // Steal one from the most loaded host, if it holds more than its share (or exactly its share
        // while this host is more than one short: 3 shards, 2 hosts, 3–0 becomes 2–1, never 1–2).
        guard
            let (victim, count) = counts.filter({ $0.key != owner }).max(by: { ($0.value, $1.key) < ($1.value, $0.key) }
            ),
            count > target || (count == target && needed > 1)
        else { return [] }
        let candidates = observed.values.filter { $0.lease.owner == victim && !stopping.contains($0.lease.shardID) }
        guard let chosen = candidates.map(\.lease).min(by: { $0.shardID < $1.shardID }) else { return [] }
        return [.take(shardID: chosen.shardID, expectedCounter: chosen.counter)]
    }

    /// A take succeeded: the lease is this host's at `counter` (the write was sent at `now`).
    mutating func taken(_ lease: ShardLease, sentAt now: Int64) -> [Action] {
        guard !stopping.contains(lease.shardID) else { return [] }
        held[lease.shardID] = Held(counter: lease.counter, renewedAt: now)
        observed[lease.shardID] = Observation(lease: lease, changedAt: now)
        return [.start(shardID: lease.shardID, checkpoint: lease.checkpoint, windowState: lease.windowState)]
    }

    /// Time passed: renew what is due, give up what could not be renewed in time.
    mutating func tick(now: Int64) -> [Action] {
        var actions: [Action] = []
        for (shard, mine) in held.sorted(by: { $0.key < $1.key }) {
            if now - mine.renewedAt >= leaseDuration {
                actions += lost(shard)
            } else if now - mine.renewedAt >= renewInterval {
                actions.append(.renew(shardID: shard, counter: mine.counter))
            }
        }
        return actions
    }

    /// A renewal sent at `now` succeeded: the lease is held at `counter`.
    mutating func renewed(_ shardID: String, counter: Int, sentAt now: Int64) {
        guard held[shardID] != nil else { return }
        held[shardID] = Held(counter: counter, renewedAt: now)
    }

    /// A conditional write (renewal or checkpoint) found another owner: the shard stops.
    mutating func lost(_ shardID: String) -> [Action] {
        guard held.removeValue(forKey: shardID) != nil else { return [] }
        stopping.insert(shardID)
        return [.stop(shardID: shardID)]
    }

    /// The mapping stops (the host shuts down, or the mapping was deleted): the held shards, each to
    /// be stopped and its lease handed back once its loop has ended; none is renewed or taken any more.
    mutating func shutdown() -> [String] {
        let shards = held.keys.sorted()
        held = [:]
        stopping.formUnion(shards)
        return shards
    }

    /// The shard's loop ended: it may be taken again.
    mutating func stopped(_ shardID: String) {
        stopping.remove(shardID)
    }
}
