import FunctionHostCore

/// Lambda's SQS event (spec 2.1): `{"Records":[...]}`, each record exactly as Lambda writes it
/// (key order included), and the JSON view of a record that `FilterCriteria` patterns match.
enum SQSEvent {
    /// System attributes Lambda lists first, in its order; the rest follow sorted.
    static let leadingAttributes = ["ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"]

    static func json(_ messages: [ConsumedMessage], queueARN: String, region: String) -> String {
        "{\"Records\":[" + messages.map { record($0, queueARN: queueARN, region: region) }.joined(separator: ",") + "]}"
    }

    static func record(_ message: ConsumedMessage, queueARN: String, region: String) -> String {
        var json = "{\"messageId\":\(JSONText.quote(message.messageID))"
        json += ",\"receiptHandle\":\(JSONText.quote(message.receiptHandle))"
        json += ",\"body\":\(JSONText.quote(message.body))"
        json += ",\"attributes\":{"
        json += orderedAttributes(message.systemAttributes).map { "\(JSONText.quote($0)):\(JSONText.quote($1))" }
            .joined(separator: ",")
        json += "},\"messageAttributes\":{"
        json += message.messageAttributes.keys.sorted().compactMap { name in
            guard let value = message.messageAttributes[name] else { return nil }
            var attribute = "{"
            if let string = value.stringValue { attribute += "\"stringValue\":\(JSONText.quote(string))," }
            if let binary = value.binaryValue { attribute += "\"binaryValue\":\(JSONText.quote(binary))," }
            attribute += "\"stringListValues\":[],\"binaryListValues\":[],\"dataType\":\(JSONText.quote(value.dataType))}"
            return "\(JSONText.quote(name)):\(attribute)"
        }.joined(separator: ",")
        json += "}"
        if let md5 = message.md5OfMessageAttributes { json += ",\"md5OfMessageAttributes\":\(JSONText.quote(md5))" }
        json += ",\"md5OfBody\":\(JSONText.quote(message.md5OfBody))"
        json += ",\"eventSource\":\"aws:sqs\",\"eventSourceARN\":\(JSONText.quote(queueARN))"
        json += ",\"awsRegion\":\(JSONText.quote(region))}"
        return json
    }

    static func orderedAttributes(_ attributes: [String: String]) -> [(String, String)] {
        let leading = leadingAttributes.compactMap { name in attributes[name].map { (name, $0) } }
        let rest = attributes.filter { !leadingAttributes.contains($0.key) }.sorted { $0.key < $1.key }
        return leading + rest.map { ($0.key, $0.value) }
    }

    /// Whether `message` passes `filters` (any of them; none means all pass). A pattern on
    /// `body` needs a JSON body; the body is matched as parsed JSON.
    static func passes(_ message: ConsumedMessage, filters: [EventFilterPattern], queueARN: String, region: String) -> Bool {
        guard !filters.isEmpty else { return true }
        let body = JSONValue(parsing: message.body)
        var members: [String: JSONValue] = [
            "messageId": .string(message.messageID),
            "receiptHandle": .string(message.receiptHandle),
            "body": body.flatMap { value -> JSONValue? in
                if case .object = value { return value }
                if case .array = value { return value }
                return nil
            } ?? .string(message.body),
            "attributes": .object(message.systemAttributes.mapValues { .string($0) }),
            "messageAttributes": .object(
                message.messageAttributes.mapValues { value in
                    var attribute: [String: JSONValue] = ["dataType": .string(value.dataType)]
                    if let string = value.stringValue { attribute["stringValue"] = .string(string) }
                    if let binary = value.binaryValue { attribute["binaryValue"] = .string(binary) }
                    return .object(attribute)
                }),
            "md5OfBody": .string(message.md5OfBody),
            "eventSource": .string("aws:sqs"),
            "eventSourceARN": .string(queueARN),
            "awsRegion": .string(region),
        ]
        let bodyIsJSON: Bool = {
            if case .object? = body { return true }
            if case .array? = body { return true }
            return false
        }()
        if let md5 = message.md5OfMessageAttributes { members["md5OfMessageAttributes"] = .string(md5) }
        return EventFilterPattern.passes(.object(members), filters: filters, payloadKey: "body", payloadIsJSON: bodyIsJSON)
    }
}
