import Foundation
import FunctionHostCore

/// Lambda's DynamoDB Streams event (spec 3.1): `{"Records":[...]}`, each the stream record as
/// `GetRecords` gave it (`eventID`, `eventName`, `eventVersion`, `dynamodb` with `Keys`,
/// `NewImage`/`OldImage` per `StreamViewType`, `SequenceNumber`, `SizeBytes`) plus its
/// `eventSourceARN`, with `userIdentity` keys lower-cased as Lambda writes them.
enum DynamoDBEvent {
    static func json(
        _ records: [StreamReadRecord], shardID: String, streamARN: String, window: StreamShardEngine.TumblingWindow? = nil
    ) -> String {
        let items = records.compactMap { record -> String? in
            guard var object = (try? JSONSerialization.jsonObject(with: record.data)) as? [String: Any] else { return nil }
            object["eventSourceARN"] = streamARN
            if let identity = object["userIdentity"] as? [String: Any] {
                var lowered: [String: Any] = [:]
                for (key, value) in identity { lowered[key.prefix(1).lowercased() + key.dropFirst()] = value }
                object["userIdentity"] = lowered
            }
            return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
                .map { String(decoding: $0, as: UTF8.self) }
        }
        return "{\"Records\":[" + items.joined(separator: ",") + "]"
            + (window.map { KinesisEvent.windowJSON($0, shardID: shardID, streamARN: streamARN) } ?? "") + "}"
    }

    /// Whether a stream record passes `filters`: a pattern sees the record as in the event
    /// (`eventName`, `dynamodb.Keys` / `NewImage` / `OldImage` with their type descriptors, …,
    /// `eventSourceARN`). A record that is not a JSON object passes no pattern.
    static func passes(_ record: StreamReadRecord, filters: [EventFilterPattern], streamARN: String) -> Bool {
        guard !filters.isEmpty else { return true }
        guard case .object(var members)? = JSONValue(parsing: record.data) else { return false }
        members["eventSourceARN"] = .string(streamARN)
        if case .object(let identity)? = members["userIdentity"] {
            members["userIdentity"] = .object(
                Dictionary(identity.map { ($0.key.prefix(1).lowercased() + $0.key.dropFirst(), $0.value) }) { _, last in last })
        }
        return EventFilterPattern.passes(.object(members), filters: filters, payloadKey: "dynamodb", payloadIsJSON: true)
    }
}
