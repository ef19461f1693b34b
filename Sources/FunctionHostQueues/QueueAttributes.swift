import FunctionHostCore
import Foundation

/// The string-valued queue attributes of `CreateQueue`, `SetQueueAttributes` and `GetQueueAttributes`.
enum QueueAttributes {
    static let settable: Set<String> = [
        "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds",
        "MaximumMessageSize", "RedrivePolicy", "ContentBasedDeduplication", "FifoQueue",
        // Accepted without local effect.
        "Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "RedriveAllowPolicy",
        "DeduplicationScope", "FifoThroughputLimit",
    ]
    static let readOnly: Set<String> = [
        "QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp",
    ]

    /// Applies `attributes` to `definition`; `creating` allows `FifoQueue`. Throws ``QueueError``.
    static func apply(
        _ attributes: [String: String], to definition: inout QueueDefinition, creating: Bool, account: AccountContext
    ) throws(QueueError) {
        func integer(_ name: String, _ value: String, _ range: ClosedRange<Int>) throws(QueueError) -> Int {
            guard let number = Int(value), range.contains(number) else {
                throw QueueError(.invalidAttributeValue, "Invalid value for the parameter \(name).")
            }
            return number
        }
        func boolean(_ name: String, _ value: String) throws(QueueError) -> Bool {
            switch value.lowercased() {
            case "true": return true
            case "false": return false
            default: throw QueueError(.invalidAttributeValue, "Invalid value for the parameter \(name).")
            }
        }
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            guard settable.contains(name) else {
                throw QueueError(.invalidAttributeName, "Unknown Attribute \(name).")
            }
            switch name {
            case "VisibilityTimeout":
                definition.visibilityTimeout = try integer(name, value, QueueDefinition.visibilityTimeoutRange)
            case "MessageRetentionPeriod":
                definition.messageRetentionPeriod = try integer(name, value, QueueDefinition.retentionRange)
            case "DelaySeconds": definition.delaySeconds = try integer(name, value, QueueDefinition.delayRange)
            case "ReceiveMessageWaitTimeSeconds":
                definition.receiveMessageWaitTimeSeconds = try integer(name, value, QueueDefinition.waitTimeRange)
            case "MaximumMessageSize":
                definition.maximumMessageSize = try integer(name, value, QueueDefinition.maximumMessageSizeRange)
            case "RedrivePolicy":
                if value.isEmpty {
                    definition.redrive = nil
                    continue
                }
                guard let data = value.data(using: .utf8),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                    let arn = object["deadLetterTargetArn"] as? String,
                    let count = (object["maxReceiveCount"] as? Int)
                        ?? (object["maxReceiveCount"] as? String).flatMap(Int.init),
                    QueueDefinition.maxReceiveCountRange.contains(count)
                else {
                    throw QueueError(
                        .invalidParameterValue,
                        "Value \(value) for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount (1-1000)."
                    )
                }
                guard account.queueName(fromARN: arn) != nil else {
                    throw QueueError(
                        .invalidParameterValue,
                        "Value \(value) for parameter RedrivePolicy is invalid. Reason: Dead-letter target ARN is not an SQS queue of this account and region."
                    )
                }
                definition.redrive = .init(deadLetterTargetARN: arn, maxReceiveCount: count)
            case "FifoQueue":
                let fifo = try boolean(name, value)
                guard creating || fifo == definition.fifo else {
                    throw QueueError(.invalidAttributeName, "Invalid attribute name FifoQueue")
                }
                definition.fifo = fifo
            case "ContentBasedDeduplication":
                definition.contentBasedDeduplication = try boolean(name, value)
            default:
                continue
            }
        }
        if definition.contentBasedDeduplication && !definition.fifo {
            throw QueueError(.invalidAttributeName, "Unknown Attribute ContentBasedDeduplication.")
        }
    }

    /// Counts of a queue's messages by state.
    struct Depth: Sendable, Hashable {
        var visible = 0
        var inFlight = 0
        var delayed = 0
    }

    /// The `GetQueueAttributes` map for `names` (`All` for every attribute).
    static func render(
        _ queue: QueueRecord, depth: Depth, names: [String], account: AccountContext
    ) throws(QueueError) -> [String: String] {
        let definition = queue.definition
        var all: [String: String] = [
            "QueueArn": account.queueARN(queue.name),
            "ApproximateNumberOfMessages": String(depth.visible),
            "ApproximateNumberOfMessagesNotVisible": String(depth.inFlight),
            "ApproximateNumberOfMessagesDelayed": String(depth.delayed),
            "CreatedTimestamp": String(queue.createdAt / 1000),
            "LastModifiedTimestamp": String(queue.modifiedAt / 1000),
            "VisibilityTimeout": String(definition.visibilityTimeout),
            "MaximumMessageSize": String(definition.maximumMessageSize),
            "MessageRetentionPeriod": String(definition.messageRetentionPeriod),
            "DelaySeconds": String(definition.delaySeconds),
            "ReceiveMessageWaitTimeSeconds": String(definition.receiveMessageWaitTimeSeconds),
            "SqsManagedSseEnabled": "true",
        ]
        if let redrive = definition.redrive {
            all["RedrivePolicy"] =
                "{\"deadLetterTargetArn\":\"\(redrive.deadLetterTargetARN)\",\"maxReceiveCount\":\(redrive.maxReceiveCount)}"
        }
        if definition.fifo {
            all["FifoQueue"] = "true"
            all["ContentBasedDeduplication"] = String(definition.contentBasedDeduplication)
            all["DeduplicationScope"] = "queue"
            all["FifoThroughputLimit"] = "perQueue"
        }
        if names.contains("All") { return all }
        var selected: [String: String] = [:]
        for name in names {
            guard settable.contains(name) || readOnly.contains(name) else {
                throw QueueError(.invalidAttributeName, "Unknown Attribute \(name).")
            }
            if let value = all[name] { selected[name] = value }
        }
        return selected
    }
}
