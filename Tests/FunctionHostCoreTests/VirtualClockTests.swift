import FunctionHostCore
import Synchronization
import Testing

@Suite struct VirtualClockTests {
    let start: Int64 = 1_795_000_000_000

    /// Records which sleepers have returned.
    final class Woken: Sendable {
        let names = Mutex<[String]>([])
        func add(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    /// Waits (bounded, real time) until `condition` holds.
    func settle(_ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        return condition()
    }

    @Test func sleepersWakeOnlyWhenTheClockReachesTheirDeadline() async throws {
        let clock = VirtualClock(startingAt: start)
        let woken = Woken()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await clock.sleep(seconds: 5)
                woken.add("five")
            }
            group.addTask {
                try await clock.sleep(until: start + 10_000)
                woken.add("ten")
            }
            #expect(await settle { clock.sleeping == 2 })
            #expect(clock.nextDeadline == start + 5_000)
            await clock.advance(by: 4_999)
            #expect(clock.now() == start + 4_999)
            #expect(clock.sleeping == 2)
            #expect(woken.all.isEmpty)
            await clock.advance(by: 1)
            #expect(await settle { woken.all == ["five"] })
            #expect(clock.nextDeadline == start + 10_000)
            await clock.advance(by: 60_000)
            #expect(await settle { woken.all == ["five", "ten"] })
            #expect(clock.now() == start + 65_000)
            try await group.waitForAll()
        }
    }

    @Test func aDeadlineInThePastReturnsAtOnce() async throws {
        let clock = VirtualClock(startingAt: start)
        try await clock.sleep(until: start - 1)
        try await clock.sleep(until: start)
        #expect(clock.sleeping == 0)
    }

    @Test func cancellingASleeperRemovesIt() async throws {
        let clock = VirtualClock(startingAt: start)
        let task = Task { try await clock.sleep(seconds: 3600) }
        #expect(await settle { clock.sleeping == 1 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.sleeping == 0)
    }

    @Test func theClockNeverMovesBackwards() async {
        let clock = VirtualClock(startingAt: start)
        await clock.advance(by: -5_000)
        #expect(clock.now() == start)
    }

    @Test(arguments: [
        ("90s", Int64(90_000)), ("15m", 900_000), ("6h", 21_600_000), ("2d", 172_800_000), ("250ms", 250),
        ("1h30m", 5_400_000), ("0s", 0),
    ])
    func durationsParse(text: String, milliseconds: Int64) {
        #expect(ClockDuration(parsing: text)?.milliseconds == milliseconds)
    }

    @Test(arguments: ["", "90", "s", "1.5h", "-5s", "5 s", "5x", "99999999999999d", "367d", "1h ", "m5"])
    func badDurationsAreRejected(text: String) {
        #expect(ClockDuration(parsing: text) == nil)
    }
}
