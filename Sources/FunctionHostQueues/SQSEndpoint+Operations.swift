import FunctionHostCore
import Foundation

extension SQSEndpoint {
    /// Runs one SQS operation and returns its JSON answer (`{}` for void operations).
    func perform(_ operation: String, _ call: SQSCall) async throws -> [String: Any] {
        switch operation {
        case "CreateQueue":
            let name = try call.required("QueueName")
            _ = try await engine.createQueue(name: name, attributes: try call.stringMap("Attributes"))
            return ["QueueUrl": call.url(name)]
        case "GetQueueUrl":
            let name = try call.required("QueueName")
            if let owner = try call.string("QueueOwnerAWSAccountId"), owner != engine.account.accountID {
                throw QueueError.noQueue
            }
            _ = try await engine.queue(named: name)
            return ["QueueUrl": call.url(name)]
        case "ListQueues":
            return try await listQueues(call)
        case "GetQueueAttributes":
            let names = try call.strings("AttributeNames")
            return [
                "Attributes": try await engine.attributes(of: try call.queueName(), names: names.isEmpty ? [] : names)
            ]
        case "SetQueueAttributes":
            guard call.parameters["Attributes"] != nil else { throw QueueError.missing("Attributes") }
            try await engine.setAttributes(of: try call.queueName(), try call.stringMap("Attributes"))
            return [:]
        case "SendMessage":
            let sent = try await engine.send(to: try call.queueName(), try Self.outgoing(call.parameters))
            return Self.sentJSON(sent)
        case "SendMessageBatch":
            return try await sendBatch(call)
        case "ReceiveMessage":
            return try await receive(call)
        case "DeleteMessage":
            try await engine.delete(from: try call.queueName(), receiptHandle: try call.required("ReceiptHandle"))
            return [:]
        case "DeleteMessageBatch":
            return try await deleteBatch(call)
        case "ChangeMessageVisibility":
            guard let timeout = try call.integer("VisibilityTimeout", Int.min...Int.max, "Must be an integer.") else {
                throw QueueError.missing("VisibilityTimeout")
            }
            try await engine.changeVisibility(
                of: try call.queueName(), receiptHandle: try call.required("ReceiptHandle"), timeout: timeout)
            return [:]
        case "ChangeMessageVisibilityBatch":
            let name = try call.queueName()
            // A missing queue fails the whole call, as SQS does, not each entry.
            _ = try await engine.queue(named: name)
            return try await batch(call) { entry in
                guard let handle = entry["ReceiptHandle"] as? String else { throw QueueError.missing("ReceiptHandle") }
                guard let timeout = entry["VisibilityTimeout"] as? Int else {
                    throw QueueError.missing("VisibilityTimeout")
                }
                try await self.engine.changeVisibility(of: name, receiptHandle: handle, timeout: timeout)
                return [:]
            }
        case "PurgeQueue":
            try await engine.purge(try call.queueName())
            return [:]
        case "DeleteQueue":
            try await engine.deleteQueue(try call.queueName())
            return [:]
        default:
            throw QueueError(.unsupportedOperation, "\(operation) is not supported by the fnhost embedded queue.")
        }
    }

    private func listQueues(_ call: SQSCall) async throws -> [String: Any] {
        let prefix = try call.string("QueueNamePrefix")
        let names = try await engine.queueNames(prefix: prefix)
        let limit = try call.integer("MaxResults", 1...1000, "Must be between 1 and 1000, if provided.")
        let start = try call.string("NextToken").map { token throws(QueueError) in
            // A token is an index this endpoint handed out: anything else is refused, never used as one.
            guard let index = Int(token), (0...names.count).contains(index) else {
                throw QueueError.invalidValue(token, "NextToken", "Invalid NextToken value.")
            }
            return index
        } ?? 0
        guard !names.isEmpty, start < names.count else { return [:] }
        let end = limit.map { min(names.count, start + $0) } ?? min(names.count, start + 1000)
        var answer: [String: Any] = ["QueueUrls": names[start..<end].map(call.url)]
        if end < names.count, limit != nil { answer["NextToken"] = String(end) }
        return answer
    }

    /// Batch envelope rules (1–10 entries, distinct ids of `[A-Za-z0-9_-]{1,80}`), then each entry on its own.
    private func batch(
        _ call: SQSCall, entry run: @Sendable ([String: Any]) async throws -> [String: Any]
    ) async throws -> [String: Any] {
        let entries = try Self.batchEntries(call)
        var successful: [[String: Any]] = []
        var failed: [[String: Any]] = []
        for (id, entry) in entries {
            do {
                var answer = try await run(entry)
                answer["Id"] = id
                successful.append(answer)
            } catch let error as QueueError {
                failed.append(Self.failedEntry(id, error))
            }
        }
        return ["Successful": successful, "Failed": failed]
    }

    static func failedEntry(_ id: String, _ error: QueueError) -> [String: Any] {
        let code =
            error.code == .invalidParameterValue
            ? "InvalidParameterValue" : error.code == .missingParameter ? "MissingParameter" : error.code.rawValue
        return ["Id": id, "SenderFault": error.code != .internalError, "Code": code, "Message": error.message]
    }

    /// The entries with their validated ids.
    static func batchEntries(_ call: SQSCall) throws(QueueError) -> [(id: String, entry: [String: Any])] {
        guard let raw = call.parameters["Entries"] else { throw QueueError.missing("Entries") }
        guard let entries = raw as? [[String: Any]] else {
            throw QueueError.invalidValue(raw, "Entries", "Must be a list.")
        }
        guard !entries.isEmpty else {
            throw QueueError(
                .emptyBatchRequest, "There should be at least one SendMessageBatchRequestEntry in the request.")
        }
        guard entries.count <= 10 else {
            throw QueueError(
                .tooManyEntriesInBatchRequest,
                "Maximum number of entries per request are 10. You have sent \(entries.count).")
        }
        var seen: Set<String> = []
        var identified: [(id: String, entry: [String: Any])] = []
        for entry in entries {
            guard let id = entry["Id"] as? String else { throw QueueError.missing("Id") }
            guard !id.isEmpty, id.count <= 80,
                id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else {
                throw QueueError(
                    .invalidBatchEntryId,
                    "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."
                )
            }
            guard seen.insert(id).inserted else {
                throw QueueError(.batchEntryIdsNotDistinct, "Id \(id) repeated.")
            }
            identified.append((id, entry))
        }
        return identified
    }

    private func sendBatch(_ call: SQSCall) async throws -> [String: Any] {
        let name = try call.queueName()
        let entries = try Self.batchEntries(call)
        let total = entries.map(\.entry).reduce(0) { sum, entry in
            sum + ((entry["MessageBody"] as? String)?.utf8.count ?? 0)
                + ((entry["MessageAttributes"] as? [String: Any]).map { attributes in
                    attributes.reduce(0) { $0 + $1.key.utf8.count + "\($1.value)".utf8.count }
                } ?? 0)
        }
        guard total <= 1_048_576 else {
            throw QueueError(
                .batchRequestTooLong,
                "Batch requests cannot be longer than 1048576 bytes. You have sent \(total) bytes.")
        }
        var successful: [[String: Any]] = []
        var failed: [[String: Any]] = []
        var valid: [(String, OutgoingMessage)] = []
        for (id, entry) in entries {
            do throws(QueueError) {
                valid.append((id, try Self.outgoing(entry)))
            } catch {
                failed.append(Self.failedEntry(id, error))
            }
        }
        let results = try await engine.sendBatch(to: name, valid.map(\.1))
        for ((id, _), result) in zip(valid, results) {
            switch result {
            case .success(let sent):
                var answer = Self.sentJSON(sent)
                answer["Id"] = id
                successful.append(answer)
            case .failure(let error):
                failed.append(Self.failedEntry(id, error))
            }
        }
        return ["Successful": successful, "Failed": failed]
    }

    private func deleteBatch(_ call: SQSCall) async throws -> [String: Any] {
        let name = try call.queueName()
        let entries = try Self.batchEntries(call)
        var successful: [[String: Any]] = []
        var failed: [[String: Any]] = []
        var pending: [(id: String, handle: String)] = []
        for (id, entry) in entries {
            if let handle = entry["ReceiptHandle"] as? String {
                pending.append((id, handle))
            } else {
                failed.append(Self.failedEntry(id, .missing("ReceiptHandle")))
            }
        }
        let outcomes = try await engine.deleteBatch(from: name, receiptHandles: pending.map(\.handle))
        for (entry, outcome) in zip(pending, outcomes) {
            if let outcome {
                failed.append(Self.failedEntry(entry.id, outcome))
            } else {
                successful.append(["Id": entry.id])
            }
        }
        return ["Successful": successful, "Failed": failed]
    }

    static func sentJSON(_ sent: SentMessage) -> [String: Any] {
        var answer: [String: Any] = ["MessageId": sent.messageID, "MD5OfMessageBody": sent.md5OfBody]
        if let md5 = sent.md5OfAttributes { answer["MD5OfMessageAttributes"] = md5 }
        if let sequence = sent.sequenceNumber { answer["SequenceNumber"] = sequence }
        return answer
    }

    /// A send's parameters (`SendMessage` or a batch entry) as an ``OutgoingMessage``.
    static func outgoing(_ parameters: [String: Any]) throws(QueueError) -> OutgoingMessage {
        guard let body = parameters["MessageBody"] as? String else { throw QueueError.missing("MessageBody") }
        var message = OutgoingMessage(body: body)
        if let raw = parameters["DelaySeconds"] {
            guard let delay = raw as? Int else { throw .invalidValue(raw, "DelaySeconds", "Must be an integer.") }
            message.delaySeconds = delay
        }
        message.groupID = parameters["MessageGroupId"] as? String
        message.deduplicationID = parameters["MessageDeduplicationId"] as? String
        if let system = parameters["MessageSystemAttributes"] as? [String: Any],
            let trace = system["AWSTraceHeader"] as? [String: Any]
        {
            message.traceHeader = trace["StringValue"] as? String
        }
        if let raw = parameters["MessageAttributes"] {
            guard let attributes = raw as? [String: [String: Any]] else {
                throw .invalidValue(raw, "MessageAttributes", "Must be a map of attribute values.")
            }
            for (name, value) in attributes {
                guard let dataType = value["DataType"] as? String else {
                    throw QueueError(
                        .invalidParameterValue,
                        "The message attribute '\(name)' must contain a non-empty attribute type.")
                }
                var binary: Data?
                if let text = value["BinaryValue"] as? String {
                    guard let decoded = Data(base64Encoded: text) else {
                        throw QueueError(
                            .invalidParameterValue, "The message attribute '\(name)' has an invalid binary value.")
                    }
                    binary = decoded
                }
                message.attributes[name] = MessageAttributeValue(
                    dataType: dataType, stringValue: value["StringValue"] as? String, binaryValue: binary)
            }
        }
        return message
    }

    private func receive(_ call: SQSCall) async throws -> [String: Any] {
        let name = try call.queueName()
        var request = ReceiveRequest()
        request.maximum =
            try call.integer("MaxNumberOfMessages", 1...10, "Must be between 1 and 10, if provided.") ?? 1
        request.waitSeconds = try call.integer("WaitTimeSeconds", 0...20, "Must be >= 0 and <= 20, if provided.")
        request.visibilityTimeout = try call.integer(
            "VisibilityTimeout", QueueDefinition.visibilityTimeoutRange, "Must be >= 0 and <= 43200, if provided.")
        let systemNames = Set(try call.strings("MessageSystemAttributeNames") + call.strings("AttributeNames"))
        let attributeNames = try call.strings("MessageAttributeNames")
        let messages = try await engine.receive(from: name, request)
        guard !messages.isEmpty else { return [:] }
        return [
            "Messages": messages.map { message in
                var json: [String: Any] = [
                    "MessageId": message.messageID, "ReceiptHandle": message.receiptHandle,
                    "MD5OfBody": MessageDigest.body(message.body), "Body": message.body,
                ]
                let system = message.systemAttributes.filter {
                    systemNames.contains("All") || systemNames.contains($0.key)
                }
                if !system.isEmpty { json["Attributes"] = system }
                let selected = message.attributes.filter { Self.selects(attributeNames, $0.key) }
                if let md5 = MessageDigest.attributes(selected) {
                    json["MD5OfMessageAttributes"] = md5
                    json["MessageAttributes"] = selected.mapValues { value -> [String: Any] in
                        var attribute: [String: Any] = ["DataType": value.dataType]
                        if let text = value.stringValue { attribute["StringValue"] = text }
                        if let bytes = value.binaryValue { attribute["BinaryValue"] = bytes.base64EncodedString() }
                        return attribute
                    }
                }
                return json
            }
        ]
    }

    /// `MessageAttributeNames` matching: `All`, `.*`, `prefix.*`, or an exact name.
    static func selects(_ patterns: [String], _ name: String) -> Bool {
        patterns.contains { pattern in
            if pattern == "All" || pattern == ".*" { return true }
            if pattern.hasSuffix(".*") { return name.hasPrefix(String(pattern.dropLast(1))) }
            return pattern == name
        }
    }
}
