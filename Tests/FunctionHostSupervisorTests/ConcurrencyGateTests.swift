import FunctionHostCore
import Testing

@testable import FunctionHostSupervisor

/// The gate around the ledger: throttles, parks and resumes real tasks.
@Suite struct ConcurrencyGateTests {
    @Test func throttlesSynchronousWorkWithTheReason() async throws {
        let gate = ConcurrencyGate(try ConcurrencyLedger(accountLimit: 1000, reserved: ["f": 1]))
        try await gate.acquire("f", admission: .rejectWhenFull)
        await #expect(throws: InvokeError.self) { try await gate.acquire("f", admission: .rejectWhenFull) }
        do {
            try await gate.acquire("f", admission: .rejectWhenFull)
        } catch let error as InvokeError {
            #expect(error.throttleReason == .reservedFunctionLimit)
        }
        gate.release("f")
        try await gate.acquire("f", admission: .rejectWhenFull)
        gate.release("f")
    }

    @Test func parkedWorkRunsWhenCapacityFrees() async throws {
        let gate = ConcurrencyGate(try ConcurrencyLedger(accountLimit: 1000, reserved: ["f": 1]))
        try await gate.acquire("f", admission: .rejectWhenFull)
        let parked = Task { try await gate.acquire("f", admission: .waitForCapacity(startBy: nil)) }
        // Wait (bounded) until the task is parked in the ledger, then free the slot.
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while gate.snapshot.waiting == 0, ContinuousClock.now < deadline { await Task.yield() }
        #expect(gate.snapshot.waiting == 1)
        gate.release("f")
        try await parked.value
        #expect(gate.snapshot.inFlight["f"] == 1)
        gate.release("f")
    }

    @Test func cancellingParkedWorkFreesNothingAndLeavesNoWaiter() async throws {
        let gate = ConcurrencyGate(try ConcurrencyLedger(accountLimit: 1000, reserved: ["f": 0]))
        let parked = Task { try await gate.acquire("f", admission: .waitForCapacity(startBy: nil)) }
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while gate.snapshot.waiting == 0, ContinuousClock.now < deadline { await Task.yield() }
        parked.cancel()
        await #expect(throws: CancellationError.self) { try await parked.value }
        #expect(gate.snapshot.waiting == 0)
        #expect(gate.snapshot.totalInFlight == 0)
    }

    @Test func liftingAReservationAtRunTimeAdmitsParkedWork() async throws {
        let gate = ConcurrencyGate(try ConcurrencyLedger(accountLimit: 1000, reserved: ["f": 0]))
        let parked = (0..<3).map { _ in Task { try await gate.acquire("f", admission: .waitForCapacity(startBy: nil)) } }
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while gate.snapshot.waiting < 3, ContinuousClock.now < deadline { await Task.yield() }
        try gate.setReserved(2, for: "f")
        #expect(gate.snapshot.inFlight["f"] == 2)
        #expect(gate.snapshot.waiting == 1)
        gate.release("f")
        for task in parked { try await task.value }
        #expect(gate.snapshot.inFlight["f"] == 2)
    }
}
