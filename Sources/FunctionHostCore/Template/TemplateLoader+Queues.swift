import Foundation

extension TemplateLoader {
    static let queueType = "AWS::SQS::Queue"

    /// Properties of `AWS::SQS::Queue` that fnhost reads.
    static let queueProperties: Set<String> = [
        "QueueName", "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds",
        "MaximumMessageSize", "RedrivePolicy", "FifoQueue", "ContentBasedDeduplication",
    ]
    /// Properties of `AWS::SQS::Queue` accepted without local effect.
    static let acceptedQueueProperties: Set<String> = [
        "Tags", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "RedriveAllowPolicy",
        "DeduplicationScope", "FifoThroughputLimit",
    ]

    /// The queue name a template resource gets: `QueueName`, else the logical id (`.fifo` added for FIFO).
    static func queueName(logicalID: String, properties: TemplateValue?) -> String {
        if let name = properties?["QueueName"]?.string { return name }
        let fifo = properties?["FifoQueue"]?.string.map { $0.lowercased() == "true" } ?? false
        return fifo ? logicalID + ".fifo" : logicalID
    }

    /// `!Ref` gives the queue URL; `!GetAtt` gives `Arn`, `QueueName` and `QueueUrl`.
    func queueReferences(logicalID: String, properties: TemplateValue?) -> (ref: String, attributes: [String: String]) {
        let name = Self.queueName(logicalID: logicalID, properties: properties)
        let url = "\(queueEndpoint)/\(account.accountID)/\(name)"
        return (url, ["Arn": account.queueARN(name), "QueueName": name, "QueueUrl": url])
    }

    /// Validates one `AWS::SQS::Queue` resource (redrive targets are checked by ``checkRedriveTargets(_:file:)``).
    func loadQueue(
        _ logicalID: String, properties unresolved: TemplateValue, resolver: IntrinsicResolver, file: String,
        warnings: inout [String]
    ) throws(TemplateError) -> QueueDefinition {
        func failure(_ property: String, _ message: String) -> TemplateError {
            TemplateError(file: file, resource: logicalID, property: property, message: message)
        }
        var properties: [String: TemplateValue] = [:]
        for (name, value) in unresolved.entries ?? [] {
            if Self.queueProperties.contains(name) {
                do { properties[name] = try resolver.resolve(value) } catch { throw failure(name, error.message) }
            } else if !Self.acceptedQueueProperties.contains(name) {
                warnings.append("\(file): resource \(logicalID): ignoring unknown property \(name)")
            }
        }
        func boolean(_ property: String) throws(TemplateError) -> Bool {
            guard let value = properties[property] else { return false }
            switch value.string?.lowercased() {
            case "true": return true
            case "false": return false
            default: throw failure(property, "must be true or false")
            }
        }
        func integer(_ property: String, _ range: ClosedRange<Int>, default value: Int) throws(TemplateError) -> Int {
            guard let raw = properties[property] else { return value }
            guard let text = raw.string, let number = Int(text), range.contains(number) else {
                throw failure(
                    property,
                    "must be an integer from \(range.lowerBound) to \(range.upperBound), got \(raw.string ?? "a non-scalar")"
                )
            }
            return number
        }
        let fifo = try boolean("FifoQueue")
        let name: String
        if let raw = properties["QueueName"] {
            guard let text = raw.string else { throw failure("QueueName", "must be a string") }
            name = text
        } else {
            name = fifo ? logicalID + ".fifo" : logicalID
        }
        guard QueueDefinition.isValidName(name, fifo: fifo) else {
            throw failure(
                "QueueName",
                fifo
                    ? "\(name) is not a valid FIFO queue name (1-75 of A-Z, a-z, 0-9, - and _, then .fifo)"
                    : "\(name) is not a valid queue name (1-80 of A-Z, a-z, 0-9, - and _; FIFO queues need FifoQueue: true)"
            )
        }
        var queue = QueueDefinition(name: name, logicalID: logicalID)
        queue.fifo = fifo
        queue.contentBasedDeduplication = try boolean("ContentBasedDeduplication")
        if queue.contentBasedDeduplication && !fifo {
            throw failure("ContentBasedDeduplication", "is only valid for FIFO queues (FifoQueue: true)")
        }
        queue.visibilityTimeout = try integer("VisibilityTimeout", QueueDefinition.visibilityTimeoutRange, default: 30)
        queue.messageRetentionPeriod = try integer(
            "MessageRetentionPeriod", QueueDefinition.retentionRange, default: 345_600)
        queue.delaySeconds = try integer("DelaySeconds", QueueDefinition.delayRange, default: 0)
        queue.receiveMessageWaitTimeSeconds = try integer(
            "ReceiveMessageWaitTimeSeconds", QueueDefinition.waitTimeRange, default: 0)
        queue.maximumMessageSize = try integer(
            "MaximumMessageSize", QueueDefinition.maximumMessageSizeRange, default: 1_048_576)
        if let policy = properties["RedrivePolicy"] {
            queue.redrive = try Self.redrive(policy, failure: failure)
        }
        return queue
    }

    /// `RedrivePolicy` as a mapping or a JSON string: `deadLetterTargetArn` and `maxReceiveCount` (1–1000).
    static func redrive(
        _ policy: TemplateValue, failure: (String, String) -> TemplateError
    ) throws(TemplateError) -> QueueDefinition.Redrive {
        var fields: [String: String] = [:]
        if let entries = policy.entries {
            for (key, value) in entries { fields[key] = value.string }
        } else if let text = policy.string, let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            for (key, value) in object { fields[key] = "\(value)" }
        } else {
            throw failure(
                "RedrivePolicy", "must be a mapping (or JSON text) with deadLetterTargetArn and maxReceiveCount")
        }
        guard let arn = fields["deadLetterTargetArn"], arn.hasPrefix("arn:aws:sqs:") else {
            throw failure(
                "RedrivePolicy.deadLetterTargetArn",
                "is missing or not an SQS queue ARN (give !GetAtt DeadLetterQueue.Arn)")
        }
        guard let text = fields["maxReceiveCount"], let count = Int(text),
            QueueDefinition.maxReceiveCountRange.contains(count)
        else {
            throw failure(
                "RedrivePolicy.maxReceiveCount",
                "must be an integer from 1 to 1000, got \(fields["maxReceiveCount"] ?? "nothing")")
        }
        return .init(deadLetterTargetARN: arn, maxReceiveCount: count)
    }

    /// Every redrive target must be a queue of the same template, of the same kind (FIFO or standard).
    func checkRedriveTargets(_ queues: [QueueDefinition], file: String) throws(TemplateError) {
        let byARN = Dictionary(queues.map { (account.queueARN($0.name), $0) }, uniquingKeysWith: { first, _ in first })
        var names: [String: String] = [:]
        for queue in queues {
            let logicalID = queue.logicalID ?? queue.name
            if let other = names[queue.name] {
                throw TemplateError(
                    file: file, resource: logicalID, property: "QueueName",
                    message: "\(queue.name) is already the name of \(other)")
            }
            names[queue.name] = logicalID
            guard let redrive = queue.redrive else { continue }
            guard let target = byARN[redrive.deadLetterTargetARN] else {
                throw TemplateError(
                    file: file, resource: logicalID, property: "RedrivePolicy.deadLetterTargetArn",
                    message: "\(redrive.deadLetterTargetARN) is not a queue of this template")
            }
            guard target.fifo == queue.fifo else {
                throw TemplateError(
                    file: file, resource: logicalID, property: "RedrivePolicy.deadLetterTargetArn",
                    message:
                        "the dead-letter queue of a \(queue.fifo ? "FIFO" : "standard") queue must also be \(queue.fifo ? "FIFO" : "standard")"
                )
            }
        }
    }
}
