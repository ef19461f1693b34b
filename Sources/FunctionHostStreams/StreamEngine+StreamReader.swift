import FunctionHostCore

/// The embedded stream as a stream mapping's source: streams by ARN, iterators as tokens.
extension StreamEngine: StreamReader {
    public func shardIDs(streamARN: String) async throws -> [String] {
        try await stream(named: try name(streamARN)).shardIDs
    }

    public func iterator(streamARN: String, shardID: String, from start: StreamStart) async throws -> String {
        let position: IteratorStart
        switch start {
        case .trimHorizon: position = .trimHorizon
        case .latest: position = .latest
        case .atTimestamp(let time): position = .atTimestamp(time)
        case .afterSequenceNumber(let text):
            guard let sequence = SequenceNumber(text) else {
                throw StreamError(.invalidArgument, "\(text) is not a sequence number of this stream.")
            }
            position = .afterSequenceNumber(sequence)
        }
        return try await iterator(stream: try name(streamARN), shardID: shardID, start: position).token
    }

    public func read(streamARN: String, iterator token: String, limit: Int) async throws -> StreamReadPage {
        guard let iterator = ShardIterator(token: token) else {
            throw StreamError(.invalidArgument, "Invalid ShardIterator.")
        }
        let page = try await records(from: iterator, limit: limit)
        return StreamReadPage(
            records: page.records.map {
                StreamReadRecord(
                    sequenceNumber: $0.sequenceNumber.description, partitionKey: $0.partitionKey, data: $0.data,
                    arrivedAt: $0.arrivedAt)
            }, nextIterator: page.next.token)
    }

    private func name(_ arn: String) throws(StreamError) -> String {
        guard let name = account.streamName(fromARN: arn) else {
            throw StreamError(.resourceNotFound, "Stream \(arn) not found.")
        }
        return name
    }
}
