import Foundation
import FunctionHostStore
import GRDB
import Testing

@testable import FunctionHostEventSources

/// The queued event's row, written and read by the queue's own statements (not GRDB's Codable path).
@Suite struct AsyncInvocationRecordTests {
    private func database() throws -> DatabaseQueue {
        let writer = try DatabaseQueue()
        _ = try Store(writer: writer, migrations: [AsyncInvocationMigrations.self])
        return writer
    }

    @Test func anInsertedEventReadsBackWholeAndIsDeletedByID() throws {
        let writer = try database()
        let event = AsyncInvocationRecord(
            requestID: "req-1", functionName: "Target", invokedFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:Target",
            traceID: "Root=1-0-0", payload: Data(#"{"a":1}"#.utf8), enqueuedAt: 10.5, notBefore: 10.5, attempts: 0)
        try writer.write { db in try event.insertNew(db) }
        let read = try #require(try writer.read { db in try AsyncInvocationRecord.fetchOne(db) })
        var expected = event
        expected.id = read.id
        #expect(read.id != nil)
        #expect(read.requestID == expected.requestID && read.payload == expected.payload && read.notBefore == 10.5)
        #expect(read.outcome == nil && read.response == nil && read.functionError == nil && read.deliveryFailures == 0)
        try writer.write { db in try AsyncInvocationRecord.delete(id: read.id, db) }
        #expect(try writer.read { db in try AsyncInvocationRecord.fetchCount(db) } == 0)
    }

    @Test func aKeptEventReadsBackWithItsOutcomeAndResponse() throws {
        let writer = try database()
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO asyncInvocation (requestID, functionName, invokedFunctionARN, traceID, payload, enqueuedAt,
                      notBefore, attempts, outcome, response, functionError, deliveryFailures)
                    VALUES ('r', 'F', 'arn', 't', x'7b7d', 1, 2, 3, 'RetriesExhausted', x'5b5d', 'Unhandled', 4)
                    """)
        }
        let read = try #require(try writer.read { db in try AsyncInvocationRecord.fetchOne(db) })
        #expect(read.notBefore == 2 && read.attempts == 3 && read.deliveryFailures == 4)
        #expect(read.outcome == "RetriesExhausted" && read.response == Data("[]".utf8) && read.functionError == "Unhandled")
    }
}
