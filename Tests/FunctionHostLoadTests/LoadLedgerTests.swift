import Testing

@testable import FunctionHostLoad

@Suite struct LoadLedgerTests {
    @Test func aRequestBudgetIsSharedByTheClientsAndThePhaseEndsWithTheLastAnswer() {
        var ledger = LoadLedger()
        var ended = false
        var claimed = LoadLedger.Claim.stop(phaseDone: false)
        ledger.startPhase(sources: 2, limit: 3, end: nil, recording: true)
        claimed = ledger.claim(now: 0)
        #expect(claimed == .send(ticket: 0))
        claimed = ledger.claim(now: 0)
        #expect(claimed == .send(ticket: 1))
        ended = ledger.finish(.completed, latency: 0.01, at: 0.01, initDuration: nil)
        #expect(!ended)
        claimed = ledger.claim(now: 0.01)
        #expect(claimed == .send(ticket: 2))
        ended = ledger.finish(.completed, latency: 0.01, at: 0.02, initDuration: nil)
        #expect(!ended)
        // The budget is spent: this client stops, but one request is still in flight.
        claimed = ledger.claim(now: 0.02)
        #expect(claimed == .stop(phaseDone: false))
        #expect(ledger.inFlight == 1)
        ended = ledger.finish(.throttled("429"), latency: 0.01, at: 0.03, initDuration: nil)
        #expect(!ended)
        // The other client asks last and finds nothing left: the phase is over.
        claimed = ledger.claim(now: 0.03)
        #expect(claimed == .stop(phaseDone: true))
        #expect(ledger.recorder.requests == 3 && ledger.recorder.throttles == 1)
    }

    @Test func aDurationStopsNewRequestsAtItsEnd() {
        var ledger = LoadLedger()
        var ended = false
        var claimed = LoadLedger.Claim.stop(phaseDone: false)
        ledger.startPhase(sources: 1, limit: nil, end: 1.0, recording: true)
        claimed = ledger.claim(now: 0.999)
        #expect(claimed == .send(ticket: 0))
        ended = ledger.finish(.completed, latency: 0.5, at: 1.499, initDuration: nil)
        #expect(!ended)
        claimed = ledger.claim(now: 1.499)
        #expect(claimed == .stop(phaseDone: true))
    }

    @Test func arrivalsAreClaimedByIndexAndOffset() {
        var ledger = LoadLedger()
        var ended = false
        var claimed = LoadLedger.Claim.stop(phaseDone: false)
        ledger.startPhase(sources: 2, limit: 4, end: nil, recording: true)
        claimed = ledger.claim(arrival: 0, offset: 0)
        #expect(claimed == .send(ticket: 0))
        claimed = ledger.claim(arrival: 2, offset: 0.2)
        #expect(claimed == .send(ticket: 2))
        claimed = ledger.claim(arrival: 4, offset: 0.4)
        #expect(claimed == .stop(phaseDone: false))  // first pump done
        claimed = ledger.claim(arrival: 1, offset: 0.1)
        #expect(claimed == .send(ticket: 1))
        claimed = ledger.claim(arrival: 3, offset: 0.3)
        #expect(claimed == .send(ticket: 3))
        claimed = ledger.claim(arrival: 5, offset: 0.5)
        #expect(claimed == .stop(phaseDone: false))  // four in flight
        for index in 0..<3 {
            ended = ledger.finish(.completed, latency: 0.1, at: 0.1 * Double(index), initDuration: nil)
            #expect(!ended)
        }
        ended = ledger.finish(.completed, latency: 0.1, at: 0.6, initDuration: nil)
        #expect(ended)
    }

    @Test func interruptStopsEverySourceAndWaitsForWhatIsInFlight() {
        var ledger = LoadLedger()
        var ended = false
        var claimed = LoadLedger.Claim.stop(phaseDone: false)
        ledger.startPhase(sources: 4, limit: nil, end: 60, recording: true)
        claimed = ledger.claim(now: 0)
        #expect(claimed == .send(ticket: 0))
        claimed = ledger.claim(now: 0)
        #expect(claimed == .send(ticket: 1))
        ended = ledger.interrupt()
        #expect(!ended)
        claimed = ledger.claim(now: 0.1)
        #expect(claimed == .stop(phaseDone: false))
        ended = ledger.finish(.completed, latency: 0.1, at: 0.1, initDuration: nil)
        #expect(!ended)
        // Sources that never ask again do not hold the phase open after an interrupt.
        ended = ledger.finish(.transportError("abandoned on interrupt"), latency: 0.2, at: 0.2, initDuration: nil)
        #expect(ended)
        #expect(ledger.recorder.requests == 2 && ledger.recorder.transportErrors == 1)
    }

    @Test func aWarmUpPhaseRecordsNothing() {
        var ledger = LoadLedger()
        var ended = false
        var claimed = LoadLedger.Claim.stop(phaseDone: false)
        ledger.startPhase(sources: 1, limit: 2, end: nil, recording: false)
        claimed = ledger.claim(now: 0)
        #expect(claimed == .send(ticket: 0))
        ended = ledger.finish(.completed, latency: 0.1, at: 0.1, initDuration: 50)
        #expect(!ended)
        #expect(ledger.recorder.requests == 0 && ledger.recorder.coldStarts == 0)
    }
}
