import FunctionHostCore
import Foundation

extension KinesisEndpoint {
    /// Largest `PutRecords` batch (records) and payload (data plus partition keys).
    static let maximumPutRecords = 500
    static let maximumPutRecordsBytes = 5 * 1_048_576
    /// Largest record (data).
    static let maximumRecordBytes = 1_048_576
    static let partitionKeyLength = 1...256

    /// Runs one operation and returns its JSON answer (every operation but `GetRecords`, see ``getRecords(_:)``).
    func perform(_ operation: KinesisOperation, _ call: KinesisCall) async throws -> [String: Any] {
        switch operation {
        case .createStream:
            try await engine.createStream(try Self.definition(call))
            return [:]
        case .deleteStream:
            try await engine.deleteStream(try call.streamName())
            return [:]
        case .describeStream:
            return try await describe(call)
        case .describeStreamSummary:
            let state = try await engine.stream(named: try call.streamName())
            var summary = summaryJSON(state)
            summary["OpenShardCount"] = state.definition.shardCount
            summary["ConsumerCount"] = 0
            return ["StreamDescriptionSummary": summary]
        case .listShards:
            return try await listShards(call)
        case .listStreams:
            return try await listStreams(call)
        case .putRecord:
            let name = try call.streamName()
            _ = try call.string("SequenceNumberForOrdering")  // records of a shard are ordered anyway
            let record = try Self.record(call.parameters, member: "")
            guard let result = try await engine.put(to: name, [record]).first else {
                throw StreamError(.internalFailure, "The record was not stored.")
            }
            let sequence = try result.get()
            return [
                "ShardId": ShardID.string(sequence.shardIndex), "SequenceNumber": sequence.description,
                "EncryptionType": "NONE",
            ]
        case .putRecords, .getRecords:
            // Decoded and answered by handle(_:) without Foundation dictionaries, never through here.
            throw StreamError(.internalFailure, "\(operation.rawValue) is handled apart.")
        case .getShardIterator:
            return try await shardIterator(call)
        }
    }

    static func definition(_ call: KinesisCall) throws(StreamError) -> StreamDefinition {
        let name = try call.required("StreamName")
        guard StreamDefinition.isValidName(name) else {
            throw StreamError.constraint(name, "streamName", "satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        }
        var definition = StreamDefinition(name: name)
        if let details = call.parameters["StreamModeDetails"] {
            guard let text = (details as? [String: Any])?["StreamMode"] as? String,
                let mode = StreamDefinition.Mode(rawValue: text)
            else {
                throw StreamError.constraint(
                    "\(details)", "streamModeDetails.streamMode", "satisfy enum value set: [PROVISIONED, ON_DEMAND]")
            }
            definition.mode = mode
        }
        let shards = try call.integer("ShardCount", 1...Int.max)
        switch definition.mode {
        case .onDemand:
            definition.shardCount = StreamDefinition.onDemandShardCount
        case .provisioned:
            guard let shards else {
                throw StreamError(.invalidArgument, "ShardCount is required for a PROVISIONED stream.")
            }
            guard StreamDefinition.shardCountRange.contains(shards) else {
                throw StreamError(
                    .limitExceeded,
                    "This request would exceed the shard limit for the account \(call.account.accountID) in \(call.account.region). Current shard limit for the account is \(StreamDefinition.shardCountRange.upperBound)."
                )
            }
            definition.shardCount = shards
        }
        return definition
    }

    private func summaryJSON(_ state: StreamState) -> [String: Any] {
        [
            "StreamName": state.definition.name, "StreamARN": engine.account.streamARN(state.definition.name),
            "StreamStatus": "ACTIVE", "StreamModeDetails": ["StreamMode": state.definition.mode.rawValue],
            "RetentionPeriodHours": state.definition.retentionPeriodHours,
            "StreamCreationTimestamp": Double(state.createdAt) / 1000,
            "EnhancedMonitoring": [["ShardLevelMetrics": [String]()]], "EncryptionType": "NONE",
        ]
    }

    static func shardJSON(_ index: Int, range: ClosedRange<UInt128>) -> [String: Any] {
        [
            "ShardId": ShardID.string(index),
            "HashKeyRange": ["StartingHashKey": range.lowerBound.description, "EndingHashKey": range.upperBound.description],
            "SequenceNumberRange": ["StartingSequenceNumber": SequenceNumber(shardIndex: index, counter: 0).description],
        ]
    }

    /// The shard indices after `exclusiveStart` (a shard id; anything before the first shard starts at 0).
    static func shards(after exclusiveStart: String?, count: Int) -> Range<Int> {
        guard let exclusiveStart else { return 0..<count }
        guard let index = ShardID.index(exclusiveStart) else {
            // Kinesis compares shard ids as strings: an id sorting before every shard starts at the first.
            return exclusiveStart < ShardID.string(0) ? 0..<count : count..<count
        }
        return min(index + 1, count)..<count
    }

    private func describe(_ call: KinesisCall) async throws -> [String: Any] {
        let state = try await engine.stream(named: try call.streamName())
        let limit = try call.integer("Limit", 1...10_000) ?? 100
        let remaining = Self.shards(after: try call.string("ExclusiveStartShardId"), count: state.definition.shardCount)
        let page = remaining.prefix(limit)
        let ranges = HashKeySpace.ranges(shardCount: state.definition.shardCount)
        var description = summaryJSON(state)
        description["Shards"] = page.map { Self.shardJSON($0, range: ranges[$0]) }
        description["HasMoreShards"] = page.count < remaining.count
        return ["StreamDescription": description]
    }

    private func listShards(_ call: KinesisCall) async throws -> [String: Any] {
        let limit = try call.integer("MaxResults", 1...10_000) ?? 1000
        let name: String
        var exclusiveStart = try call.string("ExclusiveStartShardId")
        if let token = try call.string("NextToken") {
            guard call.parameters["StreamName"] == nil, call.parameters["StreamARN"] == nil else {
                throw StreamError(.invalidArgument, "NextToken and StreamName cannot be provided together.")
            }
            guard let cursor = ListCursor(token: token) else {
                throw StreamError(.invalidArgument, "Invalid NextToken.")
            }
            name = cursor.name
            exclusiveStart = cursor.after
        } else {
            name = try call.streamName()
        }
        if let filter = call.parameters["ShardFilter"] {
            guard let filter = filter as? [String: Any], let type = filter["Type"] as? String else {
                throw StreamError.missing("shardFilter.type")
            }
            if type == "AFTER_SHARD_ID" {
                guard let after = filter["ShardId"] as? String else {
                    throw StreamError(.invalidArgument, "ShardFilter of type AFTER_SHARD_ID needs a ShardId.")
                }
                exclusiveStart = after
            }
            // Every other filter (trim horizon, latest, timestamps) selects every shard: none ever closes.
        }
        let state = try await engine.stream(named: name)
        let remaining = Self.shards(after: exclusiveStart, count: state.definition.shardCount)
        let page = Array(remaining.prefix(limit))
        let ranges = HashKeySpace.ranges(shardCount: state.definition.shardCount)
        var answer: [String: Any] = ["Shards": page.map { Self.shardJSON($0, range: ranges[$0]) }]
        if let last = page.last, page.count < remaining.count {
            answer["NextToken"] = ListCursor(name: name, after: ShardID.string(last)).token
        }
        return answer
    }

    private func listStreams(_ call: KinesisCall) async throws -> [String: Any] {
        let limit = try call.integer("Limit", 1...10_000) ?? 100
        var after = try call.string("ExclusiveStartStreamName")
        if let token = try call.string("NextToken") {
            guard let cursor = ListCursor(token: token) else {
                throw StreamError(.invalidArgument, "Invalid NextToken.")
            }
            after = cursor.after
        }
        let names = try await engine.streamNames().filter { name in after.map { name > $0 } ?? true }
        let page = Array(names.prefix(limit))
        var summaries: [[String: Any]] = []
        for name in page {
            guard let state = try? await engine.stream(named: name) else { continue }  // deleted meanwhile
            summaries.append([
                "StreamName": name, "StreamARN": engine.account.streamARN(name), "StreamStatus": "ACTIVE",
                "StreamModeDetails": ["StreamMode": state.definition.mode.rawValue],
                "StreamCreationTimestamp": Double(state.createdAt) / 1000,
            ])
        }
        var answer: [String: Any] = [
            "StreamNames": page, "HasMoreStreams": page.count < names.count, "StreamSummaries": summaries,
        ]
        if let last = page.last, page.count < names.count {
            answer["NextToken"] = ListCursor(name: "", after: last).token
        }
        return answer
    }

    /// One record of `PutRecord` (`member` empty) or of `PutRecords` (`member` `records.N.`).
    static func record(_ parameters: [String: Any], member: String) throws(StreamError) -> OutgoingRecord {
        guard let key = parameters["PartitionKey"] else { throw StreamError.missing(member + "partitionKey") }
        guard let partitionKey = key as? String else {
            throw StreamError(.serialization, "Value for PartitionKey must be a string.")
        }
        guard partitionKeyLength.contains(partitionKey.count) else {
            throw StreamError.constraint(
                partitionKey, member + "partitionKey",
                partitionKey.isEmpty ? "have length greater than or equal to 1" : "have length less than or equal to 256")
        }
        guard let encoded = parameters["Data"] else { throw StreamError.missing(member + "data") }
        guard let text = encoded as? String, let data = Data(base64Encoded: text) else {
            throw StreamError(.serialization, "Value for Data must be a base64-encoded blob.")
        }
        guard data.count <= maximumRecordBytes else {
            throw StreamError.constraint(
                "java.nio.HeapByteBuffer[pos=0 lim=\(data.count) cap=\(data.count)]", member + "data",
                "have length less than or equal to \(maximumRecordBytes)")
        }
        var record = OutgoingRecord(partitionKey: partitionKey, data: data)
        if let raw = parameters["ExplicitHashKey"] {
            guard let text = raw as? String, let hash = HashKeySpace.explicitHashKey(text) else {
                throw StreamError(
                    .invalidArgument,
                    "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was \(raw)")
            }
            record.explicitHashKey = hash
        }
        return record
    }

    func putRecords(_ request: PutRecordsRequest) async throws -> [String: Any] {
        var named: [String: Any] = [:]
        if let name = request.StreamName { named["StreamName"] = name }
        if let arn = request.StreamARN { named["StreamARN"] = arn }
        let name = try KinesisCall(parameters: named, account: engine.account).streamName()
        guard let entries = request.Records else { throw StreamError.missing("records") }
        guard (1...Self.maximumPutRecords).contains(entries.count) else {
            throw StreamError.constraint(
                "[\(entries.count) records]", "records",
                entries.isEmpty
                    ? "have length greater than or equal to 1"
                    : "have length less than or equal to \(Self.maximumPutRecords)")
        }
        var records: [OutgoingRecord] = []
        records.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            records.append(try Self.record(entry.parameters, member: "records.\(index + 1).member."))
        }
        let total = records.reduce(0) { $0 + $1.size }
        guard total <= Self.maximumPutRecordsBytes else {
            throw StreamError(
                .invalidArgument, "Records size exceeds 5 MB limit (\(total) bytes of data and partition keys).")
        }
        let results = try await engine.put(to: name, records)
        var failed = 0
        let answers: [[String: Any]] = results.map { result in
            switch result {
            case .success(let sequence):
                return ["ShardId": ShardID.string(sequence.shardIndex), "SequenceNumber": sequence.description]
            case .failure(let error):
                failed += 1
                return ["ErrorCode": error.code.rawValue, "ErrorMessage": error.message]
            }
        }
        return ["FailedRecordCount": failed, "Records": answers, "EncryptionType": "NONE"]
    }

    private func shardIterator(_ call: KinesisCall) async throws -> [String: Any] {
        let name = try call.streamName()
        let shardID = try call.required("ShardId")
        let type = try call.required("ShardIteratorType")
        let start: IteratorStart
        func sequence() throws(StreamError) -> SequenceNumber {
            guard let text = try call.string("StartingSequenceNumber") else {
                throw StreamError(.invalidArgument, "You must provide a StartingSequenceNumber for a \(type) iterator.")
            }
            guard let sequence = SequenceNumber(text) else {
                throw StreamError(
                    .invalidArgument,
                    "StartingSequenceNumber \(text) used in GetShardIterator on shard \(shardID) in stream \(name) under account \(call.account.accountID) is invalid."
                )
            }
            return sequence
        }
        switch type {
        case "TRIM_HORIZON": start = .trimHorizon
        case "LATEST": start = .latest
        case "AT_SEQUENCE_NUMBER": start = .atSequenceNumber(try sequence())
        case "AFTER_SEQUENCE_NUMBER": start = .afterSequenceNumber(try sequence())
        case "AT_TIMESTAMP":
            guard let time = try call.timestamp("Timestamp") else {
                throw StreamError(.invalidArgument, "You must provide a Timestamp for an AT_TIMESTAMP iterator.")
            }
            start = .atTimestamp(time)
        default:
            throw StreamError.constraint(
                type, "shardIteratorType",
                "satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]")
        }
        let iterator = try await engine.iterator(stream: name, shardID: shardID, start: start)
        return ["ShardIterator": iterator.token]
    }

    /// `GetRecords`, written as JSON text directly: a page may carry 10 MiB of data, and a
    /// dictionary per record would cost the host several times that at once.
    func getRecords(_ call: KinesisCall) async throws -> String {
        let token = try call.required("ShardIterator")
        let limit = try call.integer("Limit", 1...StreamEngine.maximumGetRecordsLimit) ?? StreamEngine.maximumGetRecordsLimit
        guard let iterator = ShardIterator(token: token) else {
            throw StreamError(.invalidArgument, "Invalid ShardIterator.")
        }
        let page = try await engine.records(from: iterator, limit: limit)
        var json = "{\"Records\":["
        json.reserveCapacity(page.records.reduce(64) { $0 + $1.data.count * 4 / 3 + 160 })
        for (index, record) in page.records.enumerated() {
            if index > 0 { json += "," }
            json += "{\"SequenceNumber\":\"\(record.sequenceNumber)\",\"PartitionKey\":\(JSONText.quote(record.partitionKey))"
            json += ",\"Data\":\"\(record.data.base64EncodedString())\""
            json += ",\"ApproximateArrivalTimestamp\":\(Double(record.arrivedAt) / 1000)}"
        }
        json += "],\"NextShardIterator\":\"\(page.next.token)\",\"MillisBehindLatest\":\(page.millisBehindLatest)}"
        return json
    }
}
