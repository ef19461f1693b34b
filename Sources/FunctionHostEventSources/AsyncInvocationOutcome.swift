import Foundation
import FunctionHostCore

/// Builds what destinations and dead-letter queues receive about an `Event` invocation
/// (spec: async-and-event-sources 1.5 and 1.6), field order as AWS emits it.
struct AsyncInvocationOutcome: Sendable {
    var requestID: String
    /// The qualified ARN (`...:function:NAME:$LATEST`).
    var functionARN: String
    /// `Success`, `RetriesExhausted` or `EventAgeExceeded`.
    var condition: String
    var approximateInvokeCount: Int
    var requestPayload: Data
    /// The last attempt's result; `nil` when no attempt ran.
    var response: (payload: Data, functionError: String?)?
    var timestamp: Date

    /// The invocation record: `version`, `timestamp`, `requestContext`, `requestPayload`, and
    /// `responseContext` / `responsePayload` when an attempt ran. Payloads are embedded as JSON.
    func invocationRecord() -> String {
        var json = #"{"version":"1.0","timestamp":"# + Self.quote(LambdaLogFormat.timestamp(timestamp))
        json += #","requestContext":{"requestId":"# + Self.quote(requestID)
        json += #","functionArn":"# + Self.quote(functionARN)
        json += #","condition":"# + Self.quote(condition)
        json += #","approximateInvokeCount":\#(approximateInvokeCount)}"#
        json += #","requestPayload":"# + Self.embed(requestPayload)
        if let response {
            json += #","responseContext":{"statusCode":200,"executedVersion":"$LATEST""#
            if let functionError = response.functionError { json += #","functionError":"# + Self.quote(functionError) }
            json += #"},"responsePayload":"# + Self.embed(response.payload)
        }
        return json + "}"
    }

    /// The DLQ message attributes: `RequestID`, `ErrorCode` (`200`), `ErrorMessage` (first 1 KB of
    /// the error's `errorMessage`).
    func deadLetterAttributes() -> [String: QueueMessageAttribute] {
        [
            "RequestID": QueueMessageAttribute(dataType: "String", stringValue: requestID),
            "ErrorCode": QueueMessageAttribute(dataType: "Number", stringValue: "200"),
            "ErrorMessage": QueueMessageAttribute(dataType: "String", stringValue: Self.prefix(errorMessage, bytes: 1024)),
        ]
    }

    /// The `errorMessage` of the last attempt's error payload (empty when there is none).
    var errorMessage: String {
        guard let payload = response?.payload,
            let object = (try? JSONSerialization.jsonObject(with: payload)) as? [String: Any],
            let message = object["errorMessage"]
        else { return "" }
        return message as? String ?? "\(message)"
    }

    /// A JSON value as it is, or as a JSON string when it is not JSON; `null` when empty.
    static func embed(_ data: Data) -> String {
        guard !data.isEmpty else { return "null" }
        if (try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)) != nil {
            return String(decoding: data, as: UTF8.self)
        }
        return quote(String(decoding: data, as: UTF8.self))
    }

    static func quote(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    /// At most `bytes` UTF-8 bytes of `text`, cut at a character boundary.
    static func prefix(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var result = ""
        var count = 0
        for character in text {
            let size = character.utf8.count
            if count + size > bytes { break }
            result.append(character)
            count += size
        }
        return result
    }
}
