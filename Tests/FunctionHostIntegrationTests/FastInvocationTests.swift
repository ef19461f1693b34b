import Foundation
import FunctionHostCore
import HTTPTypes
import NIOCore
import Testing

@testable import FunctionHostInvokeAPI

/// Which requests the serve port's event-loop path takes (``InvokeAPI/fastInvocation(for:)``) and
/// the request it builds; everything it declines goes to the router, which the compat suite covers.
@Suite struct FastInvocationTests {
    /// Never called: deciding takes neither an invoker nor a queue.
    private struct Unreachable: Invoker, AsyncInvocationSink {
        struct Called: Error {}
        func invoke(_ function: FunctionConfiguration, _ request: InvocationRequest) async throws -> InvocationResult {
            throw Called()
        }
        func enqueue(_ function: FunctionConfiguration, _ request: InvocationRequest) async throws { throw Called() }
    }

    private let api: InvokeAPI = {
        func function(_ name: String) -> FunctionConfiguration {
            FunctionConfiguration(
                logicalID: name, runtime: FunctionRuntime(identifier: "python3.12")!, handler: "app.handler",
                codeDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("fnhost-fast-path-empty").path)
        }
        var layered = function("Layered")
        layered.publishedLayers = ["arn:aws:lambda:us-east-1:123456789012:layer:shared:1"]
        let catalog = FunctionCatalog([function("Echo"), layered])
        return InvokeAPI(catalog: catalog, invoker: Unreachable(), asyncQueue: Unreachable(), account: AccountContext())
    }()

    private func head(
        _ path: String = "/2015-03-31/functions/Echo/invocations", method: HTTPRequest.Method = .post,
        length: String? = "2", fields: [(String, String)] = []
    ) -> HTTPRequest {
        var request = HTTPRequest(method: method, scheme: nil, authority: "127.0.0.1", path: path)
        if let length { request.headerFields[.contentLength] = length }
        for (name, value) in fields { request.headerFields[HTTPField.Name(name)!] = value }
        return request
    }

    @Test func takesPlainSynchronousInvokesOfAFunctionByName() {
        #expect(api.fastInvocation(for: head())?.function.functionName == "Echo")
        #expect(api.fastInvocation(for: head("/2015-03-31/functions/Echo/invocations/")) != nil)
        #expect(api.fastInvocation(for: head(length: "6291456")) != nil)
        for fields in [[("X-Amz-Invocation-Type", "RequestResponse")], [("X-Amz-Log-Type", "Tail")], [("X-Amz-Log-Type", "None")]] {
            #expect(api.fastInvocation(for: head(fields: fields))?.isEvent == false, "\(fields)")
        }
    }

    @Test func takesPlainEventInvokesWithinTheEventLimit() throws {
        let event = [("X-Amz-Invocation-Type", "Event")]
        #expect(api.fastInvocation(for: head(fields: event))?.isEvent == true)
        #expect(api.fastInvocation(for: head(length: "1048576", fields: event))?.isEvent == true)
        // Over the Event limit (still within the synchronous one): the route answers the 413.
        #expect(api.fastInvocation(for: head(length: "1048577", fields: event)) == nil)
        // An Event's log tail is never asked for, whatever the header says.
        let tail = try #require(api.fastInvocation(for: head(fields: event + [("X-Amz-Log-Type", "Tail")])))
        #expect(try #require(api.request(for: tail, body: ByteBuffer(string: "{}"))).wantsLogTail == false)
    }

    @Test func leavesEverythingElseToTheRouter() {
        let declined: [HTTPRequest] = [
            head(method: .get),
            head("/2015-03-31/functions/Echo/invocations?Qualifier=live"),
            head("/2015-03-31/functions/Echo:live/invocations"),
            head("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3AEcho/invocations"),
            head("/2015-03-31/functions/Nope/invocations"),
            head("/2015-03-31/functions/Layered/invocations"),
            head("/2015-03-31/functions//invocations"),
            head("/2014-11-13/functions/Echo/invoke-async/"),
            head(length: nil),
            head(length: "6291457"),
            head(length: "two"),
            head(fields: [("X-Amz-Invocation-Type", "event")]),
            head(fields: [("X-Amz-Invocation-Type", "Event"), ("X-Amz-Client-Context", "e30=")]),
            head(fields: [("X-Amz-Invocation-Type", "Event"), ("X-Amz-Log-Type", "Everything")]),
            head(fields: [("X-Amz-Invocation-Type", "DryRun")]),
            head(fields: [("X-Amz-Invocation-Type", "Sometimes")]),
            head(fields: [("X-Amz-Log-Type", "Everything")]),
            head(fields: [("X-Amz-Client-Context", "e30=")]),
            head(fields: [("Expect", "100-continue")]),
            head(fields: [("Connection", "close")]),
            head(fields: [("Transfer-Encoding", "chunked")]),
        ]
        for request in declined {
            #expect(api.fastInvocation(for: request) == nil, "\(request.method) \(request.path ?? "") \(request.headerFields)")
        }
    }

    /// The route joins repeated headers as it always has; the fast path takes none of them.
    @Test func leavesRepeatedHeadersItReadsToTheRouter() {
        for name in [HTTPField.Name.contentLength, .amzInvocationType, .amzLogType, .amznTraceID, .amzTenantID] {
            var request = head()
            let value = name == .contentLength ? "2" : name == .amzInvocationType ? "RequestResponse" : name == .amzLogType ? "None" : "x"
            request.headerFields.append(HTTPField(name: name, value: value))
            if name != .contentLength { request.headerFields.append(HTTPField(name: name, value: value)) }
            #expect(api.fastInvocation(for: request) == nil, "\(name)")
        }
    }

    @Test func buildsTheRequestTheRouteWouldAndRefusesWhatIsNotJSON() throws {
        let plain = try #require(api.fastInvocation(for: head(fields: [("X-Amzn-Trace-Id", "Root=1-5f84c7a9-e3b0c44298fc1c149afbf4c8")])))
        let request = try #require(api.request(for: plain, body: ByteBuffer()))
        #expect(String(buffer: request.payload) == "{}")
        #expect(request.invokedFunctionARN == "arn:aws:lambda:us-east-1:123456789012:function:Echo")
        #expect(request.traceID == "Root=1-5f84c7a9-e3b0c44298fc1c149afbf4c8")
        #expect(!request.wantsLogTail)
        #expect(api.request(for: plain, body: ByteBuffer(string: "{nope")) == nil)
        let tail = try #require(api.fastInvocation(for: head(fields: [("X-Amz-Log-Type", "Tail")])))
        #expect(try #require(api.request(for: tail, body: ByteBuffer(string: #"{"a":1}"#))).wantsLogTail)
    }
}
