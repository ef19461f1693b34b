import AsyncHTTPClient
import FunctionHostCore
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
}
