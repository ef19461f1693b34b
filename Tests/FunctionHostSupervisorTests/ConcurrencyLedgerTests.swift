import FunctionHostCore
import Testing

@testable import FunctionHostSupervisor

/// The concurrency ledger's decisions, without processes.
@Suite struct ConcurrencyLedgerTests {
    @Test func reservedConcurrencyAdmitsExactlyThatMany() throws {
        var ledger = try ConcurrencyLedger(accountLimit: 1000, reserved: ["f": 2])
        let decisions = (0..<6).map { _ in ledger.acquire("f") }
        #expect(decisions.filter { $0 == nil }.count == 2)
        #expect(decisions.filter { $0 == .reservedFunctionLimit }.count == 4)
        _ = ledger.release("f")
        #expect(ledger.acquire("f") == nil)
    }

    @Test func reservedZeroThrottlesEverything() throws {
        var ledger = try ConcurrencyLedger(accountLimit: 1000, reserved: ["f": 0])
        #expect(ledger.acquire("f") == .reservedFunctionLimit)
        #expect(ledger.acquire("g") == nil)
    }

    @Test func reservationsAreCarvedOutOfTheAccountPool() throws {
        var ledger = try ConcurrencyLedger(accountLimit: 110, reserved: ["f": 10])
        #expect(ledger.unreservedLimit == 100)
        for _ in 0..<100 { #expect(ledger.acquire("g") == nil) }
        #expect(ledger.acquire("h") == .accountLimit)
        // The reserved function still has all of its own.
        for _ in 0..<10 { #expect(ledger.acquire("f") == nil) }
        #expect(ledger.acquire("f") == .reservedFunctionLimit)
    }

    @Test func oneHundredMustStayUnreserved() throws {
        var ledger = try ConcurrencyLedger(accountLimit: 1000)
        #expect(throws: ConcurrencyConfigurationError.self) { try ledger.setReserved(901, for: "f") }
        _ = try ledger.setReserved(900, for: "f")
        #expect(throws: ConcurrencyConfigurationError.self) { try ledger.setReserved(1, for: "g") }
        // Replacing a function's own reservation does not count it twice.
        _ = try ledger.setReserved(800, for: "f")
        _ = try ledger.setReserved(100, for: "g")
        // A small local limit keeps all of it unreserved, as a small AWS account does.
        var small = try ConcurrencyLedger(accountLimit: 5)
        #expect(throws: ConcurrencyConfigurationError.self) { try small.setReserved(1, for: "f") }
        #expect(throws: ConcurrencyConfigurationError.self) { try ConcurrencyLedger(accountLimit: 5, reserved: ["f": 1]) }
    }

    @Test func waitersAreAdmittedInOrderWhenCapacityFrees() throws {
        var ledger = try ConcurrencyLedger(accountLimit: 1000, reserved: ["f": 1])
        #expect(ledger.acquireOrWait("f") == .admitted)
        guard case .wait(let first) = ledger.acquireOrWait("f"), case .wait(let second) = ledger.acquireOrWait("f") else {
            Issue.record("expected two waiters")
            return
        }
        #expect(ledger.waiting == 2)
        #expect(ledger.release("f") == [first])
        #expect(ledger.inFlight["f"] == 1)
        #expect(ledger.release("f") == [second])
        #expect(ledger.release("f") == [])
        #expect(ledger.totalInFlight == 0)
    }

    @Test func aBlockedFunctionDoesNotHoldUpOthers() throws {
        var ledger = try ConcurrencyLedger(accountLimit: 101, reserved: ["f": 0])
        guard case .wait(let blocked) = ledger.acquireOrWait("f") else {
            Issue.record("reserved 0 must wait")
            return
        }
        for _ in 0..<101 { #expect(ledger.acquireOrWait("g") == .admitted) }
        guard case .wait(let other) = ledger.acquireOrWait("g") else {
            Issue.record("the pool is full")
            return
        }
        #expect(ledger.release("g") == [other])
        // Raising the reservation at run time admits the parked waiter.
        let admittedByChange = try ledger.setReserved(nil, for: "f")
        #expect(admittedByChange == [])
        _ = ledger.release("g")
        #expect(ledger.inFlight["f"] == 1)
        let stillWaiting = ledger.cancelWait(blocked)
        #expect(!stillWaiting)
    }

    @Test func cancelledWaitersLeaveNoTrace() throws {
        var ledger = try ConcurrencyLedger(accountLimit: 1000, reserved: ["f": 0])
        guard case .wait(let id) = ledger.acquireOrWait("f") else {
            Issue.record("reserved 0 must wait")
            return
        }
        let removed = ledger.cancelWait(id)
        #expect(removed)
        let admitted = try ledger.setReserved(5, for: "f")
        #expect(admitted == [])
        #expect(ledger.totalInFlight == 0)
    }
}
