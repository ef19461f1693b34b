import Foundation
import FunctionHostCore
import FunctionHostStore
import FunctionHostTesting
import GRDB
import Logging
import NIOCore
import Synchronization
import Testing

@testable import FunctionHostEventSources

/// The queue against an in-memory SQLite store, a scripted invoker and an in-test `QueueSender`
/// (the SQS destinations and DLQ without the queue engine).
@Suite struct AsyncInvocationQueueTests {
    static let queueARN = "arn:aws:sqs:us-east-1:123456789012:destinations"
    static let deadLetterARN = "arn:aws:sqs:us-east-1:123456789012:dead-letters"

    @Test func failuresAreRetriedThenSentToOnFailureAndTheDeadLetterQueue() async throws {
        var function = Self.function()
        function.deadLetterQueueARN = Self.deadLetterARN
        function.eventInvokeConfig = EventInvokeConfig(onFailure: Self.queueARN)
        let harness = try Harness(function)
        try await harness.running { queue in
            try await queue.enqueue(function, Self.request("req-1", #"{"error": "boom"}"#))
            #expect(await eventually { harness.sender.messages.count == 2 })
            // Removed only after the destinations were served.
            #expect(await eventually { (try? await harness.pendingRows()) == 0 })
        }
        #expect(harness.invoker.requestIDs == ["req-1", "req-1", "req-1"])
        let messages = harness.sender.messages
        let onFailure = try #require(messages.first { $0.arn == Self.queueARN })
        let record = try #require(try JSONSerialization.jsonObject(with: Data(onFailure.body.utf8)) as? [String: Any])
        let context = try #require(record["requestContext"] as? [String: Any])
        #expect(context["condition"] as? String == "RetriesExhausted")
        #expect(context["approximateInvokeCount"] as? Int == 3)
        #expect(context["requestId"] as? String == "req-1")
        #expect(context["functionArn"] as? String == "arn:aws:lambda:us-east-1:123456789012:function:Target:$LATEST")
        #expect((record["responseContext"] as? [String: Any])?["functionError"] as? String == "Unhandled")
        #expect((record["responsePayload"] as? [String: Any])?["errorMessage"] as? String == "boom")
        #expect(onFailure.attributes.isEmpty)

        let deadLetter = try #require(messages.first { $0.arn == Self.deadLetterARN })
        #expect(deadLetter.body == #"{"error": "boom"}"#)
        #expect(
            deadLetter.attributes == [
                "RequestID": QueueMessageAttribute(dataType: "String", stringValue: "req-1"),
                "ErrorCode": QueueMessageAttribute(dataType: "Number", stringValue: "200"),
                "ErrorMessage": QueueMessageAttribute(dataType: "String", stringValue: "boom"),
            ])
    }

    @Test func successIsSentToOnSuccessAndNeverToTheDeadLetterQueue() async throws {
        var function = Self.function()
        function.deadLetterQueueARN = Self.deadLetterARN
        function.eventInvokeConfig = EventInvokeConfig(onSuccess: Self.queueARN)
        let harness = try Harness(function)
        try await harness.running { queue in
            try await queue.enqueue(function, Self.request("req-2", #"{"hello": 1}"#))
            #expect(await eventually { harness.sender.messages.count == 1 })
        }
        let message = try #require(harness.sender.messages.first)
        #expect(message.arn == Self.queueARN)
        #expect(
            message.body.hasSuffix(
                #""requestContext":{"requestId":"req-2","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:Target:$LATEST","condition":"Success","approximateInvokeCount":1},"requestPayload":{"hello": 1},"responseContext":{"statusCode":200,"executedVersion":"$LATEST"},"responsePayload":{"ok":true}}"#
            ), "\(message.body)")
    }

    @Test func theDeadLetterErrorMessageIsCutToOneKilobyte() async throws {
        var function = Self.function()
        function.deadLetterQueueARN = Self.deadLetterARN
        function.eventInvokeConfig = EventInvokeConfig(maximumRetryAttempts: 0)
        let harness = try Harness(function)
        let long = String(repeating: "é", count: 1000)
        try await harness.running { queue in
            try await queue.enqueue(function, Self.request("req-3", #"{"error": "\#(long)"}"#))
            #expect(await eventually { harness.sender.messages.count == 1 })
        }
        let message = try #require(harness.sender.messages.first)
        #expect(message.attributes["ErrorMessage"]?.stringValue == String(repeating: "é", count: 512))
        #expect(harness.invoker.requestIDs.count == 1)
    }

    @Test func anAcceptedEventSurvivesTheQueueThatAcceptedIt() async throws {
        let function = Self.function()
        let harness = try Harness(function)
        // Accepted by a queue that never runs (the host died), run by the next one on the same store.
        try await harness.makeQueue().enqueue(function, Self.request("req-4", "{}"))
        #expect(try await harness.pendingRows() == 1)
        try await harness.running { _ in
            #expect(await eventually { harness.invoker.requestIDs == ["req-4"] })
            #expect(await eventually { (try? await harness.pendingRows()) == 0 })
        }
    }

    @Test func anUnreachableDestinationKeepsTheEventAndDeliversLaterWithoutRunningItAgain() async throws {
        var function = Self.function()
        function.eventInvokeConfig = EventInvokeConfig(onSuccess: "arn:aws:sqs:us-east-1:123456789012:missing")
        let harness = try Harness(function)
        try await harness.running { queue in
            try await queue.enqueue(function, Self.request("req-5", "{}"))
            #expect(await eventually { (try? await harness.outcomes()) == ["Success"] })
            #expect(try await harness.pendingRows() == 1, "kept, not dropped")
            harness.sender.create("missing")
            // The first delivery retry comes after 1 s (the host's backoff for its own failures).
            #expect(await eventually(timeout: .seconds(10)) { harness.sender.messages.count == 1 })
            #expect(await eventually { (try? await harness.pendingRows()) == 0 })
        }
        #expect(harness.invoker.requestIDs == ["req-5"], "delivered again, never run again")
        #expect(harness.sender.messages.first?.body.contains(#""condition":"Success""#) == true)
    }

    // MARK: Support

    static func function() -> FunctionConfiguration {
        FunctionConfiguration(
            logicalID: "Target", runtime: FunctionRuntime(identifier: "python3.12")!, handler: "app.handler",
            codeDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("fnhost-queue-test-empty").path)
    }

    static func request(_ id: String, _ payload: String) -> InvocationRequest {
        InvocationRequest(
            requestID: id, payload: ByteBuffer(string: payload),
            invokedFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:Target", traceID: "Root=1-0-0")
    }

    struct Harness {
        let writer: DatabaseQueue
        let function: FunctionConfiguration
        let invoker = ScriptedInvoker()
        let sender = RecordingSender()

        init(_ function: FunctionConfiguration) throws {
            self.function = function
            writer = try DatabaseQueue()
            _ = try Store(writer: writer, migrations: [AsyncInvocationMigrations.self])
        }

        func makeQueue() -> AsyncInvocationQueue {
            AsyncInvocationQueue(
                writer: writer, catalog: FunctionCatalog([function]), invoker: invoker,
                configs: EventInvokeConfigRegistry([function]), account: AccountContext(), queueSender: sender,
                firstRetryDelay: 0.01, logger: Self.logger)
        }

        static let logger: Logger = {
            var logger = Logger(label: "queue-test")
            logger.logLevel = .critical
            return logger
        }()

        func running(_ body: (AsyncInvocationQueue) async throws -> Void) async throws {
            let queue = makeQueue()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await queue.run() }
                defer { group.cancelAll() }
                try await body(queue)
            }
        }

        func outcomes() async throws -> [String?] {
            try await writer.read { db in try String?.fetchAll(db, sql: "SELECT outcome FROM asyncInvocation") }
        }

        func pendingRows() async throws -> Int {
            try await writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM asyncInvocation") ?? -1 }
        }
    }
}

/// Fails events that carry `"error"` (as a Python handler raising ValueError would), echoes others.
final class ScriptedInvoker: Invoker {
    private let calls = Mutex<[String]>([])
    var requestIDs: [String] { calls.withLock { $0 } }

    func invoke(_ function: FunctionConfiguration, _ request: InvocationRequest) async throws -> InvocationResult {
        calls.withLock { $0.append(request.requestID) }
        let event = (try? JSONSerialization.jsonObject(with: Data(request.payload.readableBytesView))) as? [String: Any]
        if let message = event?["error"] as? String {
            let error = try JSONSerialization.data(withJSONObject: [
                "errorMessage": message, "errorType": "ValueError", "requestId": request.requestID, "stackTrace": [],
            ])
            return InvocationResult(payload: ByteBuffer(bytes: error), functionError: "Unhandled")
        }
        return InvocationResult(payload: ByteBuffer(string: #"{"ok":true}"#))
    }
}

/// Keeps what was sent; a queue named `missing` does not exist until ``create(_:)``.
final class RecordingSender: QueueSender {
    struct Message: Sendable {
        var arn: String
        var body: String
        var attributes: [String: QueueMessageAttribute]
    }

    struct NoSuchQueue: Error {}

    private let sent = Mutex<[Message]>([])
    private let created = Mutex<Set<String>>([])
    var messages: [Message] { sent.withLock { $0 } }

    /// From now on the queue named `name` exists.
    func create(_ name: String) {
        created.withLock { _ = $0.insert(name) }
    }

    func send(toQueueARN arn: String, body: String, attributes: [String: QueueMessageAttribute]) async throws {
        if arn.hasSuffix(":missing"), !created.withLock({ $0.contains("missing") }) { throw NoSuchQueue() }
        sent.withLock { $0.append(Message(arn: arn, body: body, attributes: attributes)) }
    }
}
