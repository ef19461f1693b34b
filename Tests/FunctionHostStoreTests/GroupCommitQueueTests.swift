import Testing

@testable import FunctionHostStore

/// The batching decisions alone, without a database.
@Suite struct GroupCommitQueueTests {
    @Test func aLoneWriteIsCommittedAtOnceAndAloneThenTheQueueIsIdle() {
        var queue = GroupCommitQueue<Int>(maximumBatch: 8)
        #expect(queue.arrive(1) == [1])
        #expect(queue.isCommitting)
        #expect(queue.batchCommitted() == nil)
        #expect(!queue.isCommitting)
        // Idle again: the next write starts its own transaction without waiting.
        #expect(queue.arrive(2) == [2])
    }

    @Test func writesArrivingDuringACommitMakeTheNextTransactionInArrivalOrder() {
        var queue = GroupCommitQueue<Int>(maximumBatch: 8)
        #expect(queue.arrive(1) == [1])
        for write in 2...5 { #expect(queue.arrive(write) == nil) }
        #expect(queue.waiting == [2, 3, 4, 5])
        #expect(queue.batchCommitted() == [2, 3, 4, 5])
        #expect(queue.isCommitting)
        #expect(queue.arrive(6) == nil)
        #expect(queue.batchCommitted() == [6])
        #expect(queue.batchCommitted() == nil)
        #expect(!queue.isCommitting && queue.waiting.isEmpty)
    }

    @Test func aBatchCarriesAtMostTheMaximumAndTheRestFollows() {
        var queue = GroupCommitQueue<Int>(maximumBatch: 3)
        #expect(queue.arrive(0) == [0])
        for write in 1...7 { #expect(queue.arrive(write) == nil) }
        #expect(queue.batchCommitted() == [1, 2, 3])
        #expect(queue.batchCommitted() == [4, 5, 6])
        #expect(queue.batchCommitted() == [7])
        #expect(queue.batchCommitted() == nil)
    }

    @Test func aMaximumBelowOneStillCommitsOneAtATime() {
        var queue = GroupCommitQueue<Int>(maximumBatch: 0)
        #expect(queue.arrive(1) == [1])
        #expect(queue.arrive(2) == nil)
        #expect(queue.arrive(3) == nil)
        #expect(queue.batchCommitted() == [2])
        #expect(queue.batchCommitted() == [3])
    }
}
