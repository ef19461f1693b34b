import Foundation
import FunctionHostCore
import Testing

@testable import FunctionHostEventSources

@Suite struct KinesisEventTests {
    func record(_ data: String, key: String = "k") -> StreamReadRecord {
        StreamReadRecord(sequenceNumber: "7", partitionKey: key, data: Data(data.utf8), arrivedAt: 1_700_000_000_000)
    }

    func passes(_ record: StreamReadRecord, _ patterns: String...) throws -> Bool {
        KinesisEvent.passes(record, filters: try patterns.map { try EventFilterPattern(parsing: $0) })
    }

    @Test func patternsSeeOnlyTheDecodedData() throws {
        #expect(try passes(record(#"{"kind":"keep","n":3}"#), #"{"data": {"kind": ["keep"], "n": [{"numeric": [">", 2]}]}}"#))
        #expect(try !passes(record(#"{"kind":"drop"}"#), #"{"data": {"kind": ["keep"]}}"#))
        // Lambda filters Kinesis records on `data` only: patterns on the metadata never match.
        #expect(try !passes(record(#"{"kind":"keep"}"#, key: "meta"), #"{"kinesis": {"partitionKey": ["meta"]}}"#))
        #expect(try !passes(record(#"{"kind":"keep"}"#), #"{"eventSource": ["aws:kinesis"]}"#))
        #expect(try passes(record("anything")))  // no filters: everything passes
    }

    @Test func nonJSONDataOnlyPassesPatternsThatDoNotLookIntoData() throws {
        #expect(try !passes(record("plain text"), #"{"data": [{"exists": true}]}"#, #"{"data": [{"prefix": "plain"}]}"#))
        #expect(try !passes(record("plain text", key: "meta"), #"{"data": {"kind": ["keep"]}}"#, #"{"kinesis": {"partitionKey": ["meta"]}}"#))
        #expect(try !passes(record("42"), #"{"data": [42]}"#), "a JSON scalar is not JSON data for filtering")
    }

    @Test func dynamoDBPatternsSeeTheStreamRecord() throws {
        let change = StreamReadRecord(
            sequenceNumber: "1", partitionKey: "",
            data: Data(#"{"eventName":"INSERT","dynamodb":{"NewImage":{"kind":{"S":"keep"}}}}"#.utf8), arrivedAt: 0)
        let filter = try EventFilterPattern(parsing: #"{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["keep"]}}}}"#)
        #expect(DynamoDBEvent.passes(change, filters: [filter], streamARN: "arn"))
        let other = try EventFilterPattern(parsing: #"{"eventName": ["MODIFY"]}"#)
        #expect(!DynamoDBEvent.passes(change, filters: [other], streamARN: "arn"))
        // userIdentity as Lambda writes it (keys lower-cased), even when the service repeats a key in both cases.
        let ttl = StreamReadRecord(
            sequenceNumber: "2", partitionKey: "",
            data: Data(#"{"eventName":"REMOVE","userIdentity":{"Type":"Service","type":"Service"}}"#.utf8), arrivedAt: 0)
        let byService = try EventFilterPattern(parsing: #"{"userIdentity": {"type": ["Service"]}}"#)
        #expect(DynamoDBEvent.passes(ttl, filters: [byService], streamARN: "arn"))
    }

    @Test func aWindowOverTheStateLimitSaysItWasTerminatedEarly() {
        let small = StreamShardEngine.TumblingWindow(start: 0, end: 60_000, state: #"{"n":1}"#, isFinal: true)
        #expect(KinesisEvent.windowJSON(small, shardID: "s", streamARN: "a").hasSuffix(#""isWindowTerminatedEarly":false"#))
        let large = StreamShardEngine.TumblingWindow(
            start: 0, end: 60_000, state: "{\"p\":\"" + String(repeating: "x", count: 1 << 20) + "\"}", isFinal: true)
        #expect(KinesisEvent.windowJSON(large, shardID: "s", streamARN: "a").hasSuffix(#""isWindowTerminatedEarly":true"#))
    }
}
