import FunctionHostCore
import GRDB

extension AsyncInvocationQueue: ClockSettling {
    /// Settled when no attempt is running and no other event is due at `now` (a virtual clock's
    /// advance waits for this, so due events run at their time rather than after the whole
    /// advance). An attempt still waiting for concurrency is not running: the clock does not wait
    /// for capacity to free up (an event may outlive its maximum age waiting).
    public func isSettled(at now: Int64) async -> Bool {
        guard !isStopping else { return true }
        var started: [Int64] = []
        for (name, lane) in lanes {
            let running = lane.running
            if running.count > concurrency?.invocationsWaitingForCapacity(of: name) ?? 0 { return false }
            started += running
        }
        let startedIDs = "\(started)"  // a JSON array
        let due = try? await writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM asyncInvocation WHERE notBefore <= ? AND id NOT IN (SELECT value FROM json_each(?))",
                arguments: [Double(now) / 1000, startedIDs])
        }
        return (due ?? 0) == 0
    }
}
