/// A record's sequence number: its shard and its place in that shard.
///
/// On the wire it is a 32-digit decimal string (`49`, the shard index in 10 digits, the counter
/// in 20), so numbers of one shard increase with the counter and compare equally as text or as
/// numbers, and numbers of different shards never collide. Counter 0 is the shard's
/// `StartingSequenceNumber`; records start at 1.
public struct SequenceNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var shardIndex: Int
    public var counter: Int64

    public init(shardIndex: Int, counter: Int64) {
        self.shardIndex = shardIndex
        self.counter = counter
    }

    /// Parses the wire form; `nil` for anything this host did not hand out.
    public init?(_ text: String) {
        let digits = Array(text.utf8)
        guard digits.count == 32, digits[0] == 0x34, digits[1] == 0x39,
            digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let shard = Int(String(decoding: digits[2..<12], as: UTF8.self)),
            let counter = Int64(String(decoding: digits[12..<32], as: UTF8.self))
        else { return nil }
        self.init(shardIndex: shard, counter: counter)
    }

    public var description: String {
        "49" + Self.padded(String(shardIndex), 10) + Self.padded(String(counter), 20)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.shardIndex, lhs.counter) < (rhs.shardIndex, rhs.counter)
    }

    private static func padded(_ text: String, _ width: Int) -> String {
        String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

/// `shardId-000000000003`: Kinesis's shard ids, by index.
public enum ShardID {
    public static func string(_ index: Int) -> String {
        let digits = String(index)
        return "shardId-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// The index a shard id names, or `nil` when it is not of this form.
    public static func index(_ text: String) -> Int? {
        let prefix = "shardId-"
        guard text.hasPrefix(prefix) else { return nil }
        let digits = text.dropFirst(prefix.count)
        guard digits.count == 12, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(digits)
    }
}
