import FunctionHostEventSources
import Testing

@Suite struct AsyncRetryPolicyTests {
    let lambda = AsyncRetryPolicy(maximumRetryAttempts: 2, maximumEventAge: 21600)

    @Test func successIsDeliveredWhateverTheAttempt() {
        #expect(lambda.decide(functionFailed: false, attempts: 1, age: 0.1) == .succeeded)
        #expect(lambda.decide(functionFailed: false, attempts: 3, age: 200) == .succeeded)
    }

    @Test func errorsAreRetriedAfter60ThenAfter120Seconds() {
        #expect(lambda.decide(functionFailed: true, attempts: 1, age: 0.1) == .retry(after: 60))
        #expect(lambda.decide(functionFailed: true, attempts: 2, age: 60.2) == .retry(after: 120))
        #expect(lambda.decide(functionFailed: true, attempts: 3, age: 180.3) == .failed(.retriesExhausted))
    }

    @Test func zeroRetriesGiveUpAfterTheFirstAttempt() {
        let policy = AsyncRetryPolicy(maximumRetryAttempts: 0, maximumEventAge: 21600)
        #expect(policy.decide(functionFailed: true, attempts: 1, age: 0.1) == .failed(.retriesExhausted))
    }

    @Test func theConfiguredFirstDelayDoubles() {
        let policy = AsyncRetryPolicy(maximumRetryAttempts: 2, maximumEventAge: 21600, firstRetryDelay: 0.2)
        #expect(policy.decide(functionFailed: true, attempts: 1, age: 0) == .retry(after: 0.2))
        #expect(policy.decide(functionFailed: true, attempts: 2, age: 0.2) == .retry(after: 0.4))
    }

    /// Real Lambda with a 60 s maximum age does not wait 60 s: EventAgeExceeded after attempt 1.
    @Test func eventAgeLooksAheadAtTheNextDelay() {
        let sixty = AsyncRetryPolicy(maximumRetryAttempts: 2, maximumEventAge: 60)
        #expect(sixty.decide(functionFailed: true, attempts: 1, age: 0.05) == .failed(.eventAgeExceeded))
        #expect(sixty.decide(functionFailed: true, attempts: 1, age: 0) == .failed(.eventAgeExceeded))
        let ninety = AsyncRetryPolicy(maximumRetryAttempts: 2, maximumEventAge: 90)
        #expect(ninety.decide(functionFailed: true, attempts: 1, age: 0.05) == .retry(after: 60))
        #expect(ninety.decide(functionFailed: true, attempts: 2, age: 60.1) == .failed(.eventAgeExceeded))
    }

    @Test func anEventOlderThanTheMaximumIsNotAttempted() {
        let policy = AsyncRetryPolicy(maximumRetryAttempts: 2, maximumEventAge: 60)
        #expect(policy.failureBeforeAttempt(attemptsSoFar: 0, age: 59, reservedConcurrency: nil) == nil)
        #expect(policy.failureBeforeAttempt(attemptsSoFar: 0, age: 61, reservedConcurrency: nil) == .eventAgeExceeded)
    }

    @Test func countedAttemptsAndAZeroReservationEndTheEventBeforeItRuns() {
        let policy = AsyncRetryPolicy(maximumRetryAttempts: 2, maximumEventAge: 3600)
        // Three attempts were counted (the last one cut short by a crash): no fourth.
        #expect(policy.failureBeforeAttempt(attemptsSoFar: 2, age: 10, reservedConcurrency: nil) == nil)
        #expect(policy.failureBeforeAttempt(attemptsSoFar: 3, age: 10, reservedConcurrency: nil) == .retriesExhausted)
        #expect(policy.failureBeforeAttempt(attemptsSoFar: 0, age: 0, reservedConcurrency: 0) == .zeroReservedConcurrency)
        #expect(policy.failureBeforeAttempt(attemptsSoFar: 0, age: 0, reservedConcurrency: 1) == nil)
    }

    @Test func systemRetriesBackOffToFiveMinutes() {
        #expect(AsyncRetryPolicy.systemRetryDelay(consecutiveFailures: 0) == 1)
        #expect(AsyncRetryPolicy.systemRetryDelay(consecutiveFailures: 3) == 8)
        #expect(AsyncRetryPolicy.systemRetryDelay(consecutiveFailures: 30) == 300)
    }
}
