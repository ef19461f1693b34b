/// The decisions of a ``GroupCommit``: when a transaction starts and which writes it carries.
///
/// A pure value; its owner holds it under a lock and commits each batch it returns. At most one
/// batch is being committed at a time. A write that arrives while none is starts one at once, on
/// its own: a lone writer never waits for company (there is no batching window). Writes that
/// arrive while a batch is being committed wait, and all of them, in arrival order and at most
/// ``maximumBatch``, make the next transaction when that batch is done.
struct GroupCommitQueue<Write> {
    /// The most writes one transaction carries.
    let maximumBatch: Int
    /// Writes waiting for the batch being committed to finish.
    private(set) var waiting: [Write] = []
    /// Whether a batch is being committed (the owner owes a ``batchCommitted()``).
    private(set) var isCommitting = false

    init(maximumBatch: Int) {
        self.maximumBatch = max(1, maximumBatch)
    }

    /// A write arrives: the batch to commit now (just this write), or `nil` if it waits.
    mutating func arrive(_ write: Write) -> [Write]? {
        guard isCommitting else {
            isCommitting = true
            return [write]
        }
        waiting.append(write)
        return nil
    }

    /// The batch being committed is done: the next batch to commit, or `nil` when none waits.
    mutating func batchCommitted() -> [Write]? {
        guard !waiting.isEmpty else {
            isCommitting = false
            return nil
        }
        let batch = Array(waiting.prefix(maximumBatch))
        waiting.removeFirst(batch.count)
        return batch
    }
}
