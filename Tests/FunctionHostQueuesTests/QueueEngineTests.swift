import FunctionHostCore
import FunctionHostStore
import GRDB
import Testing

@testable import FunctionHostQueues

@Suite struct QueueEngineTests {
    let time = VirtualClock(startingAt: 1_700_000_000_000)
    let account = AccountContext()

    func makeEngine(_ queues: [QueueDefinition]) async throws -> QueueEngine {
        let store = try Store(writer: try DatabaseQueue(), migrations: [QueueMigrations.self])
        let engine = QueueEngine(writer: store.writer, account: account, clock: time)
        try await engine.ensure(queues)
        return engine
    }

    @Test func visibilityTimeoutFollowsTheInjectedClock() async throws {
        var queue = QueueDefinition(name: "q")
        queue.visibilityTimeout = 30
        let engine = try await makeEngine([queue])
        _ = try await engine.send(to: "q", OutgoingMessage(body: "hi"))
        let first = try await engine.receive(from: "q", ReceiveRequest())
        #expect(first.map(\.body) == ["hi"])
        #expect(try await engine.receive(from: "q", ReceiveRequest()).isEmpty)
        await time.advance(by: 29_000)
        #expect(try await engine.receive(from: "q", ReceiveRequest()).isEmpty)
        await time.advance(by: 1_000)
        let again = try await engine.receive(from: "q", ReceiveRequest())
        #expect(again.first?.systemAttributes["ApproximateReceiveCount"] == "2")
        #expect(again.first?.receiptHandle != first.first?.receiptHandle)
    }

    @Test func redriveMovesAfterMaxReceiveCountAndKeepsTheMessage() async throws {
        let dlq = QueueDefinition(name: "dlq")
        var work = QueueDefinition(name: "work")
        work.redrive = .init(deadLetterTargetARN: account.queueARN("dlq"), maxReceiveCount: 1)
        let engine = try await makeEngine([dlq, work])
        let sent = try await engine.send(
            to: "work", OutgoingMessage(body: "poison", attributes: ["k": .init(dataType: "String", stringValue: "v")]))
        _ = try await engine.receive(from: "work", ReceiveRequest(visibilityTimeout: 0))
        #expect(try await engine.receive(from: "work", ReceiveRequest()).isEmpty)
        let moved = try #require(try await engine.receive(from: "dlq", ReceiveRequest()).first)
        #expect(moved.messageID == sent.messageID)
        #expect(moved.attributes == ["k": .init(dataType: "String", stringValue: "v")])
        #expect(moved.systemAttributes["DeadLetterQueueSourceArn"] == account.queueARN("work"))
        #expect(moved.systemAttributes["ApproximateReceiveCount"] == "2")
    }

    @Test func fifoDeduplicatesForFiveMinutes() async throws {
        var queue = QueueDefinition(name: "f.fifo")
        queue.contentBasedDeduplication = true
        let engine = try await makeEngine([queue])
        var message = OutgoingMessage(body: "same")
        message.groupID = "g"
        let first = try await engine.send(to: "f.fifo", message)
        await time.advance(by: 299_000)
        #expect(try await engine.send(to: "f.fifo", message).messageID == first.messageID)
        await time.advance(by: 1_000)
        #expect(try await engine.send(to: "f.fifo", message).messageID != first.messageID)
    }

    @Test func fifoRequiresAGroup() async throws {
        let engine = try await makeEngine([QueueDefinition(name: "f.fifo")])
        await #expect(throws: QueueError.missing("MessageGroupId")) {
            _ = try await engine.send(to: "f.fifo", OutgoingMessage(body: "x"))
        }
    }

    @Test func retentionDropsOldMessages() async throws {
        var queue = QueueDefinition(name: "short")
        queue.messageRetentionPeriod = 60
        let engine = try await makeEngine([queue])
        _ = try await engine.send(to: "short", OutgoingMessage(body: "old"))
        await time.advance(by: 60_000)
        #expect(try await engine.receive(from: "short", ReceiveRequest()).isEmpty)
    }

    @Test func queueSenderSendsByARN() async throws {
        let engine = try await makeEngine([QueueDefinition(name: "dest")])
        try await engine.send(
            toQueueARN: account.queueARN("dest"), body: "{}",
            attributes: ["RequestID": QueueMessageAttribute(dataType: "String", stringValue: "r-1")])
        let message = try #require(try await engine.receive(from: "dest", ReceiveRequest()).first)
        #expect(message.attributes["RequestID"]?.stringValue == "r-1")
        await #expect(throws: QueueError.noQueue) {
            try await engine.send(toQueueARN: account.queueARN("missing"), body: "{}", attributes: [:])
        }
    }

    /// Waits (bounded) until a long poll is parked on the engine.
    func parked(_ engine: QueueEngine) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while engine.signals.waiting == 0 {
            try #require(ContinuousClock.now < deadline, "no long poll parked within 10 s")
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test func aLongPollWakesWhenAMessageIsSent() async throws {
        let engine = try await makeEngine([QueueDefinition(name: "lp")])
        let started = ContinuousClock.now
        async let received = engine.receive(from: "lp", ReceiveRequest(waitSeconds: 20))
        // Send only once the poll is parked, so the wake-up (not the first look) is what delivers.
        try await parked(engine)
        _ = try await engine.send(to: "lp", OutgoingMessage(body: "wake"))
        #expect(try await received.map(\.body) == ["wake"])
        #expect(started.duration(to: .now) < .seconds(10))
    }

    @Test func closingEndsParkedLongPolls() async throws {
        let engine = try await makeEngine([QueueDefinition(name: "lp")])
        async let received = engine.receive(from: "lp", ReceiveRequest(waitSeconds: 20))
        try await parked(engine)
        engine.signals.close()
        #expect(try await received.isEmpty)
        #expect(try await engine.receive(from: "lp", ReceiveRequest(waitSeconds: 20)).isEmpty)
    }

    @Test func depthsCountByState() async throws {
        let engine = try await makeEngine([QueueDefinition(name: "d")])
        var delayed = OutgoingMessage(body: "later")
        delayed.delaySeconds = 10
        _ = try await engine.sendBatch(to: "d", [OutgoingMessage(body: "a"), OutgoingMessage(body: "b"), delayed])
        _ = try await engine.receive(from: "d", ReceiveRequest())
        #expect(try await engine.depths() == [QueueDepthReport(name: "d", visible: 1, inFlight: 1, delayed: 1)])
    }

    @Test func aStaleReceiptHandleNeitherDeletesNorHidesTheMessage() async throws {
        var queue = QueueDefinition(name: "q")
        queue.visibilityTimeout = 10
        let engine = try await makeEngine([queue])
        _ = try await engine.send(to: "q", OutgoingMessage(body: "m"))
        let stale = try #require(try await engine.receive(from: "q", ReceiveRequest()).first).receiptHandle
        await time.advance(by: 10_000)
        let current = try #require(try await engine.receive(from: "q", ReceiveRequest()).first).receiptHandle

        try await engine.delete(from: "q", receiptHandle: stale)  // succeeds, as on SQS, but deletes nothing
        await #expect(throws: QueueError.self) {
            try await engine.changeVisibility(of: "q", receiptHandle: stale, timeout: 0)
        }
        await time.advance(by: 10_000)
        let again = try #require(try await engine.receive(from: "q", ReceiveRequest()).first)
        #expect(again.systemAttributes["ApproximateReceiveCount"] == "3")
        #expect(again.receiptHandle != current)
        try await engine.delete(from: "q", receiptHandle: again.receiptHandle)
        await time.advance(by: 10_000)
        #expect(try await engine.receive(from: "q", ReceiveRequest()).isEmpty)
    }

    @Test func aFIFOQueueRefusesAStaleReceiptHandle() async throws {
        var queue = QueueDefinition(name: "s.fifo")
        queue.visibilityTimeout = 10
        queue.contentBasedDeduplication = true
        let engine = try await makeEngine([queue])
        var message = OutgoingMessage(body: "m")
        message.groupID = "g"
        _ = try await engine.send(to: "s.fifo", message)
        let stale = try #require(try await engine.receive(from: "s.fifo", ReceiveRequest()).first).receiptHandle
        await time.advance(by: 10_000)
        _ = try #require(try await engine.receive(from: "s.fifo", ReceiveRequest()).first)
        await #expect(throws: QueueError.self) { try await engine.delete(from: "s.fifo", receiptHandle: stale) }
        let outcomes = try await engine.deleteBatch(from: "s.fifo", receiptHandles: [stale])
        #expect(outcomes.first??.code == .receiptHandleIsInvalid)
    }

    @Test func oneLargeFIFOGroupDoesNotStarveTheOthers() async throws {
        var queue = QueueDefinition(name: "big.fifo")
        queue.contentBasedDeduplication = true
        let engine = try await makeEngine([queue])
        var batch: [OutgoingMessage] = []
        for index in 0..<1_000 {
            var message = OutgoingMessage(body: "a\(index)")
            message.groupID = "a"
            batch.append(message)
            if batch.count == 10 {
                _ = try await engine.sendBatch(to: "big.fifo", batch)
                batch = []
            }
        }
        var other = OutgoingMessage(body: "b0")
        other.groupID = "b"
        _ = try await engine.send(to: "big.fifo", other)
        let first = try await engine.receive(from: "big.fifo", ReceiveRequest(maximum: 10))
        #expect(first.allSatisfy { $0.body.hasPrefix("a") })
        let second = try await engine.receive(from: "big.fifo", ReceiveRequest(maximum: 10))
        #expect(second.map(\.body) == ["b0"], "group a is in flight: group b is next")
    }

    @Test func eachHandleOfOneReceiveDeletesOnlyItsOwnMessage() async throws {
        var queue = QueueDefinition(name: "h")
        queue.visibilityTimeout = 10
        let engine = try await makeEngine([queue])
        _ = try await engine.sendBatch(to: "h", (0..<5).map { OutgoingMessage(body: "m\($0)") })
        let received = try await engine.receive(from: "h", ReceiveRequest(maximum: 10))
        #expect(received.map(\.body) == ["m0", "m1", "m2", "m3", "m4"])
        #expect(Set(received.map(\.receiptHandle)).count == 5)
        let outcomes = try await engine.deleteBatch(
            from: "h", receiptHandles: [received[1].receiptHandle, "not a handle", received[3].receiptHandle])
        #expect(outcomes.map { $0?.code } == [nil, .receiptHandleIsInvalid, nil])
        await time.advance(by: 10_000)
        let left = try await engine.receive(from: "h", ReceiveRequest(maximum: 10))
        #expect(left.map(\.body) == ["m0", "m2", "m4"])
        #expect(left.allSatisfy { $0.systemAttributes["ApproximateReceiveCount"] == "2" })
    }

    @Test func concurrentSendsAreAllCommitted() async throws {
        let engine = try await makeEngine([QueueDefinition(name: "c")])
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<64 {
                group.addTask { try await engine.send(to: "c", OutgoingMessage(body: "m\(index)")).messageID }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 64)
        #expect(try await engine.depths() == [QueueDepthReport(name: "c", visible: 64, inFlight: 0, delayed: 0)])
    }

    @Test func aMappingSizedBatchOfHandlesIsDeletedOrReleasedInOneCall() async throws {
        var queue = QueueDefinition(name: "big")
        queue.visibilityTimeout = 60
        let engine = try await makeEngine([queue])
        for start in stride(from: 0, to: 40, by: 10) {
            _ = try await engine.sendBatch(to: "big", (start..<start + 10).map { OutgoingMessage(body: "m\($0)") })
        }
        var handles: [String] = []
        for _ in 0..<4 { handles += try await engine.receive(from: "big", ReceiveRequest(maximum: 10)).map(\.receiptHandle) }
        #expect(handles.count == 40)
        try await engine.release(from: "big", receiptHandles: Array(handles.prefix(15)))
        #expect(try await engine.depths() == [QueueDepthReport(name: "big", visible: 15, inFlight: 25, delayed: 0)])
        let outcomes = try await engine.deleteBatch(from: "big", receiptHandles: Array(handles.suffix(25)))
        #expect(outcomes.allSatisfy { $0 == nil })
        #expect(try await engine.depths() == [QueueDepthReport(name: "big", visible: 15, inFlight: 0, delayed: 0)])
    }
}
