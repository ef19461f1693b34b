import Foundation
import FunctionHostCore

/// Lambda's Kinesis event (spec 3.1): `{"Records":[...]}` of one shard, each record exactly as
/// Lambda writes it (base64 `data`, `approximateArrivalTimestamp` in epoch seconds, `eventID`
/// `shardId:sequenceNumber`), and the OnFailure record of a discarded batch (spec 3.5).
enum KinesisEvent {
    static func json(
        _ records: [StreamReadRecord], shardID: String, streamARN: String, region: String, roleARN: String,
        window: StreamShardEngine.TumblingWindow? = nil
    ) -> String {
        let tail =
            ",\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\""
        let source =
            ",\"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":\(JSONText.quote(roleARN))"
            + ",\"awsRegion\":\(JSONText.quote(region)),\"eventSourceARN\":\(JSONText.quote(streamARN))}"
        return "{\"Records\":["
            + records.map { record in
                "{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\(JSONText.quote(record.partitionKey))"
                    + ",\"sequenceNumber\":\(JSONText.quote(record.sequenceNumber))"
                    + ",\"data\":\"\(record.data.base64EncodedString())\""
                    + ",\"approximateArrivalTimestamp\":\(seconds(record.arrivedAt))}"
                    + tail + ",\"eventID\":\(JSONText.quote(shardID + ":" + record.sequenceNumber))" + source
            }.joined(separator: ",") + "]" + (window.map { windowJSON($0, shardID: shardID, streamARN: streamARN) } ?? "")
            + "}"
    }

    /// Whether a record passes `filters`. Lambda filters Kinesis records on `data` only: a pattern
    /// sees `data` decoded and parsed when it is a JSON object or array, and nothing else (a
    /// pattern on the metadata never matches; non-JSON data matches no pattern).
    static func passes(_ record: StreamReadRecord, filters: [EventFilterPattern]) -> Bool {
        guard !filters.isEmpty else { return true }
        let data = JSONValue(parsing: record.data).flatMap { value -> JSONValue? in
            if case .object = value { return value }
            if case .array = value { return value }
            return nil
        }
        return EventFilterPattern.passes(
            .object(data.map { ["data": $0] } ?? [:]), filters: filters, payloadKey: "data", payloadIsJSON: data != nil)
    }

    /// The tumbling-window members after `Records` (spec 3.6).
    static func windowJSON(_ window: StreamShardEngine.TumblingWindow, shardID: String, streamARN: String) -> String {
        ",\"window\":{\"start\":\(JSONText.quote(secondsTimestamp(window.start))),\"end\":\(JSONText.quote(secondsTimestamp(window.end)))}"
            + ",\"state\":\(window.state),\"shardId\":\(JSONText.quote(shardID)),\"eventSourceARN\":\(JSONText.quote(streamARN))"
            + ",\"isFinalInvokeForWindow\":\(window.isFinal),\"isWindowTerminatedEarly\":\(window.isTerminatedEarly)"
    }

    /// The `state` object of a tumbling-window response, as JSON text; `nil` when it has none
    /// (Lambda counts that as a failed invocation).
    static func windowState(from payload: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
            let state = object["state"] as? [String: Any],
            let data = try? JSONSerialization.data(withJSONObject: state, options: [.sortedKeys])
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// ISO 8601 with whole seconds (`2020-12-09T07:04:00Z`), as window bounds are written.
    static func secondsTimestamp(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds / 1000)).formatted(Date.ISO8601FormatStyle())
    }

    /// Epoch milliseconds as Lambda's float seconds (`1545084650.987`).
    static func seconds(_ milliseconds: Int64) -> String {
        let whole = milliseconds / 1000
        let fraction = milliseconds % 1000
        let digits = String(fraction)
        return "\(whole)." + String(repeating: "0", count: 3 - digits.count) + digits
    }

    /// ISO 8601 with milliseconds (`2019-11-14T00:38:04.835Z`).
    static func timestamp(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// The OnFailure record of discarded records: request and response context and `KinesisBatchInfo`
    /// (`DDBStreamBatchInfo` with second-precision arrival times for a DynamoDB stream).
    static func failureRecord(
        _ records: [StreamReadRecord], condition: StreamShardEngine.Condition, invokeCount: Int,
        functionError: String?, functionARN: String, shardID: String, streamARN: String, now: Int64,
        dynamoDB: Bool = false
    ) -> String {
        func arrival(_ milliseconds: Int64) -> String {
            dynamoDB ? secondsTimestamp(milliseconds) : timestamp(milliseconds)
        }
        guard let first = records.first, let last = records.last else { return "{}" }
        var json = "{\"requestContext\":{\"requestId\":\(JSONText.quote(InvocationIdentifiers.requestID()))"
        json += ",\"functionArn\":\(JSONText.quote(functionARN)),\"condition\":\"\(condition.rawValue)\""
        json += ",\"approximateInvokeCount\":\(invokeCount)}"
        if let functionError {
            json += ",\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"$LATEST\""
            json += ",\"functionError\":\(JSONText.quote(functionError))}"
        }
        json += ",\"version\":\"1.0\",\"timestamp\":\(JSONText.quote(timestamp(now)))"
        json += ",\"\(dynamoDB ? "DDBStreamBatchInfo" : "KinesisBatchInfo")\":{\"shardId\":\(JSONText.quote(shardID))"
        json += ",\"startSequenceNumber\":\(JSONText.quote(first.sequenceNumber))"
        json += ",\"endSequenceNumber\":\(JSONText.quote(last.sequenceNumber))"
        json += ",\"approximateArrivalOfFirstRecord\":\(JSONText.quote(arrival(first.arrivedAt)))"
        json += ",\"approximateArrivalOfLastRecord\":\(JSONText.quote(arrival(last.arrivedAt)))"
        json += ",\"batchSize\":\(records.count),\"streamArn\":\(JSONText.quote(streamARN))}}"
        return json
    }
}
