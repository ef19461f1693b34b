import Foundation
import FunctionHostCore

/// A shard iterator: where the next `GetRecords` of one shard reads, and when it was issued.
///
/// On the wire it is opaque (base64 of `v1:STREAM:CREATED:SHARD:POSITION:ISSUED`); anything that
/// does not parse, or names a stream that was since recreated, is refused with
/// `InvalidArgumentException`. It expires ``lifetime`` after it was issued, on the host clock.
public struct ShardIterator: Sendable, Hashable {
    public var stream: String
    /// The stream's creation time (epoch ms), so an iterator of a deleted and recreated stream is refused.
    public var streamCreatedAt: Int64
    public var shardIndex: Int
    /// The counter of the next record to read.
    public var position: Int64
    /// Epoch ms on the host clock.
    public var issuedAt: Int64

    /// Kinesis iterators are valid for 5 minutes.
    public static let lifetime: Int64 = 300_000
    /// Longest iterator accepted (Kinesis's model limit).
    static let maximumLength = 512

    public init(stream: String, streamCreatedAt: Int64, shardIndex: Int, position: Int64, issuedAt: Int64) {
        self.stream = stream
        self.streamCreatedAt = streamCreatedAt
        self.shardIndex = shardIndex
        self.position = position
        self.issuedAt = issuedAt
    }

    public var token: String {
        Data("v1:\(stream):\(streamCreatedAt):\(shardIndex):\(position):\(issuedAt)".utf8).base64EncodedString()
    }

    /// Parses a token this host handed out; `nil` otherwise.
    public init?(token: String) {
        guard token.utf8.count <= Self.maximumLength, let data = Data(base64Encoded: token),
            let text = String(data: data, encoding: .utf8)
        else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "v1", StreamDefinition.isValidName(String(parts[1])),
            let created = Int64(parts[2]), let shard = Int(parts[3]), shard >= 0,
            let position = Int64(parts[4]), position >= 0, let issued = Int64(parts[5])
        else { return nil }
        self.init(stream: String(parts[1]), streamCreatedAt: created, shardIndex: shard, position: position, issuedAt: issued)
    }
}
