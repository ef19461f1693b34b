import FunctionHostCore
import GRDB

extension AsyncInvocationQueue: ClockSettling {
    /// Settled when no attempt is running and no event is due at `now` (a virtual clock's advance
    /// waits for this, so due events run at their time rather than after the whole advance).
    public func isSettled(at now: Int64) async -> Bool {
        guard !isStopping, lanes.values.allSatisfy({ $0.running.isEmpty }) else { return isStopping }
        let due = try? await writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM asyncInvocation WHERE notBefore <= ?", arguments: [Double(now) / 1000])
        }
        return (due ?? 0) == 0
    }
}
