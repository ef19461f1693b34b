/// Work that runs on the host clock and can say whether everything due by a time is done, so a
/// ``VirtualClock`` advance waits for it before moving on (a day of schedules then runs as if the
/// day had passed, instead of piling up at its end).
public protocol ClockSettling: Sendable {
    /// Whether all work due at or before `now` (epoch milliseconds) has been carried out.
    func isSettled(at now: Int64) async -> Bool
}
