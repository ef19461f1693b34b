import NIOCore
import Testing

@testable import FunctionHostRuntimeAPI

/// The Runtime API's hand-written request reader, fed whole and a byte at a time.
@Suite struct RuntimeAPIRequestParserTests {
    /// Every event `wire` makes, fed in pieces of `step` bytes, then the connection's end.
    private func events(_ wire: String, step: Int = .max) throws(RuntimeAPIParseError) -> [RuntimeAPIRequestParser.Event] {
        try events(Array(wire.utf8), step: step)
    }

    private func events(_ wire: [UInt8], step: Int = .max) throws(RuntimeAPIParseError) -> [RuntimeAPIRequestParser.Event] {
        var parser = RuntimeAPIRequestParser()
        var buffer = ByteBuffer()
        var found: [RuntimeAPIRequestParser.Event] = []
        var offset = 0
        while offset < wire.count {
            let end = offset + min(step, wire.count - offset)
            buffer.writeBytes(wire[offset..<end])
            offset = end
            while let event = try parser.next(&buffer) { found.append(event) }
        }
        if let end = parser.end() { found.append(end) }
        return found
    }

    private func messages(_ wire: String, step: Int = .max) throws -> [RuntimeAPIMessage] {
        try events(wire, step: step).compactMap { if case .request(let message) = $0 { message } else { nil } }
    }

    private static let nextAndResponse =
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nAccept: */*\r\n\r\n"
        + "POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\ncontent-TYPE:  text/plain \r\n"
        + "Lambda-Runtime-Function-Response-Mode: streaming\r\nContent-Length: 5\r\n\r\nhello"
        + "POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1\r\nLAMBDA-RUNTIME-FUNCTION-ERROR-TYPE: Oops\r\n"
        + "Content-Length: 2\r\n\r\n{}"

    @Test(arguments: [Int.max, 1, 7])
    func readsRequestsWithTheirHeadersAndBodies(step: Int) throws {
        let found = try messages(Self.nextAndResponse, step: step)
        #expect(found.count == 3)
        #expect(found[0].call == .next && found[0].keepAlive && found[0].body?.readableBytes == 0)
        #expect(found[1].call == .response(requestID: "r1"))
        #expect(found[1].contentType == "text/plain")
        #expect(found[1].responseMode == "streaming")
        #expect(found[1].body.map { String(buffer: $0) } == "hello")
        #expect(found[2].call == .error(requestID: "r1"))
        #expect(found[2].errorType == "Oops")
        #expect(found[2].body.map { String(buffer: $0) } == "{}")
    }

    @Test(arguments: [Int.max, 1, 5])
    func readsChunkedBodiesAndDropsTheirTrailers(step: Int) throws {
        let wire =
            "POST /2018-06-01/runtime/invocation/r/response HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nLambda-Runtime-Function-Error-Type: X\r\n\r\n"
            + "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n"
        let found = try messages(wire, step: step)
        #expect(found.count == 2)
        #expect(found[0].body.map { String(buffer: $0) } == "hello 0123456789")
        #expect(found[1].call == .next)
    }

    @Test func dropsABodyOverTheLimitAndStaysInStep() throws {
        let size = RuntimeMailbox.maximumResponseSize + 1
        let fixed = "POST /2018-06-01/runtime/invocation/r/response HTTP/1.1\r\nContent-Length: \(size)\r\n\r\n"
            + String(repeating: "a", count: size)
        let chunked = "POST /2018-06-01/runtime/invocation/r/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "\(String(size, radix: 16))\r\n\(String(repeating: "b", count: size))\r\n0\r\n\r\n"
        let found = try messages(fixed + chunked + "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n", step: 65536)
        #expect(found.count == 3)
        #expect(found[0].body == nil && found[1].body == nil)
        #expect(found[2].call == .next)
    }

    @Test func asksForTheBodyOnlyWhenAnHTTP11HeadExpectsToContinue() throws {
        let expecting = try events(
            "POST /2018-06-01/runtime/invocation/r/response HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n{}")
        guard expecting.count == 2, case .expectsContinue = expecting[0], case .request = expecting[1] else {
            Issue.record("expected expectsContinue then the request: \(expecting)")
            return
        }
        for wire in [
            "POST /2018-06-01/runtime/invocation/r/response HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
        ] {
            #expect(try events(wire).count == 1, "\(wire)")
        }
    }

    @Test func keepsConnectionsAliveAsHTTP1Does() throws {
        let cases: [(String, Bool)] = [
            ("HTTP/1.1", true), ("HTTP/1.1\r\nConnection: close", false), ("HTTP/1.1\r\nConnection: Upgrade, CLOSE", false),
            ("HTTP/1.0", false), ("HTTP/1.0\r\nConnection: keep-alive", true),
        ]
        for (tail, keepAlive) in cases {
            let found = try messages("GET /2018-06-01/runtime/invocation/next \(tail)\r\n\r\n")
            #expect(found.map(\.keepAlive) == [keepAlive], "\(tail)")
        }
    }

    @Test func readsARequestForAPathItDoesNotServeToItsEnd() throws {
        let found = try messages("DELETE /elsewhere?x=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
        #expect(found.map(\.call) == [nil, .next])
    }

    @Test func tellsWhichAnswerTheConnectionCutOff() throws {
        for wire in [
            "POST /2018-06-01/runtime/invocation/r9/response HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"a\"",
            "POST /2018-06-01/runtime/invocation/r9/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"",
        ] {
            let found = try events(wire, step: 3)
            guard found.count == 1, case .truncated(.response(requestID: "r9")) = found[0] else {
                Issue.record("expected the cut-off answer to r9: \(found)")
                continue
            }
        }
        #expect(try events("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\nGET /2018-06-01/runt").count == 1)
    }

    @Test(arguments: [
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nX: a\nEvil: b\r\n\r\n",
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nX: a\u{1}b\r\n\r\n",
        "GET /2018-06-01/runtime/invocation/next HTTP/2.0\r\n\r\n",
        "GET  /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n",
        "GET /2018-06-01/runtime/invocation/next\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
    ])
    func refusesWhatIsNotStrictHTTP1(wire: String) {
        #expect(throws: RuntimeAPIParseError.self, "\(wire)") { _ = try events(wire, step: 4) }
    }

    @Test func refusesAHeaderBlockOverItsLimitWithoutWaitingForItsEnd() {
        let head = Array("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nX: ".utf8)
            + [UInt8](repeating: UInt8(ascii: "a"), count: RuntimeAPIRequestParser.maximumHeadBytes)
        #expect(throws: RuntimeAPIParseError.self) { _ = try events(head, step: 1000) }
    }
}
