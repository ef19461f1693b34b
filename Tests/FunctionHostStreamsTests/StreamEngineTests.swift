import FunctionHostCore
import FunctionHostStore
import Foundation
import GRDB
import Testing

@testable import FunctionHostStreams

@Suite struct StreamEngineTests {
    let time = VirtualClock(startingAt: 1_700_000_000_000)

    func makeEngine(_ streams: [StreamDefinition]) async throws -> StreamEngine {
        let store = try Store(writer: try DatabaseQueue(), migrations: [StreamMigrations.self])
        let engine = StreamEngine(writer: store.writer, account: AccountContext(), clock: time)
        try await engine.ensure(streams)
        return engine
    }

    func put(_ engine: StreamEngine, _ keys: [String], stream: String = "s") async throws -> [SequenceNumber] {
        try await engine.put(to: stream, keys.map { OutgoingRecord(partitionKey: $0, data: Data($0.utf8)) }).map {
            try $0.get()
        }
    }

    @Test func recordsOfAKeyStayInOneShardInOrder() async throws {
        let engine = try await makeEngine([StreamDefinition(name: "s", shardCount: 4)])
        let sequences = try await put(engine, (0..<40).map { "key-\($0 % 5)" })
        for key in 0..<5 {
            let mine = sequences.enumerated().filter { $0.offset % 5 == key }.map(\.element)
            #expect(Set(mine.map(\.shardIndex)).count == 1)
            #expect(mine == mine.sorted())
        }
        var total = 0
        for shard in 0..<4 {
            let iterator = try await engine.iterator(stream: "s", shardID: ShardID.string(shard), start: .trimHorizon)
            let page = try await engine.records(from: iterator, limit: 10_000)
            #expect(page.records.map(\.sequenceNumber) == page.records.map(\.sequenceNumber).sorted())
            #expect(page.millisBehindLatest == 0)
            total += page.records.count
        }
        #expect(total == 40)
    }

    @Test func iteratorsStartWhereTheirTypeSays() async throws {
        let engine = try await makeEngine([StreamDefinition(name: "s")])
        let first = try await put(engine, ["a", "b"])
        await time.advance(by: 1_000)
        let later = try await put(engine, ["c"])
        let shard = ShardID.string(0)
        func keys(_ start: IteratorStart) async throws -> [String] {
            let iterator = try await engine.iterator(stream: "s", shardID: shard, start: start)
            return try await engine.records(from: iterator, limit: 100).records.map(\.partitionKey)
        }
        #expect(try await keys(.trimHorizon) == ["a", "b", "c"])
        #expect(try await keys(.latest) == [])
        #expect(try await keys(.atSequenceNumber(first[1])) == ["b", "c"])
        #expect(try await keys(.afterSequenceNumber(first[1])) == ["c"])
        #expect(try await keys(.atTimestamp(time.now())) == ["c"])
        #expect(later[0].counter == 3)
    }

    @Test func getRecordsPagesWithLimitAndReportsLag() async throws {
        let engine = try await makeEngine([StreamDefinition(name: "s")])
        _ = try await put(engine, ["a", "b", "c"])
        await time.advance(by: 2_500)
        let iterator = try await engine.iterator(stream: "s", shardID: ShardID.string(0), start: .trimHorizon)
        let page = try await engine.records(from: iterator, limit: 2)
        #expect(page.records.map(\.partitionKey) == ["a", "b"])
        #expect(page.millisBehindLatest == 2_500)
        let rest = try await engine.records(from: page.next, limit: 2)
        #expect(rest.records.map(\.partitionKey) == ["c"])
        #expect(rest.millisBehindLatest == 0)
        let empty = try await engine.records(from: rest.next, limit: 2)
        #expect(empty.records.isEmpty && empty.next.position == rest.next.position)
    }

    @Test func iteratorsExpireAfterFiveMinutes() async throws {
        let engine = try await makeEngine([StreamDefinition(name: "s")])
        let iterator = try await engine.iterator(stream: "s", shardID: ShardID.string(0), start: .latest)
        await time.advance(by: ShardIterator.lifetime)
        _ = try await engine.records(from: iterator, limit: 1)
        await time.advance(by: 1)
        await #expect(throws: StreamError.self) { try await engine.records(from: iterator, limit: 1) }
        #expect(ShardIterator(token: iterator.token) == iterator)
        #expect(ShardIterator(token: "not an iterator") == nil)
    }

    @Test func provisionedShardsRefuseRecordsPastTheirThroughput() async throws {
        let engine = try await makeEngine([StreamDefinition(name: "s")])
        let results = try await engine.put(
            to: "s", (0..<1001).map { _ in OutgoingRecord(partitionKey: "k", data: Data([1])) })
        #expect(results.filter { (try? $0.get()) != nil }.count == 1000)
        guard case .failure(let error) = results.last else { Issue.record("the 1001st record was accepted"); return }
        #expect(error.code == .provisionedThroughputExceeded)
        await time.advance(by: 1_000)
        #expect(try await put(engine, ["k"]).first?.counter == 1001)
    }

    @Test func retentionDropsOldRecordsAndRecreatingChangesNothingElse() async throws {
        let engine = try await makeEngine([StreamDefinition(name: "s", retentionPeriodHours: 24)])
        _ = try await put(engine, ["old"])
        await time.advance(by: 24 * 3_600_000 + 1)
        _ = try await put(engine, ["new"])
        let iterator = try await engine.iterator(stream: "s", shardID: ShardID.string(0), start: .trimHorizon)
        #expect(try await engine.records(from: iterator, limit: 10).records.map(\.partitionKey) == ["new"])
        try await engine.ensure([StreamDefinition(name: "s", retentionPeriodHours: 48)])
        #expect(try await engine.stream(named: "s").lastSequences == [2])
        await #expect(throws: StreamError.self) { try await engine.createStream(StreamDefinition(name: "s")) }
        try await engine.deleteStream("s")
        await #expect(throws: StreamError.self) { try await engine.stream(named: "s") }
        await #expect(throws: StreamError.self) { try await engine.records(from: iterator, limit: 1) }
    }
}
