import FunctionHostCore
import Foundation
import GRDB
import Synchronization

extension StreamEngine {
    /// Appends records in one transaction, in order; each gets its sequence number or, when its
    /// provisioned shard is over its write throughput this second, an error (the others are kept).
    public func put(
        to name: String, _ records: [OutgoingRecord]
    ) async throws -> [Result<SequenceNumber, StreamError>] {
        let now = clock.now()
        return try await writer.write { db in
            let state = try self.requireState(db, name)
            let shardCount = state.definition.shardCount
            let shards = records.map { record in
                HashKeySpace.shard(
                    of: record.explicitHashKey ?? HashKeySpace.hashKey(partitionKey: record.partitionKey),
                    shardCount: shardCount)
            }
            let admitted = self.admit(records, shards: shards, state: state, now: now)
            var last = state.lastSequences
            let insert = try db.cachedStatement(
                sql: "INSERT INTO kinesisRecord (stream, shardIndex, sequence, partitionKey, data, arrivedAt) VALUES (?, ?, ?, ?, ?, ?)")
            var results: [Result<SequenceNumber, StreamError>] = []
            results.reserveCapacity(records.count)
            for (index, record) in records.enumerated() {
                let shard = shards[index]
                guard admitted[index], last.indices.contains(shard) else {
                    results.append(
                        .failure(
                            StreamError(
                                .provisionedThroughputExceeded,
                                "Rate exceeded for shard \(ShardID.string(shard)) in stream \(name) under account \(self.account.accountID)."
                            )))
                    continue
                }
                last[shard] += 1
                try insert.execute(arguments: [name, shard, last[shard], record.partitionKey, record.data, now])
                results.append(.success(SequenceNumber(shardIndex: shard, counter: Int64(last[shard]))))
            }
            let update = try db.cachedStatement(
                sql: "UPDATE kinesisShard SET lastSequence = ? WHERE stream = ? AND shardIndex = ?")
            for shard in last.indices where last[shard] != state.lastSequences[shard] {
                try update.execute(arguments: [last[shard], name, shard])
            }
            try db.execute(
                sql: "DELETE FROM kinesisRecord WHERE stream = ? AND arrivedAt < ?",
                arguments: [name, Self.retentionCutoff(state, now: now)])
            return results
        }
    }

    /// Which records fit their shard's write throughput (every one for an on-demand stream).
    private func admit(_ records: [OutgoingRecord], shards: [Int], state: StreamState, now: Int64) -> [Bool] {
        guard state.definition.mode == .provisioned else { return Array(repeating: true, count: records.count) }
        return budgets.withLock { budgets in
            var stream = budgets[state.definition.name] ?? []
            if stream.count != state.definition.shardCount {
                stream = Array(repeating: ShardWriteBudget(), count: state.definition.shardCount)
            }
            let admitted = zip(records, shards).map { record, shard in
                stream.indices.contains(shard) && stream[shard].admit(bytes: record.size, now: now)
            }
            budgets[state.definition.name] = stream
            return admitted
        }
    }

    /// `GetShardIterator`.
    public func iterator(stream name: String, shardID: String, start: IteratorStart) async throws -> ShardIterator {
        let now = clock.now()
        return try await writer.read { db in
            let state = try self.requireState(db, name)
            guard let shard = ShardID.index(shardID), shard < state.definition.shardCount else {
                throw StreamError.shardNotFound(shardID, stream: name, account: self.account.accountID)
            }
            let position: Int64
            switch start {
            case .trimHorizon:
                position = 0
            case .latest:
                position = Int64(state.lastSequences[shard]) + 1
            case .atSequenceNumber(let sequence), .afterSequenceNumber(let sequence):
                guard sequence.shardIndex == shard else {
                    throw StreamError(
                        .invalidArgument,
                        "Invalid StartingSequenceNumber. It encodes \(ShardID.string(sequence.shardIndex)), while it was used in a call to a shard with \(shardID)"
                    )
                }
                if case .afterSequenceNumber = start {
                    position = sequence.counter + 1
                } else {
                    position = sequence.counter
                }
            case .atTimestamp(let time):
                position =
                    try Int64.fetchOne(
                        db,
                        sql: "SELECT MIN(sequence) FROM kinesisRecord WHERE stream = ? AND shardIndex = ? AND arrivedAt >= ?",
                        arguments: [name, shard, time]) ?? Int64(state.lastSequences[shard]) + 1
            }
            return ShardIterator(
                stream: name, streamCreatedAt: state.createdAt, shardIndex: shard, position: position, issuedAt: now)
        }
    }

    /// `GetRecords`: up to `limit` records (and 10 MiB) from the iterator's position.
    public func records(from iterator: ShardIterator, limit: Int) async throws -> RecordsPage {
        let now = clock.now()
        guard now - iterator.issuedAt <= ShardIterator.lifetime else {
            throw StreamError(
                .expiredIterator,
                "Iterator expired. The iterator was created at time \(iterator.issuedAt) while right now it is \(now) which is further in the future than the tolerated delay of \(ShardIterator.lifetime) milliseconds."
            )
        }
        let limit = min(max(1, limit), Self.maximumGetRecordsLimit)
        return try await writer.read { db in
            guard let state = try Self.state(db, iterator.stream), state.createdAt == iterator.streamCreatedAt,
                iterator.shardIndex < state.definition.shardCount
            else {
                throw StreamError(.invalidArgument, "Invalid ShardIterator: its stream or shard no longer exists.")
            }
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT sequence, partitionKey, data, arrivedAt FROM kinesisRecord
                    WHERE stream = ? AND shardIndex = ? AND sequence >= ? AND arrivedAt >= ?
                    ORDER BY sequence LIMIT ?
                    """,
                arguments: [
                    iterator.stream, iterator.shardIndex, iterator.position, Self.retentionCutoff(state, now: now), limit,
                ])
            var records: [StreamRecord] = []
            var bytes = 0
            while let row = try rows.next() {
                let data: Data = row["data"]
                if !records.isEmpty && bytes + data.count > Self.maximumGetRecordsBytes { break }
                bytes += data.count
                records.append(
                    StreamRecord(
                        sequenceNumber: SequenceNumber(shardIndex: iterator.shardIndex, counter: row["sequence"]),
                        partitionKey: row["partitionKey"], data: data, arrivedAt: row["arrivedAt"]))
            }
            var next = iterator
            next.issuedAt = now
            if let last = records.last { next.position = last.sequenceNumber.counter + 1 }
            let behind =
                try Int64.fetchOne(
                    db,
                    sql: "SELECT arrivedAt FROM kinesisRecord WHERE stream = ? AND shardIndex = ? AND sequence >= ? ORDER BY sequence LIMIT 1",
                    arguments: [iterator.stream, iterator.shardIndex, next.position]
                ).map { max(0, now - $0) } ?? 0
            return RecordsPage(records: records, next: next, millisBehindLatest: behind)
        }
    }
}
