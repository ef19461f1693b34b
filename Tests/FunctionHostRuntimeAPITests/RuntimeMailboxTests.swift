import FunctionHostCore
import NIOCore
import NIOEmbedded
import Testing

@testable import FunctionHostRuntimeAPI

private func request(_ id: String = "req-1") -> InvocationRequest {
    InvocationRequest(
        requestID: id, payload: ByteBuffer(string: #"{"k":1}"#),
        invokedFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:f", traceID: "Root=1-0-0")
}

extension RuntimeAPIRequest {
    init?(method: String, path: String) {
        var method = method
        var path = path
        guard let request = method.withUTF8({ method in
            path.withUTF8 { path in Self(method: UnsafeRawBufferPointer(method), path: UnsafeRawBufferPointer(path)) }
        }) else { return nil }
        self = request
    }
}

extension RuntimeMailbox {
    /// `/next` as a runtime's connection sees it: the event, or the error it is answered with.
    func runtimeNext() async throws(RuntimeAPIError) -> Delivery {
        let result = await withCheckedContinuation { waiter in
            _ = runtimeNext { waiter.resume(returning: $0) }
        }
        return try result.get()
    }
}

/// Drives a mailbox through `/next` on behalf of a runtime.
private func nextEvent(_ mailbox: RuntimeMailbox) async throws -> RuntimeMailbox.Delivery {
    try await mailbox.runtimeNext()
}

@Suite struct RuntimeMailboxTests {
    @Test func firstNextMakesTheEnvironmentReady() async throws {
        let mailbox = RuntimeMailbox()
        let next = Task { try await mailbox.runtimeNext() }
        guard case .ready = await mailbox.waitUntilReady() else {
            Issue.record("expected ready")
            return
        }
        mailbox.close()
        await #expect(throws: RuntimeAPIError.environmentClosed) { try await next.value }
    }

    @Test func deliversAnInvocationAndReturnsItsResponse() async throws {
        let mailbox = RuntimeMailbox()
        let runtime = Task {
            let delivery = try await nextEvent(mailbox)
            #expect(delivery.request.requestID == "req-1")
            #expect(delivery.deadlineEpochMilliseconds > 0)
            try mailbox.runtimeResponse(
                requestID: "req-1", payload: ByteBuffer(string: "ok"), contentType: "application/json")
        }
        _ = await mailbox.waitUntilReady()
        let outcome = await mailbox.invoke(request(), timeout: .seconds(5))
        guard case .response(let payload, let contentType) = outcome.kind else {
            Issue.record("expected a response, got \(outcome.kind)")
            return
        }
        #expect(String(buffer: payload) == "ok")
        #expect(contentType == "application/json")
        #expect(outcome.deliveredAt != nil)
        try await runtime.value
    }

    @Test func rejectsUnknownRequestIDsAndSecondAnswers() async throws {
        let mailbox = RuntimeMailbox()
        let runtime = Task {
            _ = try await nextEvent(mailbox)
            #expect(throws: RuntimeAPIError.invalidRequestID) {
                try mailbox.runtimeResponse(requestID: "other", payload: ByteBuffer(), contentType: "")
            }
            try mailbox.runtimeError(requestID: "req-1", payload: ByteBuffer(string: "{}"), errorType: "Unhandled")
            #expect(throws: RuntimeAPIError.invalidTransition(from: "RuntimeResponseSentState", to: "InvocationResponse")) {
                try mailbox.runtimeResponse(requestID: "req-1", payload: ByteBuffer(), contentType: "")
            }
        }
        _ = await mailbox.waitUntilReady()
        let outcome = await mailbox.invoke(request(), timeout: .seconds(5))
        guard case .error(_, let errorType) = outcome.kind else {
            Issue.record("expected an error outcome")
            return
        }
        #expect(errorType == "Unhandled")
        try await runtime.value
    }

    @Test func initErrorIsOnlyAcceptedBeforeTheFirstNext() async throws {
        let failing = RuntimeMailbox()
        try failing.runtimeInitError(payload: ByteBuffer(string: "{}"), errorType: "Runtime.ImportModuleError")
        guard case .initError(_, let errorType) = await failing.waitUntilReady() else {
            Issue.record("expected an init error")
            return
        }
        #expect(errorType == "Runtime.ImportModuleError")
        await #expect(throws: RuntimeAPIError.invalidTransition(from: "InitError", to: "Ready")) {
            _ = try await failing.runtimeNext()
        }

        let ready = RuntimeMailbox()
        let parked = Task { try await ready.runtimeNext() }
        _ = await ready.waitUntilReady()
        #expect(throws: RuntimeAPIError.invalidTransition(from: "Ready", to: "InitError")) {
            try ready.runtimeInitError(payload: ByteBuffer(), errorType: nil)
        }
        ready.close()
        await #expect(throws: RuntimeAPIError.environmentClosed) { try await parked.value }
    }

    @Test func aDeadlineEndsTheInvocationAndLateAnswersAreRefused() async throws {
        let mailbox = RuntimeMailbox()
        let runtime = Task { _ = try await nextEvent(mailbox) }
        _ = await mailbox.waitUntilReady()
        let outcome = await mailbox.invoke(request(), timeout: .milliseconds(50))
        guard case .timedOut = outcome.kind else {
            Issue.record("expected a timeout, got \(outcome.kind)")
            return
        }
        try await runtime.value
        #expect(throws: RuntimeAPIError.self) {
            try mailbox.runtimeResponse(requestID: "req-1", payload: ByteBuffer(), contentType: "")
        }
    }

    /// One timer watches every invocation's deadline: a shorter deadline after a longer one that
    /// ended early still ends its invocation, and a timer set for an earlier deadline that comes
    /// due during a later invocation does not end that one.
    @Test func eachInvocationKeepsItsOwnDeadlineWithOneTimer() async throws {
        let mailbox = RuntimeMailbox()
        let runtime = Task {
            for id in ["long", "short"] {
                let delivery = try await nextEvent(mailbox)
                if id == "long" { try mailbox.runtimeResponse(requestID: delivery.request.requestID, payload: ByteBuffer(), contentType: "") }
            }
        }
        _ = await mailbox.waitUntilReady()
        guard case .response = await mailbox.invoke(request("long"), timeout: .seconds(60)).kind else {
            Issue.record("expected a response")
            return
        }
        let started = ContinuousClock.now
        guard case .timedOut = await mailbox.invoke(request("short"), timeout: .milliseconds(50)).kind else {
            Issue.record("expected a timeout")
            return
        }
        #expect(ContinuousClock.now - started < .seconds(30), "the short deadline waited for the long one's timer")
        try await runtime.value

        // On a loop whose clock the test moves: the first deadline passes while the second runs.
        let loop = NIOAsyncTestingEventLoop()
        let early = RuntimeMailbox(timers: loop)
        let earlyRuntime = Task {
            let first = try await nextEvent(early)
            try early.runtimeResponse(requestID: first.request.requestID, payload: ByteBuffer(), contentType: "")
            return try await nextEvent(early)
        }
        _ = await early.waitUntilReady()
        _ = await early.invoke(request("first"), timeout: .milliseconds(100))
        let second = Task { await early.invoke(request("second"), timeout: .seconds(60)) }
        let delivered = try await earlyRuntime.value
        await loop.advanceTime(by: .milliseconds(200))
        try early.runtimeResponse(requestID: delivered.request.requestID, payload: ByteBuffer(string: "late"), contentType: "")
        guard case .response(let payload, _) = await second.value.kind else {
            Issue.record("the first invocation's timer ended the second")
            return
        }
        #expect(String(buffer: payload) == "late")
        try await loop.shutdownGracefully()
    }

    @Test func anOversizedResponseIsRefusedAndTheEnvironmentStaysUsable() async throws {
        let mailbox = RuntimeMailbox()
        let runtime = Task {
            _ = try await nextEvent(mailbox)
            #expect(throws: RuntimeAPIError.tooLarge) {
                try mailbox.runtimeResponse(requestID: "req-1", payload: nil, contentType: "")
            }
            let second = try await nextEvent(mailbox)
            try mailbox.runtimeResponse(
                requestID: second.request.requestID, payload: ByteBuffer(string: "2"), contentType: "application/json")
        }
        _ = await mailbox.waitUntilReady()
        guard case .responseTooLarge = await mailbox.invoke(request(), timeout: .seconds(5)).kind else {
            Issue.record("expected responseTooLarge")
            return
        }
        guard case .response(let payload, _) = await mailbox.invoke(request("req-2"), timeout: .seconds(5)).kind else {
            Issue.record("expected the second invocation to succeed")
            return
        }
        #expect(String(buffer: payload) == "2")
        try await runtime.value
    }

    @Test func closingAnswersTheWaitingInvocation() async throws {
        let mailbox = RuntimeMailbox()
        let runtime = Task { _ = try await nextEvent(mailbox) }
        _ = await mailbox.waitUntilReady()
        async let outcome = mailbox.invoke(request(), timeout: .seconds(30))
        try await runtime.value
        mailbox.close()
        guard case .closed = await outcome.kind else {
            Issue.record("expected closed")
            return
        }
    }
}

@Suite struct RuntimeMailboxConnectionLossTests {
    @Test func aWithdrawnNextLetsTheRuntimeAskAgain() async throws {
        let mailbox = RuntimeMailbox()
        let lost = try #require(mailbox.runtimeNext { _ in Issue.record("a withdrawn /next must not be answered") })
        _ = await mailbox.waitUntilReady()
        mailbox.withdrawNext(lost)
        let runtime = Task {
            let delivery = try await nextEvent(mailbox)
            try mailbox.runtimeResponse(
                requestID: delivery.request.requestID, payload: ByteBuffer(string: "ok"), contentType: "application/json")
        }
        guard case .response(let payload, _) = await mailbox.invoke(request(), timeout: .seconds(5)).kind else {
            Issue.record("expected the invocation to reach the second /next")
            return
        }
        #expect(String(buffer: payload) == "ok")
        try await runtime.value
    }

    @Test func anUndeliveredEventGoesToTheNextNext() async throws {
        let mailbox = RuntimeMailbox()
        let runtime = Task {
            let first = try await nextEvent(mailbox)
            mailbox.returnUndelivered(requestID: first.request.requestID)
            let second = try await nextEvent(mailbox)
            #expect(second.request.requestID == first.request.requestID)
            try mailbox.runtimeResponse(
                requestID: second.request.requestID, payload: ByteBuffer(string: "2"), contentType: "application/json")
        }
        _ = await mailbox.waitUntilReady()
        guard case .response(let payload, _) = await mailbox.invoke(request(), timeout: .seconds(5)).kind else {
            Issue.record("expected the event to be delivered again")
            return
        }
        #expect(String(buffer: payload) == "2")
        try await runtime.value
    }

    @Test func aTruncatedAnswerFailsTheInvocation() async throws {
        let mailbox = RuntimeMailbox()
        let runtime = Task {
            let delivery = try await nextEvent(mailbox)
            mailbox.runtimeAnswerTruncated(requestID: delivery.request.requestID)
        }
        _ = await mailbox.waitUntilReady()
        guard case .truncated = await mailbox.invoke(request(), timeout: .seconds(5)).kind else {
            Issue.record("expected a truncated outcome")
            return
        }
        try await runtime.value
    }
}

@Suite struct RuntimeAPIRequestTests {
    @Test func parsesTheProtocolsPaths() {
        #expect(RuntimeAPIRequest(method: "GET", path: "/2018-06-01/runtime/invocation/next") == .next)
        #expect(
            RuntimeAPIRequest(method: "POST", path: "/2018-06-01/runtime/invocation/abc/response")
                == .response(requestID: "abc"))
        #expect(
            RuntimeAPIRequest(method: "POST", path: "/2018-06-01/runtime/invocation/abc/error") == .error(requestID: "abc"))
        #expect(RuntimeAPIRequest(method: "POST", path: "/2018-06-01/runtime/init/error") == .initError)
        #expect(RuntimeAPIRequest(method: "POST", path: "/2018-06-01/runtime/invocation/next") == nil)
        #expect(RuntimeAPIRequest(method: "GET", path: "/2020-01-01/extension/register") == nil)
        #expect(RuntimeAPIRequest(method: "GET", path: "/2018-06-01/runtime/invocation/next?wait=1") == .next)
        #expect(RuntimeAPIRequest(method: "GET", path: "/2018-06-01/runtime/invocation/abc/response") == nil)
        #expect(RuntimeAPIRequest(method: "POST", path: "/2018-06-01/runtime/invocation/abc/reply") == nil)
        #expect(RuntimeAPIRequest(method: "POST", path: "/2018-06-01/runtime/invocation/") == nil)
        #expect(RuntimeAPIRequest(method: "PUT", path: "/2018-06-01/runtime/init/error") == nil)
        #expect(
            RuntimeAPIRequest(method: "POST", path: "/2018-06-01/runtime/invocation/é-🙂/error") == .error(requestID: "é-🙂"))
    }
}
