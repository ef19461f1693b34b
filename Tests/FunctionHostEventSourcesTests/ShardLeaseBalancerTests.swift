import FunctionHostCore
import Testing

@testable import FunctionHostEventSources

@Suite struct ShardLeaseBalancerTests {
    typealias Action = ShardLeaseBalancer.Action
    let duration: Int64 = 9_000

    func lease(_ shard: String, _ owner: String? = nil, _ counter: Int = 0, checkpoint: String? = nil) -> ShardLease {
        ShardLease(shardID: shard, owner: owner, counter: counter, checkpoint: checkpoint)
    }

    func takes(_ actions: [Action]) -> [String] {
        actions.compactMap { if case .take(let shard, _) = $0 { shard } else { nil } }
    }

    /// A balancer for `me` that already holds `shards` (taken at time 0).
    func holding(_ shards: [String], me: String = "a", all: [ShardLease]) -> ShardLeaseBalancer {
        var balancer = ShardLeaseBalancer(owner: me, leaseDuration: duration)
        _ = balancer.scanned(all, shards: all.map(\.shardID), now: 0)
        for shard in shards {
            _ = balancer.taken(lease(shard, me, 1), sentAt: 0)
        }
        return balancer
    }

    @Test func aLoneHostCreatesMissingLeasesAndTakesAllFreeOnesFromTheirCheckpoints() {
        var balancer = ShardLeaseBalancer(owner: "a", leaseDuration: duration)
        #expect(
            balancer.scanned([], shards: ["s1", "s2"], now: 0) == [.create(shardID: "s1"), .create(shardID: "s2")])
        let leases = [lease("s1", checkpoint: "17"), lease("s2")]
        #expect(
            balancer.scanned(leases, shards: ["s1", "s2"], now: 100)
                == [.take(shardID: "s1", expectedCounter: 0), .take(shardID: "s2", expectedCounter: 0)])
        #expect(
            balancer.taken(lease("s1", "a", 1, checkpoint: "17"), sentAt: 100) == [
                .start(shardID: "s1", checkpoint: "17")
            ])
        #expect(balancer.taken(lease("s2", "a", 1), sentAt: 100) == [.start(shardID: "s2", checkpoint: nil)])
        #expect(balancer.heldShards == ["s1", "s2"])
        // Held and live: nothing more to do.
        #expect(balancer.scanned([lease("s1", "a", 1), lease("s2", "a", 1)], shards: ["s1", "s2"], now: 200) == [])
    }

    @Test func aLiveLeaseOfAnotherHostIsNotTakenUntilItsCounterStopsForTheLeaseDuration() {
        var balancer = ShardLeaseBalancer(owner: "b", leaseDuration: duration)
        // First seen at 1000: counts from then, whatever the other host's clock says.
        #expect(takes(balancer.scanned([lease("s1", "a", 5)], shards: ["s1"], now: 1_000)) == [])
        // The counter moved at 5000: live again from then.
        #expect(takes(balancer.scanned([lease("s1", "a", 6)], shards: ["s1"], now: 5_000)) == [])
        #expect(takes(balancer.scanned([lease("s1", "a", 6)], shards: ["s1"], now: 5_000 + duration - 1)) == [])
        #expect(
            balancer.scanned([lease("s1", "a", 6)], shards: ["s1"], now: 5_000 + duration) == [
                .take(shardID: "s1", expectedCounter: 6)
            ])
    }

    @Test func aNewHostStealsOneLeaseAtATimeFromTheMostLoadedUntilBothHoldTheirShare() {
        let shards = ["s1", "s2", "s3", "s4"]
        var leases = shards.map { lease($0, "a", 1) }
        var balancer = ShardLeaseBalancer(owner: "b", leaseDuration: duration)
        var stolen: [String] = []
        for round in 1...4 {
            let now = Int64(round) * 1_000
            let actions = balancer.scanned(leases, shards: shards, now: now)
            #expect(takes(actions).count <= 1, "one steal per scan")
            for shard in takes(actions) {
                let index = leases.firstIndex { $0.shardID == shard }!
                leases[index] = lease(shard, "b", leases[index].counter + 1)
                _ = balancer.taken(leases[index], sentAt: now)
                stolen.append(shard)
            }
            // Host a keeps renewing what it still holds.
            for index in leases.indices where leases[index].owner == "a" { leases[index].counter += 1 }
        }
        #expect(stolen == ["s1", "s2"])
        #expect(balancer.heldShards == ["s1", "s2"])
    }

    @Test func threeShardsOverTwoHostsSettleTwoToOne() {
        let all = [lease("s1", "a", 1), lease("s2", "a", 1), lease("s3", "a", 1)]
        var balancer = ShardLeaseBalancer(owner: "b", leaseDuration: duration)
        // b holds none, a holds 3 > share 2: b steals one.
        #expect(
            balancer.scanned(all, shards: ["s1", "s2", "s3"], now: 0) == [.take(shardID: "s1", expectedCounter: 1)])
        _ = balancer.taken(lease("s1", "b", 2), sentAt: 0)
        // a holds 2, its share: b (short by one) steals nothing more.
        let after = [lease("s1", "b", 2), lease("s2", "a", 2), lease("s3", "a", 2)]
        #expect(balancer.scanned(after, shards: ["s1", "s2", "s3"], now: 1_000) == [])
        // Seen from a: it holds its share, nothing is taken back.
        var other = holding(["s2", "s3"], me: "a", all: after)
        #expect(other.scanned(after, shards: ["s1", "s2", "s3"], now: 1_000) == [])
    }

    @Test func expiredLeasesAreTakenBeforeStealingAndOnlyUpToTheShare() {
        var balancer = ShardLeaseBalancer(owner: "c", leaseDuration: duration)
        let shards = ["s1", "s2", "s3", "s4"]
        let leases = [lease("s1", "a", 3), lease("s2", "a", 3), lease("s3", "b", 3), lease("s4", "b", 3)]
        _ = balancer.scanned(leases, shards: shards, now: 0)
        // b stopped renewing; a renewed. Hosts alive: a and c; share 2; b's two leases are free to take.
        var renewed = leases
        renewed[0].counter = 4
        renewed[1].counter = 4
        // While b's leases are live, three hosts share four shards: c, two short, steals one from a.
        #expect(takes(balancer.scanned(renewed, shards: shards, now: 1_000)) == ["s1"])
        // That take lost the race (a renewed first). Once b's leases expire, they are taken instead of stealing.
        renewed[0].counter = 5
        #expect(takes(balancer.scanned(renewed, shards: shards, now: duration)) == ["s3", "s4"])
    }

    @Test func leasesOfShardsTheStreamNoLongerHasAreIgnored() {
        var balancer = ShardLeaseBalancer(owner: "a", leaseDuration: duration)
        #expect(
            balancer.scanned([lease("gone"), lease("s1")], shards: ["s1"], now: 0) == [
                .take(shardID: "s1", expectedCounter: 0)
            ])
    }

    @Test func heldLeasesAreRenewedThreeTimesPerDurationAndGivenUpWhenRenewalsFail() {
        var balancer = holding(["s1"], all: [lease("s1")])
        #expect(balancer.tick(now: balancer.renewInterval - 1) == [])
        #expect(balancer.tick(now: balancer.renewInterval) == [.renew(shardID: "s1", counter: 1)])
        balancer.renewed("s1", counter: 2, sentAt: 3_000)
        #expect(balancer.tick(now: 3_000 + balancer.renewInterval) == [.renew(shardID: "s1", counter: 2)])
        // Renewals failed (the table unreachable) until the lease duration passed: another host may hold it now.
        #expect(balancer.tick(now: 3_000 + duration) == [.stop(shardID: "s1")])
        #expect(balancer.heldShards.isEmpty)
        #expect(balancer.tick(now: 3_000 + 2 * duration) == [])
    }

    @Test func aLeaseTakenByAnotherHostStopsItsShardWhichIsNotTakenBackUntilItsLoopEnded() {
        var balancer = holding(["s1", "s2"], all: [lease("s1"), lease("s2")])
        let stolen = [lease("s1", "b", 2), lease("s2", "a", 1)]
        #expect(balancer.scanned(stolen, shards: ["s1", "s2"], now: 1_000) == [.stop(shardID: "s1")])
        // b stopped renewing s1 long ago, but the shard's loop here is still winding down.
        #expect(takes(balancer.scanned(stolen, shards: ["s1", "s2"], now: 1_000 + duration)) == [])
        #expect(balancer.taken(lease("s1", "a", 3), sentAt: 1_000 + duration) == [])
        balancer.stopped("s1")
        #expect(takes(balancer.scanned(stolen, shards: ["s1", "s2"], now: 2_000 + duration)) == ["s1"])
    }

    @Test func leasesInThisHostsNameThatItDoesNotRunAreTakenBackAtOnce() {
        // After a template reload: the new balancer finds live leases in its own name.
        var reloaded = ShardLeaseBalancer(owner: "a", leaseDuration: duration)
        #expect(
            takes(reloaded.scanned([lease("s1", "a", 7), lease("s2", "b", 3)], shards: ["s1", "s2"], now: 0)) == ["s1"])
        // Given up after failed renewals: taken back once its loop ended, unless another host took it.
        var balancer = holding(["s1"], all: [lease("s1")])
        #expect(balancer.tick(now: duration) == [.stop(shardID: "s1")])
        #expect(takes(balancer.scanned([lease("s1", "a", 1)], shards: ["s1"], now: duration)) == [])
        balancer.stopped("s1")
        #expect(takes(balancer.scanned([lease("s1", "a", 1)], shards: ["s1"], now: duration + 1)) == ["s1"])
    }

    @Test func atShutdownEveryHeldShardStopsAndItsLeaseIsHandedBackWithNothingRenewedOrTaken() {
        var balancer = holding(["s1", "s2"], all: [lease("s1"), lease("s2"), lease("s3")])
        #expect(balancer.shutdown() == ["s1", "s2"])
        #expect(balancer.heldShards.isEmpty)
        #expect(balancer.tick(now: duration) == [])
        #expect(
            takes(balancer.scanned([lease("s1"), lease("s2"), lease("s3")], shards: ["s1", "s2", "s3"], now: 1)) == [
                "s3"
            ])
    }

    @Test func aFailedCheckpointOrRenewalStopsTheShardOnce() {
        var balancer = holding(["s1"], all: [lease("s1")])
        #expect(balancer.lost("s1") == [.stop(shardID: "s1")])
        #expect(balancer.lost("s1") == [])
        balancer.renewed("s1", counter: 9, sentAt: 0)
        #expect(balancer.heldShards.isEmpty, "a late renewal does not bring a lost lease back")
    }

    @Test func theMostLoadedHostIsTheVictimAndTiesGoToTheFirstName() {
        let shards = (1...6).map { "s\($0)" }
        let leases = [
            lease("s1", "b", 1), lease("s2", "b", 1), lease("s3", "c", 1), lease("s4", "c", 1), lease("s5", "c", 1),
            lease("s6", "c", 1),
        ]
        var balancer = ShardLeaseBalancer(owner: "a", leaseDuration: duration)
        // Share 2 over three hosts; c holds 4.
        #expect(takes(balancer.scanned(leases, shards: shards, now: 0)) == ["s3"])
        let even = [
            lease("s1", "b", 1), lease("s2", "b", 1), lease("s3", "c", 1), lease("s4", "c", 1), lease("s5", "d", 1),
            lease("s6", "d", 1),
        ]
        var tie = ShardLeaseBalancer(owner: "a", leaseDuration: duration)
        // Four hosts, share 2, each other host at its share and a short by two: it steals from b first.
        #expect(takes(tie.scanned(even, shards: shards, now: 0)) == ["s1"])
    }

    @Test func aTakenLeaseStartsItsShardWithTheWindowsItCarries() {
        var balancer = ShardLeaseBalancer(owner: "a", leaseDuration: duration)
        _ = balancer.scanned([lease("s1", checkpoint: "17")], shards: ["s1"], now: 0)
        let windows = [0: StreamShardEngine.TumblingWindow(start: 60_000, end: 120_000, state: #"{"sum":3}"#)]
        let state = StreamShardEngine.TumblingWindow.encode(windows)
        let taken = ShardLease(shardID: "s1", owner: "a", counter: 1, checkpoint: "17", windowState: state)
        #expect(balancer.taken(taken, sentAt: 100) == [.start(shardID: "s1", checkpoint: "17", windowState: state)])
        #expect(StreamShardEngine.TumblingWindow.decode(state) == windows)
        // Another host's item is input: what is not our encoding restores no windows.
        #expect(StreamShardEngine.TumblingWindow.decode(#"{"x":{"start":1}}"#).isEmpty)
        #expect(StreamShardEngine.TumblingWindow.decode("not json").isEmpty)
        // Nor a window whose state is not a JSON object (it goes into the event as is) or whose bounds are not.
        #expect(StreamShardEngine.TumblingWindow.decode(#"{"0":{"start":0,"end":60000,"state":"1,\"Records\":[]"}}"#).isEmpty)
        #expect(StreamShardEngine.TumblingWindow.decode(#"{"0":{"start":60000,"end":0,"state":"{}"}}"#).isEmpty)
        #expect(StreamShardEngine.TumblingWindow.decode(#"{"0":{"start":0,"end":60000,"state":"{}"}}"#).count == 1)
    }
}
