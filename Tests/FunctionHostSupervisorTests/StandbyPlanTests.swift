import Testing

@testable import FunctionHostSupervisor

/// Which standby launchers are kept, without processes: spares per size, replacement, bursts, failures, stop.
@Suite struct StandbyPlanTests {
    /// The ids of the `.start` actions, checking each is for `megabytes`.
    private func started(_ actions: [StandbyPlan.Action], megabytes: Int) -> [StandbyPlan.ID] {
        actions.compactMap { action in
            guard case .start(let id, let size) = action else { return nil }
            #expect(size == megabytes)
            return id
        }
    }

    @Test func everySizeGetsItsSparesAtStartUp() {
        var plan = StandbyPlan(sizes: [128, 512], sparesPerSize: 2)
        let actions = plan.refill()
        #expect(actions.count == 4)
        #expect(actions.filter { if case .start(_, 128) = $0 { true } else { false } }.count == 2)
        #expect(actions.filter { if case .start(_, 512) = $0 { true } else { false } }.count == 2)
        #expect(plan.refill().isEmpty, "what is starting counts as there")
    }

    @Test func aTakenLauncherIsReplacedAndNotHandedOutTwice() throws {
        var plan = StandbyPlan(sizes: [128], sparesPerSize: 1)
        let first = try #require(started(plan.refill(), megabytes: 128).first)
        #expect(plan.started(first).isEmpty)
        let (taken, actions) = plan.take(megabytes: 128)
        #expect(taken == first)
        let replacement = try #require(started(actions, megabytes: 128).first)
        #expect(replacement != first)
        // Until the replacement runs, the next cold start spawns its own launcher.
        let (none, more) = plan.take(megabytes: 128)
        #expect(none == nil && more.isEmpty)
        _ = plan.started(replacement)
        #expect(plan.take(megabytes: 128).0 == replacement)
    }

    @Test func aBurstTakesTheSparesThenSpawnsTheRestItself() {
        var plan = StandbyPlan(sizes: [128], sparesPerSize: 2)
        for id in started(plan.refill(), megabytes: 128) { _ = plan.started(id) }
        var taken = 0
        var starts = 0
        for _ in 0..<100 {
            let (id, actions) = plan.take(megabytes: 128)
            if id != nil { taken += 1 }
            starts += started(actions, megabytes: 128).count
        }
        #expect(taken == 2, "only the ready spares are handed out")
        #expect(starts == 2, "the spares are replaced once, not once per cold start")
    }

    @Test func aSizeFirstAskedForGetsSparesFromThen() {
        var plan = StandbyPlan(sizes: [], sparesPerSize: 1)
        #expect(plan.refill().isEmpty)
        let (none, actions) = plan.take(megabytes: 1024)
        #expect(none == nil)
        #expect(started(actions, megabytes: 1024).count == 1)
    }

    @Test func aSizeWhoseLauncherCannotStartIsGivenUp() throws {
        var plan = StandbyPlan(sizes: [128], sparesPerSize: 1)
        let id = try #require(started(plan.refill(), megabytes: 128).first)
        plan.startFailed(id)
        #expect(plan.refill().isEmpty, "no retry loop against a broken cgroup")
        #expect(plan.take(megabytes: 128).0 == nil)
    }

    @Test func stopDiscardsTheReadyAndWhatStartsLater() throws {
        var plan = StandbyPlan(sizes: [128, 256], sparesPerSize: 1)
        let ids = plan.refill().compactMap { if case .start(let id, _) = $0 { id } else { nil } }
        try #require(ids.count == 2)
        _ = plan.started(ids[0])
        #expect(plan.stop() == [.discard(ids[0])])
        #expect(plan.started(ids[1]) == [.discard(ids[1])], "one that was starting is discarded when it reports")
        #expect(plan.take(megabytes: 128).0 == nil)
        #expect(plan.refill().isEmpty)
    }
}
