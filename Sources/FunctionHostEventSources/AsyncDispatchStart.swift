/// What the dispatcher does with a due event it takes, decided in the write that takes it (so a
/// run's attempt is counted in that same write, before it starts).
///
/// Pure: a function of the event's row, its function's retry policy and reserved concurrency, and
/// the time (seconds on the queue's clock).
enum AsyncDispatchStart: Sendable, Hashable {
    /// Run the function (one more attempt).
    case run
    /// Give it up unrun (reserved concurrency 0, too old, every retry used): its failure destinations.
    case giveUp(AsyncRetryPolicy.FailureCondition)
    /// Its outcome was decided before; only its destinations are still owed.
    case deliver

    init(of record: AsyncInvocationRecord, policy: AsyncRetryPolicy, reservedConcurrency: Int?, now: Double) {
        if record.outcome != nil {
            self = .deliver
        } else if let failure = policy.failureBeforeAttempt(
            attemptsSoFar: record.attempts, age: now - record.enqueuedAt, reservedConcurrency: reservedConcurrency)
        {
            self = .giveUp(failure)
        } else {
            self = .run
        }
    }
}
