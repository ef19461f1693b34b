import Foundation
import FunctionHostCore
import NIOCore
import Synchronization

/// An SQS queue of a real SQS-compatible service (AWS, ElasticMQ, LocalStack, moto_server) read
/// for an SQS mapping: the external adapter behind ``QueueConsumer``. Several hosts may consume one
/// queue; the service's visibility timeout keeps them from taking the same message.
///
/// Queues are named by ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`); their URLs are looked up once
/// (`GetQueueUrl`). Thread-safe; throws ``RemoteSourceError``.
public final class ExternalQueueConsumer: QueueConsumer {
    let client: AWSJSONClient
    private let urls = Mutex<[String: String]>([:])

    public init(client: AWSJSONClient) {
        self.client = client
    }

    func queueURL(_ arn: String) async throws -> String {
        if let url = urls.withLock({ $0[arn] }) { return url }
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "sqs" else {
            throw RemoteSourceError(service: "sqs", code: "InvalidAddress", message: "\(arn) is not an SQS queue ARN")
        }
        let answer = try await client.call(
            "GetQueueUrl", ["QueueName": String(parts[5]), "QueueOwnerAWSAccountId": String(parts[4])],
            region: AWSARN.region(of: arn))
        guard let url = answer["QueueUrl"] as? String else {
            throw RemoteSourceError(service: "sqs", code: "InvalidResponse", message: "GetQueueUrl answered no QueueUrl")
        }
        urls.withLock { $0[arn] = url }
        return url
    }

    public func consumerInfo(queueARN: String) async throws -> ConsumedQueueInfo {
        let answer = try await client.call(
            "GetQueueAttributes", ["QueueUrl": try await queueURL(queueARN), "AttributeNames": ["All"]],
            region: AWSARN.region(of: queueARN))
        let attributes = answer["Attributes"] as? [String: String] ?? [:]
        var maxReceiveCount: Int?
        if let policy = attributes["RedrivePolicy"], let data = policy.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            maxReceiveCount = (object["maxReceiveCount"] as? Int) ?? (object["maxReceiveCount"] as? String).flatMap { Int($0) }
        }
        return ConsumedQueueInfo(
            fifo: attributes["FifoQueue"] == "true", visibilityTimeout: Int(attributes["VisibilityTimeout"] ?? "") ?? 30,
            backlog: Int(attributes["ApproximateNumberOfMessages"] ?? "") ?? 0, maxReceiveCount: maxReceiveCount)
    }

    public func receive(queueARN: String, maximum: Int, waitSeconds: Int, visibilityTimeout: Int) async throws
        -> [ConsumedMessage]
    {
        let answer = try await client.call(
            "ReceiveMessage",
            [
                "QueueUrl": try await queueURL(queueARN), "MaxNumberOfMessages": max(1, min(10, maximum)),
                "WaitTimeSeconds": max(0, min(20, waitSeconds)), "VisibilityTimeout": visibilityTimeout,
                "AttributeNames": ["All"], "MessageSystemAttributeNames": ["All"], "MessageAttributeNames": ["All"],
            ], region: AWSARN.region(of: queueARN), timeout: .seconds(Int64(waitSeconds) + 30))
        return (answer["Messages"] as? [[String: Any]] ?? []).compactMap { message in
            guard let id = message["MessageId"] as? String, let handle = message["ReceiptHandle"] as? String,
                let body = message["Body"] as? String
            else { return nil }
            var attributes: [String: ConsumedMessage.Attribute] = [:]
            for (name, raw) in message["MessageAttributes"] as? [String: [String: Any]] ?? [:] {
                attributes[name] = .init(
                    dataType: raw["DataType"] as? String ?? "String", stringValue: raw["StringValue"] as? String,
                    binaryValue: raw["BinaryValue"] as? String)
            }
            return ConsumedMessage(
                messageID: id, receiptHandle: handle, body: body,
                md5OfBody: message["MD5OfBody"] as? String ?? "", md5OfMessageAttributes: message["MD5OfMessageAttributes"] as? String,
                systemAttributes: message["Attributes"] as? [String: String] ?? [:], messageAttributes: attributes)
        }
    }

    public func delete(queueARN: String, receiptHandles: [String]) async throws {
        let url = try await queueURL(queueARN)
        for chunk in Self.chunks(receiptHandles) {
            _ = try await client.call(
                "DeleteMessageBatch",
                ["QueueUrl": url, "Entries": chunk.enumerated().map { ["Id": "m\($0.offset)", "ReceiptHandle": $0.element] }],
                region: AWSARN.region(of: queueARN))
        }
    }

    public func release(queueARN: String, receiptHandles: [String]) async throws {
        let url = try await queueURL(queueARN)
        for chunk in Self.chunks(receiptHandles) {
            _ = try await client.call(
                "ChangeMessageVisibilityBatch",
                [
                    "QueueUrl": url,
                    "Entries": chunk.enumerated().map {
                        ["Id": "m\($0.offset)", "ReceiptHandle": $0.element, "VisibilityTimeout": 0] as [String: Any]
                    },
                ], region: AWSARN.region(of: queueARN))
        }
    }

    /// SQS batches hold at most 10 entries.
    static func chunks(_ handles: [String]) -> [[String]] {
        stride(from: 0, to: handles.count, by: 10).map { Array(handles[$0..<min($0 + 10, handles.count)]) }
    }
}
