import Crypto

/// Kinesis's 128-bit hash-key space: how a stream's shards divide it and where a record lands.
///
/// Shard `i` of `n` starts at `i * floor(2^128 / n)` and ends one below the next start; the last
/// ends at `2^128 - 1`. A record's hash key is the MD5 of its partition key read as a big-endian
/// unsigned integer, or its `ExplicitHashKey`.
public enum HashKeySpace {
    /// The hash-key range of every shard of a stream with `shardCount` (≥ 1) shards.
    public static func ranges(shardCount: Int) -> [ClosedRange<UInt128>] {
        let count = UInt128(max(1, shardCount))
        guard let width = width(count) else { return [0...UInt128.max] }
        return (0..<count).map { index in
            let start = index * width
            return start...(index == count - 1 ? UInt128.max : start + width - 1)
        }
    }

    /// The shard index whose range holds `hashKey`.
    public static func shard(of hashKey: UInt128, shardCount: Int) -> Int {
        let count = UInt128(max(1, shardCount))
        guard let width = width(count) else { return 0 }
        return Int(min(hashKey / width, count - 1))
    }

    /// floor(2^128 / count) for a count of 2 or more, computed without 2^128: floor(max / count),
    /// plus one when count divides 2^128; `nil` for one shard (its width, 2^128, does not fit).
    private static func width(_ count: UInt128) -> UInt128? {
        guard count > 1 else { return nil }
        return UInt128.max / count + (UInt128.max % count == count - 1 ? 1 : 0)
    }

    /// MD5 of the UTF-8 partition key as a big-endian 128-bit number.
    public static func hashKey(partitionKey: String) -> UInt128 {
        Insecure.MD5.hash(data: Array(partitionKey.utf8)).reduce(UInt128(0)) { ($0 << 8) | UInt128($1) }
    }

    /// An `ExplicitHashKey`: a decimal from 0 to 2^128 - 1 without sign or leading zeros; `nil` otherwise.
    public static func explicitHashKey(_ text: String) -> UInt128? {
        guard !text.isEmpty, text.utf8.count <= 39, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            text == "0" || !text.hasPrefix("0")
        else { return nil }
        return UInt128(text)
    }
}
