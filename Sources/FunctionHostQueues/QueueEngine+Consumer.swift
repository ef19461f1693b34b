import Foundation
import FunctionHostCore
import GRDB

extension QueueEngine: QueueConsumer {
    /// The queue an ARN of this engine names; ``QueueError/noQueue`` otherwise.
    private func name(ofARN arn: String) throws -> String {
        guard let name = account.queueName(fromARN: arn) else { throw QueueError.noQueue }
        return name
    }

    public func consumerInfo(queueARN: String) async throws -> ConsumedQueueInfo {
        let name = try name(ofARN: queueARN)
        let now = clock.now()
        return try await writer.read { db in
            let queue = try Self.record(db, name).definition
            return ConsumedQueueInfo(
                fifo: queue.fifo, visibilityTimeout: queue.visibilityTimeout,
                backlog: try Self.depth(db, name, now: now).visible, maxReceiveCount: queue.redrive?.maxReceiveCount,
                nextVisibleAt: try Self.nextVisible(db, name, after: now))
        }
    }

    public func receive(queueARN: String, maximum: Int, waitSeconds: Int, visibilityTimeout: Int) async throws
        -> [ConsumedMessage]
    {
        let name = try name(ofARN: queueARN)
        let request = ReceiveRequest(
            maximum: min(max(maximum, 1), 10), waitSeconds: min(max(waitSeconds, 0), 20),
            visibilityTimeout: min(max(visibilityTimeout, 0), QueueDefinition.visibilityTimeoutRange.upperBound))
        return try await receive(from: name, request).map { message in
            ConsumedMessage(
                messageID: message.messageID, receiptHandle: message.receiptHandle, body: message.body,
                md5OfBody: MessageDigest.body(message.body),
                md5OfMessageAttributes: MessageDigest.attributes(message.attributes),
                systemAttributes: message.systemAttributes,
                messageAttributes: message.attributes.mapValues { value in
                    ConsumedMessage.Attribute(
                        dataType: value.dataType, stringValue: value.stringValue,
                        binaryValue: value.binaryValue?.base64EncodedString())
                })
        }
    }

    public func delete(queueARN: String, receiptHandles: [String]) async throws {
        guard !receiptHandles.isEmpty else { return }
        _ = try await deleteBatch(from: try name(ofARN: queueARN), receiptHandles: receiptHandles)
    }

    public func release(queueARN: String, receiptHandles: [String]) async throws {
        // A message no longer in flight (its visibility ran out, or it was deleted) has nothing to release.
        try await release(from: try name(ofARN: queueARN), receiptHandles: receiptHandles)
    }
}
