import FunctionHostCore
import Logging

/// Every shard of the stream, with checkpoints in the host's state database: the ownership of a
/// stream no other host reads (the template's own, or an external one when leases are off).
struct LocalShardOwnership: ShardOwnership {
    let mappingUUID: String
    let streamARN: String
    let reader: any StreamReader
    let checkpoints: StreamCheckpoints
    let logger: Logger

    func run(
        while active: @escaping @Sendable () -> Bool, report: @escaping @Sendable (String) -> Void,
        process: @escaping @Sendable (String, StreamCheckpoints.Saved?) async -> Void
    ) async {
        var shards: [String] = []
        var saved: [String: StreamCheckpoints.Saved] = [:]
        while !Task.isCancelled && active() {
            do {
                shards = try await reader.shardIDs(streamARN: streamARN)
                saved = try await checkpoints.load(mapping: mappingUUID, streamARN: streamARN)
                break
            } catch {
                logger.error("stream event source mapping could not read its stream", metadata: ["error": "\(error)"])
                report("PROBLEM: \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await withDiscardingTaskGroup { group in
            for shard in shards {
                group.addTask { [saved] in await process(shard, saved[shard]) }
            }
        }
    }

    func markStart(shardID: String, now: Int64) async throws {
        try await checkpoints.markStart(mapping: mappingUUID, streamARN: streamARN, shardID: shardID, now: now)
    }

    func save(shardID: String, sequenceNumber: String, windows: [Int: StreamShardEngine.TumblingWindow]?, now: Int64)
        async throws -> Bool
    {
        try await checkpoints.save(
            mapping: mappingUUID, streamARN: streamARN, shardID: shardID, sequenceNumber: sequenceNumber, windows: windows,
            now: now)
        return true
    }

    func saveWindows(shardID: String, windows: [Int: StreamShardEngine.TumblingWindow]) async throws {
        try await checkpoints.saveWindows(mapping: mappingUUID, streamARN: streamARN, shardID: shardID, windows: windows)
    }
}
