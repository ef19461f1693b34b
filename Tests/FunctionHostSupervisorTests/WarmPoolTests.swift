import FunctionHostCore
import Testing

@testable import FunctionHostSupervisor

/// The warm pool's decisions, without processes: which environment serves, and when they start and stop.
@Suite struct WarmPoolTests {
    private static let alive: @Sendable (WarmPool.EnvironmentID) -> Bool = { _ in true }

    private func provisioned(_ count: Int) -> ProvisionedConcurrencyStatus {
        ProvisionedConcurrencyStatus(qualifier: "live", requested: count, allocated: 0, lastModified: "t")
    }

    /// A pool with `count` provisioned environments started and parked; their ids.
    private func poolWithProvisioned(_ count: Int) -> (WarmPool, [WarmPool.EnvironmentID]) {
        var pool = WarmPool(idleTimeout: 1000, provisioned: provisioned(count))
        let ids = pool.startProvisioning()
        for id in ids {
            let actions = pool.provisionedStarted(id, now: 0)
            #expect(actions.isEmpty)
        }
        return (pool, ids)
    }

    /// Starts a cold environment for one invocation and returns its id.
    private func coldStart(_ pool: inout WarmPool) -> WarmPool.EnvironmentID? {
        guard case (.start(let id), _) = pool.acquire(isAlive: Self.alive) else { return nil }
        let accepted1 = pool.started(id)
        #expect(accepted1)
        let afterInit = pool.initialized(id)
        #expect(afterInit.isEmpty)
        return id
    }

    @Test func aColdStartThenTheSameEnvironmentWarm() throws {
        var pool = WarmPool(idleTimeout: 1000)
        let first = try #require(coldStart(&pool))
        #expect(pool.busyCount == 1)
        let afterFinish1 = pool.finished(first, reusable: true, now: 10)
        #expect(afterFinish1.isEmpty)
        #expect(pool.idleCount == 1 && pool.busyCount == 0)
        let (again, actions) = pool.acquire(isAlive: Self.alive)
        #expect(again == .reuse(first, .onDemand))
        #expect(actions.isEmpty)
    }

    @Test func theMostRecentlyUsedIdleEnvironmentServesFirst() throws {
        var pool = WarmPool(idleTimeout: 1000)
        let a = try #require(coldStart(&pool))
        let b = try #require(coldStart(&pool))
        _ = pool.finished(b, reusable: true, now: 10)
        _ = pool.finished(a, reusable: true, now: 20)
        let acquisition1 = pool.acquire(isAlive: Self.alive)
        #expect(acquisition1.0 == .reuse(a, .onDemand))
        let acquisition2 = pool.acquire(isAlive: Self.alive)
        #expect(acquisition2.0 == .reuse(b, .onDemand))
    }

    @Test func aPreferredIdleEnvironmentServesBeforeAMoreRecentOne() throws {
        var pool = WarmPool(idleTimeout: 1000)
        let a = try #require(coldStart(&pool))
        let b = try #require(coldStart(&pool))
        let c = try #require(coldStart(&pool))
        for (id, now) in [(a, Int64(10)), (b, 20), (c, 30)] { _ = pool.finished(id, reusable: true, now: now) }
        // a and b run on the caller's event loop, c (the most recently used) does not.
        let onCallersLoop: (WarmPool.EnvironmentID) -> Bool = { $0 == a || $0 == b }
        let first = pool.acquireWarm(isAlive: Self.alive, prefers: onCallersLoop)
        #expect(first.0?.id == b)
        let second = pool.acquireWarm(isAlive: Self.alive, prefers: onCallersLoop)
        #expect(second.0?.id == a)
        // None preferred is left: the most recently used serves, and then nothing is warm.
        let third = pool.acquireWarm(isAlive: Self.alive, prefers: onCallersLoop)
        #expect(third.0?.id == c)
        let fourth = pool.acquireWarm(isAlive: Self.alive, prefers: onCallersLoop)
        #expect(fourth.0 == nil && fourth.1.isEmpty)
        #expect(pool.busyCount == 3)
    }

    @Test func aWarmOnlyAcquireDropsDeadIdleEnvironmentsAndStartsNothing() throws {
        var pool = WarmPool(idleTimeout: 1000)
        let dead = try #require(coldStart(&pool))
        _ = pool.finished(dead, reusable: true, now: 10)
        let (warm, actions) = pool.acquireWarm(isAlive: { $0 != dead })
        #expect(warm == nil)
        #expect(actions == [.stop(dead)])
        #expect(pool.idleCount == 0 && pool.busyCount == 0)
    }

    @Test func aTimedOutOrCrashedEnvironmentIsStoppedNotReused() throws {
        var pool = WarmPool(idleTimeout: 1000)
        let id = try #require(coldStart(&pool))
        let afterFinish2 = pool.finished(id, reusable: false, now: 10)
        #expect(afterFinish2 == [.stop(id)])
        #expect(pool.environments.isEmpty)
        guard case (.start(let next), _) = pool.acquire(isAlive: Self.alive) else {
            Issue.record("a new environment must start")
            return
        }
        #expect(next != id)
    }

    @Test func anIdleEnvironmentWhoseProcessExitedIsDroppedOnTheWay() throws {
        var pool = WarmPool(idleTimeout: 1000)
        let dead = try #require(coldStart(&pool))
        let live = try #require(coldStart(&pool))
        _ = pool.finished(live, reusable: true, now: 1)
        _ = pool.finished(dead, reusable: true, now: 2)
        let (acquisition, actions) = pool.acquire { $0 != dead }
        #expect(acquisition == .reuse(live, .onDemand))
        #expect(actions == [.stop(dead)])
        #expect(pool.environments[dead] == nil)
    }

    @Test func aFailedColdStartLeavesNothingBehind() {
        var pool = WarmPool(idleTimeout: 1000)
        guard case (.start(let id), _) = pool.acquire(isAlive: Self.alive) else {
            Issue.record("a cold start was expected")
            return
        }
        let afterFailure = pool.startFailed(id)
        #expect(afterFailure.isEmpty)
        #expect(pool.environments.isEmpty && pool.busyCount == 0)
    }

    @Test func onlyEnvironmentsIdlePastTheTimeoutAreEvicted() throws {
        var pool = WarmPool(idleTimeout: 1000)
        let old = try #require(coldStart(&pool))
        let recent = try #require(coldStart(&pool))
        let busy = try #require(coldStart(&pool))
        _ = pool.finished(old, reusable: true, now: 0)
        _ = pool.finished(recent, reusable: true, now: 500)
        let evicted1 = pool.evict(now: 999)
        #expect(evicted1.isEmpty)
        let evicted2 = pool.evict(now: 1000)
        #expect(evicted2 == [.stop(old)])
        // A busy environment is never evicted, however long it runs.
        let evicted3 = pool.evict(now: 100_000)
        #expect(evicted3 == [.stop(recent)])
        #expect(pool.environments[busy]?.phase == .busy)
    }

    @Test func evictionRacingAnInvokeNeverStopsTheEnvironmentTaken() throws {
        var pool = WarmPool(idleTimeout: 1000)
        let id = try #require(coldStart(&pool))
        _ = pool.finished(id, reusable: true, now: 0)
        // The invoke takes it first: eviction at a later time finds nothing idle.
        let acquisition3 = pool.acquire(isAlive: Self.alive)
        #expect(acquisition3.0 == .reuse(id, .onDemand))
        let evicted4 = pool.evict(now: 5000)
        #expect(evicted4.isEmpty)
        // Parked again, its idle time starts over.
        _ = pool.finished(id, reusable: true, now: 5000)
        let evicted5 = pool.evict(now: 5999)
        #expect(evicted5.isEmpty)
        let evicted6 = pool.evict(now: 6000)
        #expect(evicted6 == [.stop(id)])
    }

    @Test func provisionedEnvironmentsServeFirstAndAreNeverEvicted() throws {
        var (pool, ids) = poolWithProvisioned(2)
        #expect(pool.provisionedStatus?.allocated == 2)
        #expect(pool.provisionedStatus?.status == "READY")
        let onDemand = try #require(coldStartAfterProvisionedAreBusy(&pool, count: 2))
        _ = pool.finished(onDemand, reusable: true, now: 0)
        let evicted7 = pool.evict(now: 1_000_000)
        #expect(evicted7 == [.stop(onDemand)])
        #expect(Set(pool.idleEnvironments).isEmpty)
        for id in ids { _ = pool.finished(id, reusable: true, now: 0) }
        let evicted8 = pool.evict(now: 1_000_000)
        #expect(evicted8.isEmpty)
        #expect(Set(pool.idleEnvironments) == Set(ids))
    }

    /// Takes `count` provisioned environments, then cold-starts one more.
    private func coldStartAfterProvisionedAreBusy(_ pool: inout WarmPool, count: Int) -> WarmPool.EnvironmentID? {
        for _ in 0..<count {
            guard case (.reuse(_, .provisioned), _) = pool.acquire(isAlive: Self.alive) else { return nil }
        }
        return coldStart(&pool)
    }

    @Test func aProvisionedEnvironmentThatCrashesIsReplaced() throws {
        var (pool, ids) = poolWithProvisioned(1)
        let id = try #require(ids.first)
        let acquisition4 = pool.acquire(isAlive: Self.alive)
        #expect(acquisition4.0 == .reuse(id, .provisioned))
        let afterFinish3 = pool.finished(id, reusable: false, now: 0)
        #expect(afterFinish3 == [.stop(id), .provision])
        #expect(pool.provisionedStatus?.allocated == 0)
        let replacement = pool.startProvisioning()
        #expect(replacement.count == 1)
        // While it starts, nothing more is asked for.
        let starting1 = pool.startProvisioning()
        #expect(starting1.isEmpty)
        _ = pool.provisionedStarted(replacement[0], now: 0)
        #expect(pool.provisionedStatus?.allocated == 1)
    }

    @Test func aProvisionedEnvironmentThatDiedWhileIdleIsReplacedWhenFound() throws {
        var (pool, ids) = poolWithProvisioned(1)
        let (acquisition, actions) = pool.acquire { _ in false }
        guard case .start = acquisition else {
            Issue.record("with the provisioned one dead, a cold start was expected: \(acquisition)")
            return
        }
        #expect(actions == [.stop(ids[0]), .provision])
    }

    @Test func aCrashDuringProvisionedInitIsRetriedByTheOwner() {
        var pool = WarmPool(idleTimeout: 1000, provisioned: provisioned(2))
        let first = pool.startProvisioning()
        pool.provisionedFailed(first[0])
        _ = pool.provisionedStarted(first[1], now: 0)
        pool.provisioningRound(failure: "Runtime.ExitError", giveUp: false)
        #expect(pool.provisionedStatus?.status == "IN_PROGRESS")
        let starting2 = pool.startProvisioning()
        #expect(starting2.count == 1)
        pool.provisioningRound(failure: "Runtime.ExitError", giveUp: true)
        #expect(pool.provisionedStatus?.status == "FAILED")
        #expect(pool.provisionedStatus?.failureReason == "Runtime.ExitError")
    }

    @Test func loweringProvisionedConcurrencyStopsIdleSurplusAndDemotesBusySurplus() throws {
        var (pool, ids) = poolWithProvisioned(3)
        let acquisition5 = pool.acquire(isAlive: Self.alive)
        #expect(acquisition5.0 == .reuse(ids[2], .provisioned))
        let actions = pool.setProvisioned(1, qualifier: "live", timestamp: "t2")
        #expect(actions == [.stop(ids[1]), .stop(ids[0])])
        #expect(pool.provisionedStatus?.requested == 1)
        // The busy one is the only provisioned environment left: it stays provisioned.
        _ = pool.finished(ids[2], reusable: true, now: 0)
        #expect(pool.environments[ids[2]]?.kind == .provisioned)

        let other = poolWithProvisioned(2)
        var second = other.0
        let more = other.1
        for _ in 0..<2 { _ = second.acquire(isAlive: Self.alive) }
        let afterSet1 = second.setProvisioned(nil, qualifier: "live", timestamp: "t")
        #expect(afterSet1.isEmpty)
        // Busy surplus becomes on-demand when it finishes, and may then be evicted.
        for id in more { _ = second.finished(id, reusable: true, now: 0) }
        #expect(more.allSatisfy { second.environments[$0]?.kind == .onDemand })
        let evicted9 = second.evict(now: 1000)
        #expect(evicted9.count == 2)
    }

    @Test func raisingProvisionedConcurrencyAsksForTheMissingOnes() {
        var (pool, _) = poolWithProvisioned(1)
        let afterSet2 = pool.setProvisioned(3, qualifier: "live", timestamp: "t")
        #expect(afterSet2 == [.provision])
        let starting3 = pool.startProvisioning()
        #expect(starting3.count == 2)
        #expect(pool.provisionedStatus?.status == "IN_PROGRESS")
    }

    @Test func aDrainStopsIdleEnvironmentsAndRetiresBusyOnesWhenTheyFinish() throws {
        var (pool, provisionedIDs) = poolWithProvisioned(1)
        _ = pool.acquire(isAlive: Self.alive)  // the provisioned one
        let busy = try #require(coldStart(&pool))
        let idle = try #require(coldStart(&pool))
        _ = pool.finished(idle, reusable: true, now: 0)
        let afterDrain1 = pool.drain()
        #expect(afterDrain1 == [.stop(idle), .provision])
        // Both busy ones ran the old code: stopped when they finish, the provisioned one replaced.
        let afterFinish4 = pool.finished(busy, reusable: true, now: 0)
        #expect(afterFinish4 == [.stop(busy)])
        let afterFinish5 = pool.finished(provisionedIDs[0], reusable: true, now: 0)
        #expect(afterFinish5 == [.stop(provisionedIDs[0]), .provision])
        let starting4 = pool.startProvisioning()
        #expect(starting4.count == 1)
    }

    @Test func aProvisionedEnvironmentStartedAcrossADrainIsStoppedAndStartedAgain() {
        var pool = WarmPool(idleTimeout: 1000, provisioned: provisioned(1))
        let starting = pool.startProvisioning()
        _ = pool.drain()
        let afterStart1 = pool.provisionedStarted(starting[0], now: 0)
        #expect(afterStart1 == [.stop(starting[0]), .provision])
        let starting5 = pool.startProvisioning()
        #expect(starting5.count == 1)
    }

    @Test func stoppingStopsIdleAndBusyAndRefusesNewWork() throws {
        var pool = WarmPool(idleTimeout: 1000)
        let busy = try #require(coldStart(&pool))
        let idle = try #require(coldStart(&pool))
        guard case (.start(let starting), _) = pool.acquire(isAlive: Self.alive) else {
            Issue.record("a cold start was expected")
            return
        }
        _ = pool.finished(idle, reusable: true, now: 0)
        let afterStop1 = pool.stop()
        #expect(Set(afterStop1) == [.stop(busy), .stop(idle)])
        let acquisition6 = pool.acquire(isAlive: Self.alive)
        #expect(acquisition6.0 == .shuttingDown)
        // A cold start that finishes after the stop is refused; the busy one is stopped when it ends.
        let accepted2 = pool.started(starting)
        #expect(!accepted2)
        let afterFinish6 = pool.finished(busy, reusable: true, now: 0)
        #expect(afterFinish6 == [.stop(busy)])
        #expect(pool.environments.isEmpty)
        let starting6 = pool.startProvisioning()
        #expect(starting6.isEmpty)
    }

    // MARK: Starts in flight and the line

    /// A pool that allows `limit` starts at once and has them all in flight (started, not
    /// initialised), with `waiting` invocations in line: the starts' ids and the places.
    private func poolAtItsStartLimit(
        _ limit: Int, waiting: Int
    ) throws -> (WarmPool, [WarmPool.EnvironmentID], [WarmPool.WaiterID]) {
        var pool = WarmPool(idleTimeout: 1000, startLimit: limit)
        var starts: [WarmPool.EnvironmentID] = []
        for _ in 0..<limit {
            guard case (.start(let id), _) = pool.acquire(isAlive: Self.alive) else { throw PoolTestFailure() }
            let accepted = pool.started(id)
            #expect(accepted)
            starts.append(id)
        }
        var places: [WarmPool.WaiterID] = []
        for _ in 0..<waiting {
            guard case (.wait(let place), let actions) = pool.acquire(isAlive: Self.alive) else { throw PoolTestFailure() }
            #expect(actions.isEmpty)
            places.append(place)
        }
        #expect(pool.starting == limit && pool.waitingCount == waiting)
        return (pool, starts, places)
    }

    private struct PoolTestFailure: Error {}

    /// The new environment `actions` start for `place`, when that is all they do.
    private func start(for place: WarmPool.WaiterID, in actions: [WarmPool.Action]) -> WarmPool.EnvironmentID? {
        guard actions.count == 1, case .assign(place, .start(let id)) = actions[0] else { return nil }
        return id
    }

    @Test func beyondTheStartLimitInvocationsWaitAndTakeStartsAsTheyFreeInArrivalOrder() throws {
        var (pool, starts, places) = try poolAtItsStartLimit(2, waiting: 3)
        // A runtime's first `/next` frees its start for the oldest in line.
        let third = try #require(start(for: places[0], in: pool.initialized(starts[0])))
        // A start that failed frees its start as well.
        let fourth = try #require(start(for: places[1], in: pool.startFailed(starts[1])))
        #expect(Set([third, fourth]).count == 2 && !starts.contains(third) && !starts.contains(fourth))
        #expect(pool.starting == 2 && pool.waitingCount == 1)
        #expect(pool.environments[starts[1]] == nil)
    }

    @Test func anEnvironmentThatFinishesGoesToTheOldestInLineInsteadOfIdling() throws {
        var (pool, starts, places) = try poolAtItsStartLimit(1, waiting: 2)
        let afterFinish = pool.finished(starts[0], reusable: true, now: 10)
        #expect(afterFinish == [.assign(places[0], .reuse(starts[0], .onDemand))])
        #expect(pool.busyCount == 1 && pool.idleCount == 0 && pool.waitingCount == 1)
        // Once the line is empty, a finished environment idles again.
        let second = try #require(start(for: places[1], in: pool.initialized(starts[0])))
        let accepted = pool.started(second)
        let afterSecondFinish = pool.finished(starts[0], reusable: true, now: 20)
        #expect(accepted && afterSecondFinish.isEmpty)
        #expect(pool.idleCount == 1 && pool.waitingCount == 0)
        let warm = pool.acquire(isAlive: Self.alive)
        #expect(warm.0 == .reuse(starts[0], .onDemand))
    }

    @Test func anEnvironmentThatCannotBeReusedIsStoppedNotHandedOn() throws {
        var (pool, starts, places) = try poolAtItsStartLimit(1, waiting: 1)
        let afterFinish = pool.finished(starts[0], reusable: false, now: 10)
        #expect(afterFinish == [.stop(starts[0])])
        #expect(pool.waitingCount == 1)
        // Its start counts until its init ended; then the line moves.
        #expect(start(for: places[0], in: pool.initialized(starts[0])) != nil)
    }

    @Test func anEnvironmentRunningOldCodeIsNotHandedOnAfterADrain() throws {
        var (pool, starts, _) = try poolAtItsStartLimit(1, waiting: 1)
        _ = pool.drain()
        let afterFinish = pool.finished(starts[0], reusable: true, now: 10)
        #expect(afterFinish == [.stop(starts[0])])
        #expect(pool.waitingCount == 1)
    }

    @Test func aProvisionedEnvironmentThatComesUpServesTheLineFirst() throws {
        var pool = WarmPool(idleTimeout: 1000, provisioned: provisioned(1), startLimit: 1)
        let provisioning = pool.startProvisioning()
        guard case (.start(let cold), _) = pool.acquire(isAlive: Self.alive),
            case (.wait(let place), _) = pool.acquire(isAlive: Self.alive)
        else {
            Issue.record("a start and a place in line were expected")
            return
        }
        let afterProvisioned = pool.provisionedStarted(provisioning[0], now: 0)
        #expect(afterProvisioned == [.assign(place, .reuse(provisioning[0], .provisioned))])
        #expect(pool.idleCount == 0 && pool.busyCount == 1 && pool.provisionedStatus?.allocated == 1)
        let accepted = pool.started(cold)
        #expect(accepted)
    }

    @Test func stoppingAnswersEveryInvocationInLine() throws {
        var (pool, starts, places) = try poolAtItsStartLimit(1, waiting: 2)
        let actions = pool.stop()
        #expect(actions == [.stop(starts[0])] + places.map { .assign($0, .shuttingDown) })
        #expect(pool.waitingCount == 0)
        // A start that ends after the stop hands nothing on.
        let afterInit = pool.initialized(starts[0])
        #expect(afterInit.isEmpty)
    }

    @Test func onceTheLineIsEmptyTheBurstsOwedEnvironmentsArePrewarmedAFewAtATime() throws {
        // Two starting, three in line: five invocations at the peak, as many environments owed.
        var (pool, starts, places) = try poolAtItsStartLimit(2, waiting: 3)
        #expect(pool.burstDemand == 5)
        let third = try #require(start(for: places[0], in: pool.initialized(starts[0])))
        let fourth = try #require(start(for: places[1], in: pool.initialized(starts[1])))
        // The last one in line is served by an environment that finished: nobody waits now.
        let afterFinish = pool.finished(starts[0], reusable: true, now: 10)
        #expect(afterFinish == [.assign(places[2], .reuse(starts[0], .onDemand))])
        let accepted = [pool.started(third), pool.started(fourth)]
        #expect(accepted == [true, true])
        // Four environments, five owed: the next free start prewarms the fifth, and no more.
        let afterThird = pool.initialized(third)
        guard afterThird.count == 1, case .prewarm(let prewarming) = afterThird[0] else {
            Issue.record("the fifth environment owed should be prewarmed: \(afterThird)")
            return
        }
        let afterFourth = pool.initialized(fourth)
        #expect(afterFourth.isEmpty && pool.burstDemand == 0 && pool.starting == 1)
        // It comes up idle, as a Lambda environment initialised proactively.
        let afterPrewarm = pool.prewarmed(prewarming, now: 20)
        #expect(afterPrewarm.isEmpty && pool.idleCount == 1 && pool.starting == 0)
        let warm = pool.acquire(isAlive: Self.alive)
        #expect(warm.0 == .reuse(prewarming, .onDemand))
    }

    @Test func aPrewarmedEnvironmentServesTheLineFirstAndAFailedOneEndsTheBurstsOwedStarts() throws {
        var (pool, starts, places) = try poolAtItsStartLimit(1, waiting: 2)
        let second = try #require(start(for: places[0], in: pool.initialized(starts[0])))
        let afterFinish = pool.finished(starts[0], reusable: true, now: 10)
        #expect(afterFinish == [.assign(places[1], .reuse(starts[0], .onDemand))])
        let accepted = pool.started(second)
        let afterInit = pool.initialized(second)
        guard accepted, afterInit.count == 1, case .prewarm(let prewarming) = afterInit[0] else {
            Issue.record("the third environment owed should be prewarmed: \(afterInit)")
            return
        }
        // Someone arrives meanwhile and waits; the prewarmed environment serves them.
        guard case (.wait(let late), _) = pool.acquire(isAlive: Self.alive) else {
            Issue.record("a place in line was expected")
            return
        }
        let afterPrewarm = pool.prewarmed(prewarming, now: 20)
        #expect(afterPrewarm.first == .assign(late, .reuse(prewarming, .onDemand)))
        // Four at the peak now: the freed start prewarms a fourth, which fails; nothing more is owed.
        guard afterPrewarm.count == 2, case .prewarm(let failing) = afterPrewarm[1] else {
            Issue.record("a fourth environment should be prewarmed: \(afterPrewarm)")
            return
        }
        let afterFailure = pool.prewarmFailed(failing)
        #expect(afterFailure.isEmpty && pool.burstDemand == 0 && pool.starting == 0 && pool.environments[failing] == nil)
    }

    @Test func aPrewarmThatEndsAfterAReloadIsStopped() throws {
        var (pool, starts, places) = try poolAtItsStartLimit(1, waiting: 1)
        let afterFinish = pool.finished(starts[0], reusable: true, now: 10)
        #expect(afterFinish == [.assign(places[0], .reuse(starts[0], .onDemand))])
        let afterInit = pool.initialized(starts[0])
        guard afterInit.count == 1, case .prewarm(let prewarming) = afterInit[0] else {
            Issue.record("the second environment owed should be prewarmed: \(afterInit)")
            return
        }
        _ = pool.drain()
        let afterPrewarm = pool.prewarmed(prewarming, now: 20)
        #expect(afterPrewarm == [.stop(prewarming)] && pool.burstDemand == 0 && pool.starting == 0)
    }

    @Test func aStartThatHoldsItsPlaceTooLongGivesItToTheNextInLineOnce() throws {
        var (pool, starts, places) = try poolAtItsStartLimit(1, waiting: 2)
        let second = try #require(start(for: places[0], in: pool.startIsSlow(starts[0])))
        #expect(pool.starting == 1 && pool.waitingCount == 1)
        // The slow one's init ends later: it gave its start back already, so nothing moves.
        let afterSlowInit = pool.initialized(starts[0])
        let afterSecondTimer = pool.startIsSlow(starts[0])
        #expect(afterSlowInit.isEmpty && afterSecondTimer.isEmpty && pool.starting == 1)
        // The second one's start is given back once, by whichever comes first.
        #expect(start(for: places[1], in: pool.initialized(second)) != nil)
        let late = pool.startIsSlow(second)
        #expect(late.isEmpty && pool.starting == 1)
    }
}

