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
        while invocations < 10 {
            let actions = engine.next(now: 0)
            guard case .invoke(_, let attempt)? = actions.last else { break }
            invocations += 1
            #expect(attempt == invocations)
            let after = engine.completed(.failed(functionError: "Unhandled"), now: 0)
            if after.contains(where: { if case .discard = $0 { true } else { false } }) { discarded = after }
        }
        #expect(invocations == 3)
        #expect(discarded == [
            .discard(records(1...4), .retryAttemptsExhausted, invokeCount: 3, functionError: "Unhandled"),
            .checkpoint("4"),
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
        #expect(invoked(engine.next(now: 0)) == ["3", "4", "5"])
        #expect(engine.completed(.succeeded, now: 0) == [.checkpoint("5")])
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
        _ = engine.next(now: 100_000)
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
        #expect(engine.completed(.succeeded, now: 70_000) == [])
        #expect(engine.next(now: 70_000) == [.invoke(late, attempt: 1)])
        #expect(engine.window == .init(start: 60_000, end: 120_000, state: "{}", isFinal: false))
        #expect(engine.completed(.succeeded, now: 70_000) == [.checkpoint("3")])
        // An open window closes when the clock reaches its end, records or not.
        #expect(engine.next(now: 119_999) == [])
        #expect(engine.windowDeadline() == 120_000)
        #expect(engine.next(now: 120_000) == [.invoke([], attempt: 1)])
    }

    @Test func sequenceNumbersCompareNumerically() {
        #expect(StreamReadRecord.precedes("9", "10"))
        #expect(!StreamReadRecord.precedes("10", "9"))
        #expect(StreamReadRecord.precedes("4421584500000000017450439091", "4421584500000000017450439092"))
    }
}
