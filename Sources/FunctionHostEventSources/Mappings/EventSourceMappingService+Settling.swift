import FunctionHostCore
import Synchronization

extension EventSourceMappingService: ClockSettling {
    /// Settled when every mapping has handed over what fell due at `now`: SQS batches whose window
    /// closed and messages whose visibility timeout or delay ended have been received, invoked and
    /// deleted or kept; stream batches whose batching or tumbling window closed, or whose retry came
    /// due, have been invoked and checkpointed (a virtual clock's advance waits for this, at most its
    /// settle limit per step).
    public func isSettled(at now: Int64) async -> Bool {
        runners.withLock { Array($0.values) }.allSatisfy { $0.isSettled(at: now) }
    }
}
