import Foundation
import FunctionHostCore
import Testing

@testable import FunctionHostEventSources

@Suite struct StreamShardEngineTests {
    func records(_ range: ClosedRange<Int>, arrivedAt: Int64 = 0) -> [StreamReadRecord] {
        range.map { StreamReadRecord(sequenceNumber: String($0), partitionKey: "k", data: Data(), arrivedAt: arrivedAt) }
    }

    func invoked(_ actions: [StreamShardEngine.Action]) -> [String] {
        for case .invoke(let batch, _) in actions { return batch.map(\.sequenceNumber) }
        return []
    }

    @Test func batchesFollowBatchSizeAndTheWindow() {
        var engine = StreamShardEngine(policy: .init(batchSize: 3, windowMilliseconds: 1_000))
        engine.received(records(1...2), now: 0)
        #expect(engine.next(now: 999).isEmpty)
        #expect(engine.windowDeadline() == 1_000)
        #expect(invoked(engine.next(now: 1_000)) == ["1", "2"])
        engine.received(records(3...7), now: 1_000)
        #expect(engine.completed(.succeeded, now: 1_001) == [.checkpoint("2")])
        #expect(invoked(engine.next(now: 1_001)) == ["3", "4", "5"])
    }

    @Test func aFailedBatchIsRetriedUntilMaximumRetryAttempts() {
        var engine = StreamShardEngine(policy: .init(batchSize: 10, maximumRetryAttempts: 2))
        engine.received(records(1...4), now: 0)
        var invocations = 0
        var discarded: [StreamShardEngine.Action] = []
        var now: Int64 = 0
        while invocations < 10 {
            let actions = engine.next(now: now)
            guard case .invoke(_, let attempt)? = actions.last else { break }
            invocations += 1
            #expect(attempt == invocations)
            let after = engine.completed(.failed(functionError: "Unhandled"), now: now)
            if after.contains(where: { if case .discard = $0 { true } else { false } }) { discarded = after }
            now = engine.windowDeadline() ?? now
        }
        #expect(invocations == 3)
        #expect(discarded == [
            .discard(records(1...4), .retryAttemptsExhausted, invokeCount: 3, functionError: "Unhandled"),
            .checkpoint("4"),
        ])
    }

    @Test func retriesWaitWithAnExponentialBackoffOnTheHostClock() {
        var engine = StreamShardEngine(policy: .init(batchSize: 10))
        engine.received(records(1...2), now: 0)
        var now: Int64 = 0
        var waits: [Int64] = []
        for attempt in 1...9 {
            #expect(engine.next(now: now) == [.invoke(records(1...2), attempt: attempt)])
            #expect(engine.completed(.failed(functionError: "Unhandled"), now: now) == [.retry(count: 2)])
            guard let due = engine.windowDeadline() else { break }
            #expect(engine.next(now: due - 1).isEmpty)
            waits.append(due - now)
            now = due
        }
        #expect(waits == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000])
        #expect(engine.next(now: now) == [.invoke(records(1...2), attempt: 10)])
        #expect(engine.completed(.succeeded, now: now) == [.checkpoint("2")])
    }

    @Test func aBatchWaitingForItsRetryIsGivenUpOnceTooOld() {
        var engine = StreamShardEngine(policy: .init(batchSize: 10, maximumRecordAgeMilliseconds: 60_000))
        engine.received(records(1...1), now: 0)
        var now: Int64 = 0
        var attempts = 0
        var actions = engine.next(now: now)
        while case .invoke(_, _)? = actions.last {
            attempts += 1
            _ = engine.completed(.failed(functionError: "Unhandled"), now: now)
            now = engine.windowDeadline() ?? .max
            actions = engine.next(now: now)
        }
        // Attempts at 0, 1, 3, 7, 15 and 31 s; the record is too old at 60.001 s, before its next retry (63 s).
        #expect(attempts == 6)
        #expect(now == 60_001)
        #expect(actions == [
            .discard(records(1...1), .recordAgeExceeded, invokeCount: 6, functionError: nil), .checkpoint("1"),
        ])
    }

    @Test func bisectingIsolatesAPoisonRecordWithoutUsingRetries() {
        var engine = StreamShardEngine(policy: .init(batchSize: 8, maximumRetryAttempts: 0, bisect: true))
        engine.received(records(1...8), now: 0)
        var delivered: [String] = []
        var discarded: [String] = []
        var bisects = 0
        for _ in 0..<50 {
            let batch = invoked(engine.next(now: 0))
            if batch.isEmpty { break }
            let outcome: StreamShardEngine.Outcome = batch.contains("6") ? .failed(functionError: "Unhandled") : .succeeded
            if outcome == .succeeded { delivered += batch }
            for action in engine.completed(outcome, now: 0) {
                if case .bisected = action { bisects += 1 }
                if case .discard(let gone, _, _, _) = action { discarded += gone.map(\.sequenceNumber) }
            }
        }
        #expect(discarded == ["6"])
        #expect(delivered == ["1", "2", "3", "4", "5", "7", "8"])
        #expect(bisects == 3)
    }

    @Test func aPartialResponseCheckpointsBeforeTheLowestFailure() {
        var engine = StreamShardEngine(policy: .init(batchSize: 5))
        engine.received(records(1...5), now: 0)
        _ = engine.next(now: 0)
        #expect(engine.completed(.failedFrom("3"), now: 0) == [.checkpoint("2"), .retry(count: 3)])
        #expect(engine.next(now: 999).isEmpty)
        #expect(invoked(engine.next(now: 1_000)) == ["3", "4", "5"])
        #expect(engine.completed(.succeeded, now: 1_000) == [.checkpoint("5")])
    }

    @Test func recordsPastTheMaximumAgeAreDiscardedBeforeTheInvocation() {
        var engine = StreamShardEngine(policy: .init(batchSize: 10, maximumRecordAgeMilliseconds: 60_000))
        engine.received(records(1...2, arrivedAt: 0) + records(3...3, arrivedAt: 50_000), now: 50_000)
        let actions = engine.next(now: 70_000)
        #expect(actions == [
            .discard(records(1...2), .recordAgeExceeded, invokeCount: 0, functionError: nil), .checkpoint("2"),
            .invoke(records(3...3, arrivedAt: 50_000), attempt: 1),
        ])
        // Retried until the record itself is too old, then given up for its age.
        #expect(engine.completed(.failed(functionError: "Unhandled"), now: 100_000) == [.retry(count: 1)])
        #expect(invoked(engine.next(now: 101_000)) == ["3"])
        #expect(engine.completed(.failed(functionError: "Unhandled"), now: 110_001) == [
            .discard(records(3...3, arrivedAt: 50_000), .recordAgeExceeded, invokeCount: 2, functionError: nil),
            .checkpoint("3"),
        ])
    }

    @Test func tumblingWindowsCarryStateAndCloseWithAFinalInvocation() {
        var engine = StreamShardEngine(policy: .init(batchSize: 10, tumblingWindowMilliseconds: 60_000))
        let early = records(1...1, arrivedAt: 0) + records(2...2, arrivedAt: 10_000)
        let late = records(3...3, arrivedAt: 70_000)
        engine.received(early + late, now: 70_000)
        // A batch never spans two windows.
        #expect(engine.next(now: 70_000) == [.invoke(early, attempt: 1)])
        #expect(engine.window == .init(start: 0, end: 60_000, state: "{}", isFinal: false))
        engine.windowStateReturned(#"{"n":2}"#)
        #expect(engine.completed(.succeeded, now: 70_000) == [.checkpoint("2")])
        // The first window is over and none of its records wait: its final invocation, without records.
        #expect(engine.next(now: 70_000) == [.invoke([], attempt: 1)])
        #expect(engine.window == .init(start: 0, end: 60_000, state: #"{"n":2}"#, isFinal: true))
        #expect(engine.completed(.succeeded, now: 70_000) == [.windowClosed])
        #expect(engine.next(now: 70_000) == [.invoke(late, attempt: 1)])
        #expect(engine.window == .init(start: 60_000, end: 120_000, state: "{}", isFinal: false))
        #expect(engine.completed(.succeeded, now: 70_000) == [.checkpoint("3")])
        // An open window closes when the clock reaches its end, records or not.
        #expect(engine.next(now: 119_999) == [])
        #expect(engine.windowDeadline() == 120_000)
        #expect(engine.next(now: 120_000) == [.invoke([], attempt: 1)])
    }

    @Test func aTumblingWindowsEndClosesItsBatchBeforeALongerBatchingWindow() {
        var engine = StreamShardEngine(
            policy: .init(batchSize: 10, windowMilliseconds: 300_000, tumblingWindowMilliseconds: 60_000))
        engine.received(records(1...2, arrivedAt: 10_000), now: 10_000)
        #expect(engine.next(now: 59_999).isEmpty)
        #expect(engine.windowDeadline() == 60_000)
        #expect(invoked(engine.next(now: 60_000)) == ["1", "2"])
        engine.windowStateReturned(#"{"n":2}"#)
        #expect(engine.completed(.succeeded, now: 60_000) == [.checkpoint("2")])
        #expect(engine.next(now: 60_000) == [.invoke([], attempt: 1)])
    }

    @Test func aStateOverTheLimitTerminatesTheWindowEarlyAndItGoesOnWithAFreshState() {
        var engine = StreamShardEngine(policy: .init(batchSize: 1, tumblingWindowMilliseconds: 60_000))
        engine.received(records(1...2, arrivedAt: 1_000), now: 1_000)
        #expect(invoked(engine.next(now: 1_000)) == ["1"])
        let huge = #"{"s":""# + String(repeating: "x", count: StreamShardEngine.TumblingWindow.maximumStateBytes) + #""}"#
        engine.windowStateReturned(huge)
        #expect(engine.completed(.succeeded, now: 1_000) == [.checkpoint("1")])
        // Before the window's next record: a final invocation with the over-limit state, marked terminated early.
        #expect(engine.next(now: 1_000) == [.invoke([], attempt: 1)])
        #expect(engine.window?.isFinal == true && engine.window?.isTerminatedEarly == true)
        engine.windowStateReturned("{}")  // the final invocation's state is dropped: the window still ended early
        #expect(engine.completed(.succeeded, now: 1_000) == [.windowClosed])
        // The same window stays open, with a fresh state (saved as such with the next checkpoint).
        #expect(engine.window == .init(start: 0, end: 60_000))
        #expect(invoked(engine.next(now: 1_000)) == ["2"])
        #expect(engine.window == .init(start: 0, end: 60_000, state: "{}", isFinal: false))
    }

    @Test func aFailedFinalInvocationIsRetriedUntilItSucceedsWhateverTheRetryLimit() {
        var engine = StreamShardEngine(
            policy: .init(batchSize: 10, maximumRetryAttempts: 0, tumblingWindowMilliseconds: 60_000))
        engine.received(records(1...1, arrivedAt: 0), now: 0)
        _ = engine.next(now: 0)
        engine.windowStateReturned(#"{"n":1}"#)
        _ = engine.completed(.succeeded, now: 0)
        var now: Int64 = 60_000
        for attempt in 1...5 {
            #expect(engine.next(now: now) == [.invoke([], attempt: attempt)])
            #expect(engine.completed(.failed(functionError: "Unhandled"), now: now) == [.retry(count: 0)])
            now = engine.windowDeadline() ?? now
        }
        #expect(engine.next(now: now) == [.invoke([], attempt: 6)])
        #expect(engine.window?.state == #"{"n":1}"#)
        #expect(engine.completed(.succeeded, now: now) == [.windowClosed])
        #expect(engine.window == nil)
    }

    @Test func aRestoredWindowGoesOnWithItsSavedState() {
        var engine = StreamShardEngine(policy: .init(batchSize: 10, tumblingWindowMilliseconds: 60_000))
        engine.restoreWindow(.init(start: 0, end: 60_000, state: #"{"n":2}"#))
        engine.received(records(3...3, arrivedAt: 30_000), now: 30_000)
        #expect(invoked(engine.next(now: 30_000)) == ["3"])
        #expect(engine.window == .init(start: 0, end: 60_000, state: #"{"n":2}"#, isFinal: false))
    }

    @Test func sequenceNumbersCompareNumerically() {
        #expect(StreamReadRecord.precedes("9", "10"))
        #expect(!StreamReadRecord.precedes("10", "9"))
        #expect(StreamReadRecord.precedes("4421584500000000017450439091", "4421584500000000017450439092"))
    }
}
