import Foundation
import FunctionHostCore
import Testing

@testable import FunctionHostEventSources

@Suite struct SQSBatchOutcomeTests {
    let ids = ["a", "b", "c"]

    func decide(_ body: String, error: String? = nil, report: Bool = true) -> SQSBatchOutcome {
        SQSBatchOutcome.decide(functionError: error, payload: Data(body.utf8), messageIDs: ids, reportBatchItemFailures: report)
    }

    @Test(arguments: [#"{"batchItemFailures": []}"#, #"{"batchItemFailures": null}"#, "{}", "null", "", "  \n"])
    func emptyResponsesMeanAllSucceeded(body: String) {
        #expect(decide(body) == .succeeded)
    }

    @Test func listedIdsStayTheRestAreDeleted() {
        #expect(
            decide(#"{"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "c"}]}"#)
                == .partiallyFailed(["b", "c"]))
    }

    @Test(arguments: [
        "not json", "[]", #""ok""#, #"{"batchItemFailures": "b"}"#, #"{"batchItemFailures": [{"itemIdentifier": ""}]}"#,
        #"{"batchItemFailures": [{"itemIdentifier": null}]}"#, #"{"batchItemFailures": [{"foo": "b"}]}"#,
        #"{"batchItemFailures": [{"itemIdentifier": "zzz"}]}"#, #"{"batchItemFailures": [{"itemIdentifier": 7}]}"#,
    ])
    func malformedResponsesFailTheWholeBatch(body: String) {
        guard case .failed = decide(body) else {
            Issue.record("\(body) should fail the batch")
            return
        }
    }

    @Test func aFunctionErrorFailsTheBatchWhateverTheBody() {
        guard case .failed = decide(#"{"batchItemFailures": []}"#, error: "Unhandled") else {
            Issue.record("a function error must fail the batch")
            return
        }
    }

    @Test func withoutReportBatchItemFailuresTheResponseIsIgnored() {
        #expect(decide(#"{"batchItemFailures": [{"itemIdentifier": "b"}]}"#, report: false) == .succeeded)
        #expect(decide("garbage", report: false) == .succeeded)
    }
}

@Suite struct SQSBatcherTests {
    func message(_ id: Int, bodyBytes: Int = 10) -> ConsumedMessage {
        ConsumedMessage(
            messageID: "m\(id)", receiptHandle: "h\(id)", body: String(repeating: "x", count: bodyBytes),
            md5OfBody: "", md5OfMessageAttributes: nil, systemAttributes: [:], messageAttributes: [:])
    }

    @Test func withoutAWindowWhateverArrivedIsABatch() {
        var batcher = SQSBatcher(batchSize: 10, windowSeconds: 0)
        #expect(batcher.wanted == 10)
        batcher.add([message(1), message(2)], now: 1_000)
        #expect(batcher.isReady(now: 1_000))
        #expect(batcher.take(now: 1_000).map(\.messageID) == ["m1", "m2"])
        #expect(!batcher.isReady(now: 1_000))
    }

    @Test func aWindowWaitsUntilFullOrElapsed() {
        var batcher = SQSBatcher(batchSize: 25, windowSeconds: 5)
        batcher.add((1...10).map { message($0) }, now: 1_000)
        #expect(batcher.deadline == 6_000)
        #expect(batcher.wanted == 10)
        #expect(!batcher.isReady(now: 5_999))
        batcher.add((11...20).map { message($0) }, now: 2_000)
        #expect(batcher.wanted == 5)
        #expect(!batcher.isReady(now: 5_999))
        #expect(batcher.isReady(now: 6_000))
        #expect(batcher.take(now: 6_000).count == 20)
        #expect(batcher.deadline == nil)

        batcher.add((1...25).map { message($0) }, now: 7_000)
        #expect(batcher.isReady(now: 7_000))
        #expect(batcher.take(now: 7_000).count == 25)
    }

    @Test func aBatchStopsAtSixMegabytes() {
        var batcher = SQSBatcher(batchSize: 100, windowSeconds: 60)
        batcher.add((1...8).map { message($0, bodyBytes: 1_000_000) }, now: 0)
        #expect(batcher.isReady(now: 0))
        let first = batcher.take(now: 0)
        #expect(first.count == 6)
        #expect(batcher.pending.count == 2)
        #expect(batcher.deadline == 60_000)
    }
}

@Suite struct PollerScalingTests {
    @Test func burstsToFiveAtTheFirstFullReceiveThenAddsOneAtATime() {
        var scaling = PollerScaling(ceiling: 7)
        #expect(scaling.start() == .startPollers(1))
        #expect(scaling.start() == .none)
        #expect(scaling.on(.receivedFull, now: 1_000) == .startPollers(4))
        #expect(scaling.active == 5)
        // At most one scale-up per 200 ms.
        #expect(scaling.on(.receivedFull, now: 1_199) == .none)
        #expect(scaling.on(.receivedFull, now: 1_200) == .startPollers(1))
        #expect(scaling.on(.receivedFull, now: 1_400) == .startPollers(1))
        #expect(scaling.active == 7)
        #expect(scaling.on(.receivedFull, now: 5_000) == .none)
        for _ in 0..<6 { #expect(scaling.on(.receivedEmpty, now: 5_000) == .retire) }
        #expect(scaling.on(.receivedEmpty, now: 5_000) == .none)
        #expect(scaling.active == 1)
    }

    @Test func theBurstStopsAtTheCeiling() {
        var scaling = PollerScaling(ceiling: 3)
        _ = scaling.start()
        #expect(scaling.on(.receivedFull, now: 0) == .startPollers(2))
        #expect(scaling.on(.receivedFull, now: 1_000) == .none)
        #expect(scaling.active == 3)
    }

    @Test func aLowerCeilingStopsGrowth() {
        var scaling = PollerScaling(ceiling: 5)
        _ = scaling.start()
        scaling.ceiling = 1
        #expect(scaling.on(.receivedFull, now: 0) == .none)
    }
}

@Suite struct PollerActivityTests {
    @Test func settledWhenNoPollerIsBusyAndNoneIsDueToWake() {
        var activity = PollerActivity()
        #expect(activity.isSettled(at: 1_000))
        let first = activity.join()
        #expect(!activity.isSettled(at: 1_000), "a poller that just started is busy")
        activity.park(first, wakeAt: 30_000)
        #expect(activity.isSettled(at: 1_000))
        #expect(activity.isSettled(at: 29_999))
        #expect(!activity.isSettled(at: 30_000), "its window closed: due, even before it runs")
        activity.wake(first)
        #expect(!activity.isSettled(at: 30_000))
        activity.park(first, wakeAt: .max)
        #expect(activity.isSettled(at: 30_000))

        let second = activity.join()
        #expect(!activity.isSettled(at: 30_000))
        activity.leave(second)
        #expect(activity.isSettled(at: 30_000))
    }
}

@Suite struct SQSEventTests {
    let message = ConsumedMessage(
        messageID: "id-1", receiptHandle: "rh", body: #"{"kind":"order","n":3}"#, md5OfBody: "md5",
        md5OfMessageAttributes: "amd5",
        systemAttributes: [
            "SenderId": "S", "ApproximateReceiveCount": "2", "SentTimestamp": "1", "ApproximateFirstReceiveTimestamp": "3",
            "MessageGroupId": "g",
        ],
        messageAttributes: ["Author": .init(dataType: "String", stringValue: "J", binaryValue: nil)])

    @Test func recordsAreLambdasShapeInLambdasOrder() throws {
        let json = SQSEvent.json([message], queueARN: "arn:aws:sqs:us-east-1:1:q", region: "us-east-1")
        #expect(
            json
                == #"{"Records":[{"messageId":"id-1","receiptHandle":"rh","body":"{\"kind\":\"order\",\"n\":3}","attributes":{"ApproximateReceiveCount":"2","SentTimestamp":"1","SenderId":"S","ApproximateFirstReceiveTimestamp":"3","MessageGroupId":"g"},"messageAttributes":{"Author":{"stringValue":"J","stringListValues":[],"binaryListValues":[],"dataType":"String"}},"md5OfMessageAttributes":"amd5","md5OfBody":"md5","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:1:q","awsRegion":"us-east-1"}]}"#
        )
        #expect(JSONValue(parsing: json) != nil)
    }

    @Test func filtersSeeTheBodyAsJSONAndTheMetadata() throws {
        func passes(_ patterns: [String], _ message: ConsumedMessage) throws -> Bool {
            SQSEvent.passes(
                message, filters: try patterns.map { try EventFilterPattern(parsing: $0) }, queueARN: "q", region: "r")
        }
        #expect(try passes([], message))
        #expect(try passes([#"{"body": {"kind": ["order"]}}"#], message))
        #expect(try !passes([#"{"body": {"kind": ["refund"]}}"#], message))
        #expect(try passes([#"{"body": {"kind": ["refund"]}}"#, #"{"body": {"n": [{"numeric": [">", 2]}]}}"#], message))
        #expect(try passes([#"{"attributes": {"MessageGroupId": ["g"]}}"#], message))
        #expect(try passes([#"{"messageAttributes": {"Author": {"stringValue": ["J"]}}}"#], message))
        var plain = message
        plain.body = "hello"
        // A body pattern needs a JSON body; a metadata-only pattern does not.
        #expect(try !passes([#"{"body": {"kind": ["order"]}}"#], plain))
        #expect(try passes([#"{"eventSource": ["aws:sqs"]}"#], plain))
    }
}
