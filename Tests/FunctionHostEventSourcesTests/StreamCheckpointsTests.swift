import Foundation
import FunctionHostCore
import FunctionHostStore
import GRDB
import Testing

@testable import FunctionHostEventSources

@Suite struct StreamCheckpointsTests {
    func makeCheckpoints() throws -> StreamCheckpoints {
        StreamCheckpoints(writer: try Store(writer: try DatabaseQueue(), migrations: [StreamMappingMigrations.self]).writer)
    }

    @Test func windowsAreCommittedWithTheCheckpointAndLoadedWithIt() async throws {
        let checkpoints = try makeCheckpoints()
        let window = StreamShardEngine.TumblingWindow(start: 0, end: 60_000, state: #"{"count":2}"#)
        try await checkpoints.save(mapping: "m", streamARN: "s", shardID: "a", sequenceNumber: "5", windows: [0: window], now: 1)
        var saved = try await checkpoints.load(mapping: "m", streamARN: "s")
        #expect(saved["a"]?.sequenceNumber == "5" && saved["a"]?.windows == [0: window])
        // A closed window is removed; a checkpoint behind the stored one leaves the sequence number.
        try await checkpoints.saveWindows(mapping: "m", streamARN: "s", shardID: "a", windows: [:])
        try await checkpoints.save(mapping: "m", streamARN: "s", shardID: "a", sequenceNumber: "40", now: 2)
        try await checkpoints.save(mapping: "m", streamARN: "s", shardID: "a", sequenceNumber: "9", now: 3)
        saved = try await checkpoints.load(mapping: "m", streamARN: "s")
        #expect(saved["a"]?.sequenceNumber == "40" && saved["a"]?.windows == [:])
    }
}
