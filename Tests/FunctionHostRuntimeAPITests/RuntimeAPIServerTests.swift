import AsyncHTTPClient
import Foundation
import FunctionHostCore
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import Testing

@testable import FunctionHostRuntimeAPI

/// The listener over real loopback HTTP: protocol violations get 4xx JSON, never a crash.
@Suite struct RuntimeAPIServerTests {
    private func send(_ method: HTTPMethod, _ url: String, body: String? = nil, headers: [(String, String)] = [])
        async throws -> (status: Int, body: String)
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    @Test func answersProtocolViolationsWithRAPIDsErrors() async throws {
        let server = try await RuntimeAPIServer.start(mailbox: RuntimeMailbox(), logger: Logger(label: "test"))
        server.admitOwner(uid: geteuid())
        let base = "http://127.0.0.1:\(server.port)/2018-06-01/runtime"

        let unknownPath = try await send(.GET, "\(base)/nothing-here")
        #expect(unknownPath.status == 404)

        let noInvocation = try await send(.POST, "\(base)/invocation/made-up/response", body: "{}")
        #expect(noInvocation.status == 400)
        #expect(noInvocation.body == "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}\n")

        let badMode = try await send(
            .POST, "\(base)/invocation/x/response", body: "{}",
            headers: [("Lambda-Runtime-Function-Response-Mode", "sideways")])
        #expect(badMode.status == 400)
        #expect(badMode.body.contains("InvalidFunctionResponseMode"))

        let initError = try await send(.POST, "\(base)/init/error", body: #"{"errorType":"x"}"#)
        #expect(initError.status == 202)
        #expect(initError.body == "{\"status\":\"OK\"}\n")

        let nextAfterInitError = try await send(.GET, "\(base)/invocation/next")
        #expect(nextAfterInitError.status == 403)
        #expect(nextAfterInitError.body.contains("InvalidStateTransition"))
        await server.stop()
    }

    @Test func hasTheEventHeadersOnNext() async throws {
        let mailbox = RuntimeMailbox()
        let server = try await RuntimeAPIServer.start(mailbox: mailbox, logger: Logger(label: "test"))
        server.admitOwner(uid: geteuid())
        let url = "http://127.0.0.1:\(server.port)/2018-06-01/runtime/invocation/next"
        async let next = HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        _ = await mailbox.waitUntilReady()
        let request = InvocationRequest(
            requestID: "abc", payload: ByteBuffer(string: #"{"a":1}"#),
            invokedFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:f", clientContext: #"{"custom":{}}"#,
            traceID: "Root=1-2-3")
        async let outcome = mailbox.invoke(request, timeout: .seconds(5))
        let response = try await next
        #expect(response.headers.first(name: "Lambda-Runtime-Aws-Request-Id") == "abc")
        #expect(response.headers.first(name: "Lambda-Runtime-Invoked-Function-Arn") == request.invokedFunctionARN)
        #expect(response.headers.first(name: "Lambda-Runtime-Trace-Id") == "Root=1-2-3")
        #expect(response.headers.first(name: "Lambda-Runtime-Client-Context") == #"{"custom":{}}"#)
        let deadline = Int64(response.headers.first(name: "Lambda-Runtime-Deadline-Ms") ?? "") ?? 0
        #expect(deadline > 1_700_000_000_000)
        #expect(String(buffer: try await response.body.collect(upTo: 1024)) == #"{"a":1}"#)
        mailbox.close()
        _ = await outcome
        await server.stop()
    }

    @Test func closesConnectionsOfOtherUsersUnanswered() async throws {
        let server = try await RuntimeAPIServer.start(mailbox: RuntimeMailbox(), logger: Logger(label: "test"))
        server.admitOwner(uid: geteuid() &+ 1)
        let connection = try RawConnection(port: server.port)
        try connection.send("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await connection.receiveUntilClosed() == "")
        await server.stop()
    }

    @Test func answersEveryRequestCompletelyAndClosesOnMalformedOnes() async throws {
        let server = try await RuntimeAPIServer.start(mailbox: RuntimeMailbox(), logger: Logger(label: "test"))
        server.admitOwner(uid: geteuid())
        let connect = try RawConnection(port: server.port)
        try connect.send("CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let answer = try await connect.receiveUntilClosed()
        #expect(answer.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(answer.contains("Content-Length: "))

        let huge = try RawConnection(port: server.port)
        try? huge.send("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nX: " + String(repeating: "a", count: 200_000))
        #expect(try await huge.receiveUntilClosed().hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        await server.stop()
    }

    /// libcurl asks before sending a body over 1 MB (and waits a second for an answer).
    @Test func answersAnExpectationToContinueBeforeTheBody() async throws {
        let server = try await RuntimeAPIServer.start(mailbox: RuntimeMailbox(), logger: Logger(label: "test"))
        server.admitOwner(uid: geteuid())
        let runtime = try RawConnection(port: server.port)
        try runtime.send("POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        #expect(try await runtime.receive(until: "\r\n\r\n") == "HTTP/1.1 100 Continue\r\n\r\n")
        try runtime.send("{}")
        #expect(try await runtime.receive(until: "\n").hasPrefix("HTTP/1.1 202 Accepted\r\n"))
        await server.stop()
    }

    @Test func aClosedParkedNextLosesNothing() async throws {
        let mailbox = RuntimeMailbox()
        let server = try await RuntimeAPIServer.start(mailbox: mailbox, logger: Logger(label: "test"))
        server.admitOwner(uid: geteuid())
        let next = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"
        let abandoned = try RawConnection(port: server.port)
        try abandoned.send(next)
        _ = await mailbox.waitUntilReady()
        abandoned.close()

        try await eventually("the closed connection's /next is withdrawn") { !mailbox.isNextParked }
        let runtime = try RawConnection(port: server.port)
        try runtime.send(next)
        let outcome = Task { await mailbox.invoke(invocation("r1"), timeout: .seconds(5)) }
        let event = try await runtime.receive(until: "\r\n\r\n{}")
        #expect(event.contains("Lambda-Runtime-Aws-Request-Id: r1\r\n"))
        let response = "POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"
        try runtime.send(response)
        guard case .response(let payload, _) = await outcome.value.kind else {
            Issue.record("expected the response")
            return
        }
        #expect(String(buffer: payload) == "ok")
        await server.stop()
    }

    @Test func aResponseCutOffMidBodyFailsTheInvocation() async throws {
        let mailbox = RuntimeMailbox()
        let server = try await RuntimeAPIServer.start(mailbox: mailbox, logger: Logger(label: "test"))
        server.admitOwner(uid: geteuid())
        let runtime = try RawConnection(port: server.port)
        try runtime.send("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = await mailbox.waitUntilReady()
        let outcome = Task { await mailbox.invoke(invocation("r2"), timeout: .seconds(5)) }
        _ = try await runtime.receive(until: "\r\n\r\n{}")
        try runtime.send(
            "POST /2018-06-01/runtime/invocation/r2/response HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"partial\"")
        runtime.close()
        guard case .truncated = await outcome.value.kind else {
            Issue.record("expected a truncated outcome, not the partial body")
            return
        }
        await server.stop()
    }

    private func invocation(_ id: String) -> InvocationRequest {
        InvocationRequest(
            requestID: id, payload: ByteBuffer(string: "{}"),
            invokedFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:f", traceID: "Root=1-2-3")
    }

    /// Retries `body` until it returns true, for at most five seconds.
    private func eventually(_ what: String, _ body: () -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while ContinuousClock.now < deadline {
            if body() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out: \(what)")
    }
}

/// A loopback TCP connection with a receive timeout, for byte-exact protocol checks. Receiving
/// blocks a thread of its own, never one of the few that run the tests' tasks.
private final class RawConnection: @unchecked Sendable {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else { throw POSIXError(errno) }
    }

    deinit {
        Glibc.close(descriptor)
    }

    func send(_ text: String) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeMutableBytes { Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw POSIXError(errno) }
            offset += sent
        }
    }

    /// Everything received until the peer closes (or the timeout passes).
    func receiveUntilClosed() async throws -> String {
        try await onOwnThread { try self.receive { _ in false } }
    }

    /// Everything received until it contains `marker`.
    func receive(until marker: String) async throws -> String {
        try await onOwnThread { try self.receive { $0.contains(marker) } }
    }

    private func onOwnThread(_ body: @escaping @Sendable () throws -> String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    private func receive(done: (String) -> Bool) throws -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == ECONNRESET { break }
            if count < 0 { throw POSIXError(errno) }
            if count == 0 { break }
            received += buffer[..<count]
            if done(String(decoding: received, as: UTF8.self)) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }
}

private struct POSIXError: Error {
    var code: Int32
    init(_ code: Int32) { self.code = code }
}
