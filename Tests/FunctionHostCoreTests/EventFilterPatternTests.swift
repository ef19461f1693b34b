import Testing

@testable import FunctionHostCore

@Suite struct EventFilterPatternTests {
    func matches(_ pattern: String, _ record: String) throws -> Bool {
        try EventFilterPattern(parsing: pattern).matches(try #require(JSONValue(parsing: record)))
    }

    @Test(arguments: [
        // equality, AND across keys, OR within a list
        (#"{"body": {"kind": ["order"]}}"#, #"{"body": {"kind": "order"}}"#, true),
        (#"{"body": {"kind": ["order"]}}"#, #"{"body": {"kind": "refund"}}"#, false),
        (#"{"body": {"kind": ["order", "refund"]}}"#, #"{"body": {"kind": "refund"}}"#, true),
        (#"{"body": {"kind": ["order"], "n": [5]}}"#, #"{"body": {"kind": "order", "n": 6}}"#, false),
        (#"{"body": {"n": [5]}}"#, #"{"body": {"n": 5.0}}"#, true),
        (#"{"body": {"n": ["5"]}}"#, #"{"body": {"n": 5}}"#, false),
        (#"{"body": {"flag": [true]}}"#, #"{"body": {"flag": true}}"#, true),
        (#"{"body": {"flag": [true]}}"#, #"{"body": {"flag": 1}}"#, false),
        (#"{"body": {"v": [null]}}"#, #"{"body": {"v": null}}"#, true),
        (#"{"body": {"v": [null]}}"#, #"{"body": {}}"#, false),
        (#"{"body": {"v": [""]}}"#, #"{"body": {"v": ""}}"#, true),
        // prefix, suffix, equals-ignore-case
        (#"{"body": {"region": [{"prefix": "us-"}]}}"#, #"{"body": {"region": "us-east-1"}}"#, true),
        (#"{"body": {"region": [{"prefix": "us-"}]}}"#, #"{"body": {"region": "eu-west-1"}}"#, false),
        (#"{"body": {"file": [{"suffix": ".png"}]}}"#, #"{"body": {"file": "a/b.png"}}"#, true),
        (#"{"body": {"file": [{"suffix": ".png"}]}}"#, #"{"body": {"file": 7}}"#, false),
        (#"{"body": {"name": [{"equals-ignore-case": "ALICE"}]}}"#, #"{"body": {"name": "alice"}}"#, true),
        // anything-but
        (#"{"body": {"state": [{"anything-but": ["done", "failed"]}]}}"#, #"{"body": {"state": "new"}}"#, true),
        (#"{"body": {"state": [{"anything-but": ["done", "failed"]}]}}"#, #"{"body": {"state": "done"}}"#, false),
        (#"{"body": {"state": [{"anything-but": "done"}]}}"#, #"{"body": {}}"#, false),
        (#"{"body": {"state": [{"anything-but": {"prefix": "tmp"}}]}}"#, #"{"body": {"state": "tmp-1"}}"#, false),
        // exists
        (#"{"body": {"id": [{"exists": true}]}}"#, #"{"body": {"id": 0}}"#, true),
        (#"{"body": {"id": [{"exists": true}]}}"#, #"{"body": {}}"#, false),
        (#"{"body": {"id": [{"exists": false}]}}"#, #"{"body": {}}"#, true),
        (#"{"body": {"id": [{"exists": false}]}}"#, #"{"body": {"id": "x"}}"#, false),
        // numeric
        (#"{"body": {"price": [{"numeric": [">", 10, "<=", 20]}]}}"#, #"{"body": {"price": 20}}"#, true),
        (#"{"body": {"price": [{"numeric": [">", 10, "<=", 20]}]}}"#, #"{"body": {"price": 10}}"#, false),
        (#"{"body": {"price": [{"numeric": ["=", 3.5]}]}}"#, #"{"body": {"price": 3.5}}"#, true),
        (#"{"body": {"price": [{"numeric": [">=", 0]}]}}"#, #"{"body": {"price": "5"}}"#, false),
        // arrays in the record: any element
        (#"{"body": {"tags": ["red"]}}"#, #"{"body": {"tags": ["blue", "red"]}}"#, true),
        // metadata
        (#"{"attributes": {"ApproximateReceiveCount": ["1"]}}"#, #"{"attributes": {"ApproximateReceiveCount": "1"}}"#, true),
    ])
    func matching(pattern: String, record: String, expected: Bool) throws {
        #expect(try matches(pattern, record) == expected)
    }

    @Test(arguments: [
        "not json", "[1]", "{}", #"{"body": "x"}"#, #"{"body": {"a": []}}"#, #"{"body": {"a": [{"prefix": 1}]}}"#,
        #"{"body": {"a": [{"numeric": [">", "x"]}]}}"#, #"{"body": {"a": [{"numeric": ["<", 5, ">", 1]}]}}"#,
        #"{"body": {"a": [{"wildcard-ish": "x"}]}}"#, #"{"body": {"a": [{"prefix": "a", "suffix": "b"}]}}"#,
        #"{"body": {"a": [[1]]}}"#,
    ])
    func invalidPatternsAreRefused(pattern: String) {
        #expect(throws: EventFilterPattern.Invalid.self) { try EventFilterPattern(parsing: pattern) }
    }

    @Test func deepAndLongPatternsAreRefusedNotCrashed() {
        let deep = String(repeating: #"{"a":"#, count: 40) + "[1]" + String(repeating: "}", count: 40)
        #expect(throws: EventFilterPattern.Invalid.self) { try EventFilterPattern(parsing: deep) }
        let long = #"{"a": [""# + String(repeating: "x", count: 5000) + #""]}"#
        #expect(throws: EventFilterPattern.Invalid.self) { try EventFilterPattern(parsing: long) }
    }
}
