/// The pure decision behind one receive: which visible messages are delivered and which are
/// moved to the dead-letter queue instead (redrive), keeping FIFO group rules.
///
/// Rules: candidates are considered in send order; a message whose receive count already equals
/// `maxReceiveCount` is moved, not delivered (spec 2.4); in a FIFO queue a group with a message
/// in flight is skipped entirely.
struct ReceivePlan: Equatable {
    /// A visible message, as the planner needs it.
    struct Candidate: Equatable {
        var sequence: Int64
        var receiveCount: Int
        var groupID: String?
    }

    var deliver: [Int64] = []
    var moveToDeadLetterQueue: [Int64] = []

    /// - Parameters:
    ///   - maxReceiveCount: the redrive threshold, or `nil` without a usable dead-letter queue.
    ///   - blockedGroups: FIFO groups that have a message in flight now.
    init(candidates: [Candidate], maximum: Int, maxReceiveCount: Int?, fifo: Bool, blockedGroups: Set<String>) {
        for candidate in candidates {
            if deliver.count >= maximum { break }
            if fifo, let group = candidate.groupID, blockedGroups.contains(group) { continue }
            if let maxReceiveCount, candidate.receiveCount >= maxReceiveCount {
                moveToDeadLetterQueue.append(candidate.sequence)
                continue
            }
            // A delivered group stays deliverable within this batch: its later messages follow in order.
            deliver.append(candidate.sequence)
        }
    }
}
