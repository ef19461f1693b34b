/// The host's one notion of time: everything time-based reads it (schedules, batching windows,
/// async retry delays and event age, SQS visibility timeouts, delays and retention, idle
/// eviction), except a running function's own timeout, which stays on real time.
///
/// Times are milliseconds since the Unix epoch, so persisted times stay meaningful after a
/// restart. ``WallClock`` is real time; ``VirtualClock`` (`fnhost serve --virtual-clock`, and every
/// time-based test) moves only when told. Implementations are thread-safe.
public protocol HostClock: Sendable {
    /// Milliseconds since the Unix epoch, on this clock.
    func now() -> Int64
    /// Returns once this clock reads `deadline` (epoch milliseconds) or later; throws
    /// `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Int64) async throws
}

extension HostClock {
    /// Seconds since the Unix epoch, on this clock.
    public func seconds() -> Double { Double(now()) / 1000 }

    /// Sleeps for `milliseconds` of this clock.
    public func sleep(milliseconds: Int64) async throws {
        try await sleep(until: now() &+ max(0, milliseconds))
    }

    /// Sleeps for `seconds` of this clock (rounded up to the millisecond).
    public func sleep(seconds: Double) async throws {
        guard seconds.isFinite else {
            // An infinite sleep is a sleep until cancellation.
            try await sleep(until: .max)
            return
        }
        try await sleep(milliseconds: Int64((max(0, seconds) * 1000).rounded(.up)))
    }
}
