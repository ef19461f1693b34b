import FunctionHostCore
import Foundation

/// One Kinesis request's parameters, read with Kinesis's validation wording.
struct KinesisCall {
    var parameters: [String: Any]
    var account: AccountContext

    func string(_ key: String) throws(StreamError) -> String? {
        guard let value = parameters[key] else { return nil }
        guard let text = value as? String else {
            throw StreamError(.serialization, "Value for \(key) must be a string.")
        }
        return text
    }

    func required(_ key: String) throws(StreamError) -> String {
        guard let text = try string(key) else { throw StreamError.missing(Self.member(key)) }
        return text
    }

    func integer(_ key: String, _ range: ClosedRange<Int>) throws(StreamError) -> Int? {
        guard let value = parameters[key] else { return nil }
        guard let number = value as? Int else {
            throw StreamError(.serialization, "Value for \(key) must be an integer.")
        }
        guard range.contains(number) else {
            throw StreamError.constraint(
                number, Self.member(key),
                number < range.lowerBound
                    ? "have value greater than or equal to \(range.lowerBound)"
                    : "have value less than or equal to \(range.upperBound)")
        }
        return number
    }

    /// A timestamp member: epoch seconds (a JSON number), as epoch milliseconds.
    func timestamp(_ key: String) throws(StreamError) -> Int64? {
        guard let value = parameters[key] else { return nil }
        guard let seconds = value as? Double, seconds.isFinite, abs(seconds) < 1e12 else {
            throw StreamError(.serialization, "Value for \(key) must be a timestamp in epoch seconds.")
        }
        return Int64((seconds * 1000).rounded(.down))
    }

    /// The stream a request names by `StreamName` or `StreamARN`.
    func streamName() throws(StreamError) -> String {
        let name = try string("StreamName")
        let arn = try string("StreamARN")
        if let name, !StreamDefinition.isValidName(name) {
            throw StreamError.constraint(name, "streamName", "satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        }
        if let arn {
            guard let named = account.streamName(fromARN: arn) else {
                if arn.hasPrefix("arn:aws:kinesis:") {
                    throw StreamError(.resourceNotFound, "Stream \(arn) not found.")
                }
                throw StreamError.constraint(arn, "streamARN", "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+")
            }
            if let name, name != named {
                throw StreamError(.invalidArgument, "StreamARN and StreamName do not name the same stream.")
            }
            return named
        }
        guard let name else { throw StreamError(.invalidArgument, "Either StreamName or StreamARN should be provided.") }
        return name
    }

    /// `streamName`: the lower-camel member name Kinesis's validation messages use.
    static func member(_ key: String) -> String {
        key.prefix(1).lowercased() + key.dropFirst()
    }
}
