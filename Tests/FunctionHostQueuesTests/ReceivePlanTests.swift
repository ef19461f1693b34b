import Testing

@testable import FunctionHostQueues

@Suite struct ReceivePlanTests {
    typealias Candidate = ReceivePlan.Candidate

    @Test func deliversInOrderUpToTheMaximum() {
        let plan = ReceivePlan(
            candidates: (1...5).map { Candidate(sequence: $0, receiveCount: 0) }, maximum: 3, maxReceiveCount: nil,
            fifo: false, blockedGroups: [])
        #expect(plan.deliver == [1, 2, 3])
        #expect(plan.moveToDeadLetterQueue.isEmpty)
    }

    @Test func aMessageAtMaxReceiveCountMovesInsteadOfBeingDelivered() {
        let plan = ReceivePlan(
            candidates: [
                Candidate(sequence: 1, receiveCount: 2), Candidate(sequence: 2, receiveCount: 1),
                Candidate(sequence: 3, receiveCount: 3),
            ], maximum: 10, maxReceiveCount: 2, fifo: false, blockedGroups: [])
        #expect(plan.deliver == [2])
        #expect(plan.moveToDeadLetterQueue == [1, 3])
    }

    @Test func withoutARedrivePolicyNothingMoves() {
        let plan = ReceivePlan(
            candidates: [Candidate(sequence: 1, receiveCount: 50)], maximum: 1, maxReceiveCount: nil, fifo: false,
            blockedGroups: [])
        #expect(plan.deliver == [1])
    }

    @Test func fifoSkipsGroupsWithAMessageInFlight() {
        let plan = ReceivePlan(
            candidates: [
                Candidate(sequence: 1, receiveCount: 0, groupID: "A"),
                Candidate(sequence: 2, receiveCount: 0, groupID: "B"),
                Candidate(sequence: 3, receiveCount: 0, groupID: "A"),
                Candidate(sequence: 4, receiveCount: 0, groupID: "B"),
            ], maximum: 10, maxReceiveCount: nil, fifo: true, blockedGroups: ["A"])
        #expect(plan.deliver == [2, 4])
    }

    @Test func fifoMovesAPoisonHeadAndDeliversTheNextOfItsGroup() {
        let plan = ReceivePlan(
            candidates: [
                Candidate(sequence: 1, receiveCount: 3, groupID: "A"),
                Candidate(sequence: 2, receiveCount: 0, groupID: "A"),
            ], maximum: 10, maxReceiveCount: 3, fifo: true, blockedGroups: [])
        #expect(plan.moveToDeadLetterQueue == [1])
        #expect(plan.deliver == [2])
    }
}
