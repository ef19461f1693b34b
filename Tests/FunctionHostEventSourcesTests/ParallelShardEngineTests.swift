import Foundation
import FunctionHostCore
import Testing

@testable import FunctionHostEventSources

@Suite struct ParallelShardEngineTests {
    /// Two partition keys that fall in different lanes of two.
    let keys: (String, String) = {
        let first = "key-0"
        let lane = ParallelShardEngine.lane(of: first, lanes: 2)
        let other = (1...100).map { "key-\($0)" }.first { ParallelShardEngine.lane(of: $0, lanes: 2) != lane } ?? ""
        return (first, other)
    }()

    func record(_ sequence: Int, _ key: String) -> StreamReadRecord {
        StreamReadRecord(sequenceNumber: String(sequence), partitionKey: key, data: Data(), arrivedAt: 0)
    }

    @Test func lanesKeepTheirKeysInOrderAndTheCheckpointWaitsForTheSlowestLane() {
        var shard = ParallelShardEngine(policy: .init(batchSize: 10), factor: 2)
        let (a, b) = keys
        shard.received([record(1, a), record(2, b), record(3, a), record(4, b)], now: 0)
        let laneA = ParallelShardEngine.lane(of: a, lanes: 2)
        let laneB = 1 - laneA
        #expect(shard.next(lane: laneA, now: 0) == [.invoke([record(1, a), record(3, a)], attempt: 1)])
        #expect(shard.next(lane: laneB, now: 0) == [.invoke([record(2, b), record(4, b)], attempt: 1)])
        // Lane B is done first: record 1 (lane A) is still in flight, so the shard checkpoint stays.
        #expect(shard.completed(lane: laneB, .succeeded, now: 0) == [])
        #expect(shard.completed(lane: laneA, .succeeded, now: 0) == [.checkpoint("4")])
    }

    @Test func oneLaneIsTheShardEngine() {
        var shard = ParallelShardEngine(policy: .init(batchSize: 2), factor: 1)
        shard.received([record(1, "x"), record(2, "y"), record(3, "z")], now: 0)
        #expect(shard.next(lane: 0, now: 0) == [.invoke([record(1, "x"), record(2, "y")], attempt: 1)])
        #expect(shard.completed(lane: 0, .succeeded, now: 0) == [.checkpoint("2")])
        #expect(shard.next(lane: 0, now: 0) == [.invoke([record(3, "z")], attempt: 1)])
        #expect(shard.completed(lane: 0, .failedFrom("3"), now: 0) == [.retry(count: 1)])
    }

    @Test func filteredRecordsGoToNoLaneAndTheCheckpointPassesThem() {
        var shard = ParallelShardEngine(policy: .init(batchSize: 10), factor: 1)
        // Filtered records behind one in flight: passed once it is done.
        #expect(shard.received([record(1, "x"), record(2, "x")], filteredOut: ["2"], now: 0) == [])
        #expect(shard.next(lane: 0, now: 0) == [.invoke([record(1, "x")], attempt: 1)])
        #expect(shard.completed(lane: 0, .succeeded, now: 0) == [.checkpoint("2")])
        // A page no filter passes: checkpointed at once, nothing to invoke.
        #expect(shard.received([record(3, "x"), record(4, "y")], filteredOut: ["3", "4"], now: 0) == [.checkpoint("4")])
        #expect(shard.next(lane: 0, now: 0).isEmpty)
    }

    @Test func filteredRecordsBehindAFailingBatchStopTheReader() {
        var shard = ParallelShardEngine(policy: .init(batchSize: 2), factor: 1)
        shard.received([record(1, "x")], now: 0)
        #expect(shard.next(lane: 0, now: 0) == [.invoke([record(1, "x")], attempt: 1)])
        #expect(shard.completed(lane: 0, .failedFrom("1"), now: 0) == [.retry(count: 1)])
        // Pages no filter passes fill no lane, but wait behind record 1 for the checkpoint.
        for page in 0..<4 {
            #expect(shard.wantsRecords)
            let records = (0..<2).map { record(10 + 2 * page + $0, "y") }
            shard.received(records, filteredOut: Set(records.map(\.sequenceNumber)), now: 0)
        }
        #expect(!shard.wantsRecords)
    }

    @Test func windowsAreSavedAndRestoredPerLane() {
        var shard = ParallelShardEngine(policy: .init(batchSize: 10, tumblingWindowMilliseconds: 60_000), factor: 2)
        shard.restore(windows: [1: .init(start: 0, end: 60_000, state: #"{"n":4}"#), 7: .init(start: 0, end: 60_000)])
        #expect(shard.windows == [1: .init(start: 0, end: 60_000, state: #"{"n":4}"#)])
    }

    @Test func keysSpreadOverLanes() {
        let lanes = Set((0..<100).map { ParallelShardEngine.lane(of: "user-\($0)", lanes: 10) })
        #expect(lanes.count == 10)
    }
}
