import Testing

@testable import FunctionHostStreams

@Suite struct HashKeySpaceTests {
    @Test func fourShardsSplitTheSpaceEvenly() {
        let ranges = HashKeySpace.ranges(shardCount: 4)
        #expect(ranges.map(\.upperBound.description) == [
            "85070591730234615865843651857942052863", "170141183460469231731687303715884105727",
            "255211775190703847597530955573826158591", "340282366920938463463374607431768211455",
        ])
        #expect(ranges[0].lowerBound == 0)
        for (left, right) in zip(ranges, ranges.dropFirst()) { #expect(left.upperBound + 1 == right.lowerBound) }
    }

    @Test func unevenShardCountsCoverTheWholeSpace() {
        for count in [1, 3, 7, 1000] {
            let ranges = HashKeySpace.ranges(shardCount: count)
            #expect(ranges.count == count)
            #expect(ranges.last?.upperBound == UInt128.max)
            for (index, range) in ranges.enumerated() {
                #expect(HashKeySpace.shard(of: range.lowerBound, shardCount: count) == index)
                #expect(HashKeySpace.shard(of: range.upperBound, shardCount: count) == index)
            }
        }
    }

    @Test func partitionKeysHashByMD5() {
        // md5("a") = 0cc175b9c0f1b6a831c399e269772661
        #expect(HashKeySpace.hashKey(partitionKey: "a").description == "16955237001963240173058271559858726497")
        #expect(HashKeySpace.shard(of: HashKeySpace.hashKey(partitionKey: "a"), shardCount: 4) == 0)
    }

    @Test func explicitHashKeysAreDecimalsInRange() {
        #expect(HashKeySpace.explicitHashKey("0") == 0)
        #expect(HashKeySpace.explicitHashKey("340282366920938463463374607431768211455") == UInt128.max)
        for bad in ["", "-1", "01", "1e5", "340282366920938463463374607431768211456", String(repeating: "9", count: 400)] {
            #expect(HashKeySpace.explicitHashKey(bad) == nil, "\(bad)")
        }
    }

    @Test func sequenceNumbersRoundTripAndOrderAsText() {
        let first = SequenceNumber(shardIndex: 3, counter: 9)
        let second = SequenceNumber(shardIndex: 3, counter: 10)
        #expect(SequenceNumber(first.description) == first)
        #expect(first.description < second.description)
        #expect(first < second)
        for bad in ["", "1", "4900000000030000000000000000000x", "59000000000300000000000000000009"] {
            #expect(SequenceNumber(bad) == nil, "\(bad)")
        }
        #expect(ShardID.string(3) == "shardId-000000000003")
        #expect(ShardID.index("shardId-000000000003") == 3)
        #expect(ShardID.index("shardId-3") == nil)
    }
}
