import Foundation
import FunctionHostCore

/// A Kinesis stream or a DynamoDB stream of a real service (AWS, LocalStack, moto_server) read
/// for a stream mapping: the external adapter behind ``StreamReader``.
///
/// Kinesis records carry their data; a DynamoDB stream record is kept whole (its JSON is the
/// record's `data`, its `Keys` the partition key, `ApproximateCreationDateTime` its arrival), so
/// the mapping can hand it to the function as Lambda does. Each host keeps its own checkpoints:
/// two hosts on one external stream both read all of it (there are no shard leases).
/// Thread-safe; throws ``RemoteSourceError``.
public final class ExternalStreamReader: StreamReader {
    /// Which API the endpoint speaks.
    public enum Service: Sendable {
        case kinesis
        case dynamoDBStreams
    }

    let client: AWSJSONClient
    let service: Service

    public init(client: AWSJSONClient, service: Service) {
        self.client = client
        self.service = service
    }

    /// A Kinesis stream's name, from `arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`.
    static func streamName(_ arn: String) throws -> String {
        guard let range = arn.range(of: ":stream/"), arn.hasPrefix("arn:aws:kinesis:") else {
            throw RemoteSourceError(service: "kinesis", code: "InvalidArgument", message: "\(arn) is not a Kinesis stream ARN")
        }
        return String(arn[range.upperBound...])
    }

    public func shardIDs(streamARN: String) async throws -> [String] {
        var shards: [String] = []
        switch service {
        case .kinesis:
            var parameters: [String: Any] = ["StreamName": try Self.streamName(streamARN)]
            for _ in 0..<AWSJSONClient.maximumPages {
                let answer = try await client.call("ListShards", parameters, region: AWSARN.region(of: streamARN))
                shards += (answer["Shards"] as? [[String: Any]] ?? []).compactMap { $0["ShardId"] as? String }
                guard let token = answer["NextToken"] as? String else { return shards }
                parameters = ["NextToken": token]
            }
            throw AWSJSONClient.endlessListing("kinesis", "ListShards")
        case .dynamoDBStreams:
            var parameters: [String: Any] = ["StreamArn": streamARN]
            for _ in 0..<AWSJSONClient.maximumPages {
                let answer = try await client.call("DescribeStream", parameters, region: AWSARN.region(of: streamARN))
                let description = answer["StreamDescription"] as? [String: Any] ?? [:]
                shards += (description["Shards"] as? [[String: Any]] ?? []).compactMap { $0["ShardId"] as? String }
                guard let last = description["LastEvaluatedShardId"] as? String else { return shards }
                parameters["ExclusiveStartShardId"] = last
            }
            throw AWSJSONClient.endlessListing("dynamodbstreams", "DescribeStream")
        }
    }

    public func iterator(streamARN: String, shardID: String, from start: StreamStart) async throws -> String {
        var parameters: [String: Any] = ["ShardId": shardID]
        switch service {
        case .kinesis: parameters["StreamName"] = try Self.streamName(streamARN)
        case .dynamoDBStreams: parameters["StreamArn"] = streamARN
        }
        switch start {
        case .trimHorizon: parameters["ShardIteratorType"] = "TRIM_HORIZON"
        case .latest: parameters["ShardIteratorType"] = "LATEST"
        case .atTimestamp(let time):
            guard service == .kinesis else {
                throw RemoteSourceError(
                    service: "dynamodb", code: "InvalidParameterValue", message: "Unsupported starting position for arn type")
            }
            parameters["ShardIteratorType"] = "AT_TIMESTAMP"
            parameters["Timestamp"] = Double(time) / 1000
        case .afterSequenceNumber(let sequence):
            parameters["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            parameters[service == .kinesis ? "StartingSequenceNumber" : "SequenceNumber"] = sequence
        }
        let answer = try await client.call("GetShardIterator", parameters, region: AWSARN.region(of: streamARN))
        guard let iterator = answer["ShardIterator"] as? String else {
            throw RemoteSourceError(service: client.service.signingName, code: "InvalidResponse", message: "no ShardIterator")
        }
        return iterator
    }

    /// Epoch seconds from the service as milliseconds, held within the years 1970–9999 (an odd
    /// value, NaN or 1e300, never traps the conversion; the engines do arithmetic on it).
    static func milliseconds(_ seconds: Double?) -> Int64 {
        guard let seconds, seconds.isFinite else { return 0 }
        return Int64(min(max(seconds, 0), 253_402_300_799) * 1000)
    }

    public func read(streamARN: String, iterator: String, limit: Int) async throws -> StreamReadPage {
        let cap = service == .kinesis ? 10_000 : 1000
        let answer = try await client.call("GetRecords", ["ShardIterator": iterator, "Limit": max(1, min(cap, limit))], region: AWSARN.region(of: streamARN))
        let raw = answer["Records"] as? [[String: Any]] ?? []
        let records: [StreamReadRecord]
        switch service {
        case .kinesis:
            records = raw.compactMap { record in
                guard let sequence = record["SequenceNumber"] as? String, let key = record["PartitionKey"] as? String,
                    let data = (record["Data"] as? String).flatMap({ Data(base64Encoded: $0) })
                else { return nil }
                let arrived = Self.milliseconds(record["ApproximateArrivalTimestamp"] as? Double)
                return StreamReadRecord(sequenceNumber: sequence, partitionKey: key, data: data, arrivedAt: arrived)
            }
        case .dynamoDBStreams:
            records = raw.compactMap { record in
                guard let change = record["dynamodb"] as? [String: Any], let sequence = change["SequenceNumber"] as? String,
                    let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
                else { return nil }
                let keys = (change["Keys"]).flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
                let created = Self.milliseconds(change["ApproximateCreationDateTime"] as? Double)
                return StreamReadRecord(
                    sequenceNumber: sequence, partitionKey: keys.map { String(decoding: $0, as: UTF8.self) } ?? sequence,
                    data: data, arrivedAt: created)
            }
        }
        return StreamReadPage(records: records, nextIterator: answer["NextShardIterator"] as? String)
    }
}
