/// Lambda's decision after each attempt of an `Event` invocation: done, retry later, or give up
/// (spec: async-and-event-sources 1.2).
///
/// Pure and synchronous; times are seconds on the queue's clock. Function errors are retried
/// `maximumRetryAttempts` times after `firstRetryDelay`, then twice that; an event is given up
/// with `EventAgeExceeded` as soon as its age *plus the next delay* would pass the maximum age
/// (the look-ahead real Lambda applies), so a 60 s maximum fails right after the first attempt.
public struct AsyncRetryPolicy: Sendable, Hashable {
    public var maximumRetryAttempts: Int
    public var maximumEventAge: Double
    /// Delay after the first failed attempt (Lambda: 60 s); each later one doubles it.
    public var firstRetryDelay: Double

    public init(maximumRetryAttempts: Int, maximumEventAge: Double, firstRetryDelay: Double = 60) {
        self.maximumRetryAttempts = maximumRetryAttempts
        self.maximumEventAge = maximumEventAge
        self.firstRetryDelay = firstRetryDelay
    }

    /// Why an event was given up (the invocation record's `condition`).
    public enum FailureCondition: String, Sendable, Hashable, CaseIterable {
        case retriesExhausted = "RetriesExhausted"
        case eventAgeExceeded = "EventAgeExceeded"
        /// The function's reserved concurrency is 0: Lambda fails its events at once.
        case zeroReservedConcurrency = "ZeroReservedConcurrency"
    }

    public enum Decision: Sendable, Hashable {
        /// The function returned: deliver to `OnSuccess`.
        case succeeded
        /// Run it again after this many seconds.
        case retry(after: Double)
        /// Deliver to `OnFailure` and the DLQ.
        case failed(FailureCondition)
    }

    /// Decides after an attempt. `attempts` counts executions so far, this one included; `age`
    /// is the time since the event was accepted.
    public func decide(functionFailed: Bool, attempts: Int, age: Double) -> Decision {
        guard functionFailed else { return .succeeded }
        if attempts > maximumRetryAttempts { return .failed(.retriesExhausted) }
        let delay = retryDelay(afterAttempt: attempts)
        // A retry that would land at the maximum age itself is not waited for either: on Lambda an
        // attempt always takes some time, so a 60 s maximum fails after attempt 1 even when the
        // clock stood still during it (a virtual clock).
        if age + delay >= maximumEventAge { return .failed(.eventAgeExceeded) }
        return .retry(after: delay)
    }

    /// Decides before an attempt whether the event is given up instead of run: its function may
    /// not run at all (reserved concurrency 0), it is already too old (it waited for capacity, or
    /// the host was down), or `attemptsSoFar` (counted before each attempt started, so one a crash
    /// cut short counts too) already used every retry.
    public func failureBeforeAttempt(attemptsSoFar: Int, age: Double, reservedConcurrency: Int?) -> FailureCondition? {
        if reservedConcurrency == 0 { return .zeroReservedConcurrency }
        if age > maximumEventAge { return .eventAgeExceeded }
        if attemptsSoFar > maximumRetryAttempts { return .retriesExhausted }
        return nil
    }

    /// The delay after attempt `attempt` (1-based): first, then doubled for each later attempt.
    public func retryDelay(afterAttempt attempt: Int) -> Double {
        firstRetryDelay * Double(1 << max(0, min(attempt - 1, 20)))
    }

    /// Delay before re-running an attempt the host itself could not start (a spawn failure):
    /// 1 s, 2 s, 4 s ... capped at 300 s; it does not count as an attempt.
    public static func systemRetryDelay(consecutiveFailures: Int) -> Double {
        min(300, Double(1 << max(0, min(consecutiveFailures, 9))))
    }
}
