import Crypto
import Foundation

/// An SQS message attribute value as on the wire: `DataType` (`String`, `Number`, `Binary`,
/// optionally `.custom`) and a `StringValue` or a `BinaryValue` (bytes; base64 in JSON).
public struct MessageAttributeValue: Codable, Sendable, Hashable {
    public var dataType: String
    public var stringValue: String?
    public var binaryValue: Data?

    public init(dataType: String, stringValue: String? = nil, binaryValue: Data? = nil) {
        self.dataType = dataType
        self.stringValue = stringValue
        self.binaryValue = binaryValue
    }

    enum CodingKeys: String, CodingKey {
        case dataType = "DataType"
        case stringValue = "StringValue"
        case binaryValue = "BinaryValue"
    }

    /// `String`, `Number` or `Binary`: the part of `DataType` before any `.custom` suffix.
    var baseType: Substring { dataType.split(separator: ".", maxSplits: 1).first ?? "" }

    /// Checks one attribute as SQS does; throws ``QueueError`` naming the attribute.
    func validate(name: String) throws(QueueError) {
        guard !name.isEmpty, name.count <= 256,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }),
            !name.hasPrefix("."), !name.hasSuffix("."), !name.contains(".."),
            !name.lowercased().hasPrefix("aws."), !name.lowercased().hasPrefix("amazon.")
        else { throw QueueError(.invalidParameterValue, "Message attribute name '\(name)' is invalid.") }
        switch baseType {
        case "String", "Number":
            guard let stringValue, !stringValue.isEmpty else {
                throw QueueError(
                    .invalidParameterValue,
                    "Message attribute '\(name)' must contain a non-empty message attribute value for message attribute type '\(dataType)'."
                )
            }
            if baseType == "Number", Double(stringValue) == nil {
                throw QueueError(
                    .invalidParameterValue, "Value \(stringValue) for message attribute '\(name)' is not a number.")
            }
        case "Binary":
            guard let binaryValue, !binaryValue.isEmpty else {
                throw QueueError(
                    .invalidParameterValue,
                    "Message attribute '\(name)' must contain a non-empty message attribute value for message attribute type 'Binary'."
                )
            }
        default:
            throw QueueError(
                .invalidParameterValue,
                "The type of message (user) attribute '\(name)' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )
        }
    }

    /// Bytes counted toward the message size: name, type and value.
    func size(name: String) -> Int {
        name.utf8.count + dataType.utf8.count + (stringValue?.utf8.count ?? 0) + (binaryValue?.count ?? 0)
    }
}

/// The MD5 digests SQS returns with a message, so clients can check what was stored.
public enum MessageDigest {
    /// `MD5OfMessageBody`: lowercase hex MD5 of the UTF-8 body.
    public static func body(_ body: String) -> String { hex(Insecure.MD5.hash(data: Data(body.utf8))) }

    /// `MD5OfMessageAttributes`: names sorted ascending; for each, 4-byte big-endian length + name,
    /// length + DataType, transport byte (1 String/Number, 2 Binary), length + value; `nil` when empty.
    public static func attributes(_ attributes: [String: MessageAttributeValue]) -> String? {
        guard !attributes.isEmpty else { return nil }
        var bytes = Data()
        func append(_ data: some Collection<UInt8>) {
            var length = UInt32(data.count).bigEndian
            withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: data)
        }
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            append(Array(name.utf8))
            append(Array(value.dataType.utf8))
            if value.baseType == "Binary" {
                bytes.append(2)
                append(Array(value.binaryValue ?? Data()))
            } else {
                bytes.append(1)
                append(Array((value.stringValue ?? "").utf8))
            }
        }
        return hex(Insecure.MD5.hash(data: bytes))
    }

    /// SHA-256 hex of the body: the deduplication id of a queue with `ContentBasedDeduplication`.
    public static func contentDeduplicationID(_ body: String) -> String { hex(SHA256.hash(data: Data(body.utf8))) }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
