import Foundation
import Testing

@testable import FunctionHostEventSources

/// What the dispatcher does with a due event it takes (``AsyncDispatchStart``).
@Suite struct AsyncDispatchStartTests {
    private let policy = AsyncRetryPolicy(maximumRetryAttempts: 2, maximumEventAge: 3600, firstRetryDelay: 60)

    private func event(attempts: Int = 0, enqueuedAt: Double = 1000, outcome: String? = nil) -> AsyncInvocationRecord {
        AsyncInvocationRecord(
            id: 1, requestID: "r", functionName: "F", invokedFunctionARN: "arn", traceID: "t", payload: Data("{}".utf8),
            enqueuedAt: enqueuedAt, notBefore: enqueuedAt, attempts: attempts, outcome: outcome)
    }

    @Test func aFreshOrRetriedEventRuns() {
        #expect(AsyncDispatchStart(of: event(), policy: policy, reservedConcurrency: nil, now: 1000) == .run)
        #expect(AsyncDispatchStart(of: event(attempts: 2), policy: policy, reservedConcurrency: 5, now: 1200) == .run)
    }

    @Test func anEventThatMayNotRunIsGivenUpUnrun() {
        #expect(
            AsyncDispatchStart(of: event(), policy: policy, reservedConcurrency: 0, now: 1000)
                == .giveUp(.zeroReservedConcurrency))
        #expect(
            AsyncDispatchStart(of: event(), policy: policy, reservedConcurrency: nil, now: 4601)
                == .giveUp(.eventAgeExceeded))
        // An attempt counted before a crash cut it short counts: every retry is used.
        #expect(
            AsyncDispatchStart(of: event(attempts: 3), policy: policy, reservedConcurrency: nil, now: 1000)
                == .giveUp(.retriesExhausted))
    }

    @Test func aDecidedEventIsOnlyDeliveredWhateverItsFunctionAllowsNow() {
        for outcome in ["Success", "RetriesExhausted"] {
            #expect(
                AsyncDispatchStart(
                    of: event(attempts: 3, outcome: outcome), policy: policy, reservedConcurrency: 0, now: 9999)
                    == .deliver)
        }
    }
}
