import FunctionHostCore

/// Gathers received SQS messages into batches (spec 2.3): a batch is ready when it holds
/// `batchSize` messages, when its records reach 6 MB, or when the batching window (host-clock
/// milliseconds from the first message of the batch) has passed; without a window whatever one
/// receive brought is a batch at once.
///
/// Pure; one per poller. Times are host-clock epoch milliseconds.
struct SQSBatcher: Sendable {
    let batchSize: Int
    let window: Int64
    private(set) var pending: [ConsumedMessage] = []
    private var bytes = 0
    /// When the first pending message arrived.
    private(set) var openedAt: Int64?

    init(batchSize: Int, windowSeconds: Int) {
        self.batchSize = max(1, batchSize)
        window = Int64(max(0, windowSeconds)) * 1000
    }

    /// How many messages the next receive should ask for (SQS gives at most 10).
    var wanted: Int { max(1, min(10, batchSize - pending.count)) }

    /// When the open window closes, if one is open.
    var deadline: Int64? { openedAt.map { $0 + window } }

    mutating func add(_ messages: [ConsumedMessage], now: Int64) {
        guard !messages.isEmpty else { return }
        if pending.isEmpty { openedAt = now }
        pending += messages
        bytes += messages.reduce(0) { $0 + Self.size(of: $1) }
    }

    func isReady(now: Int64) -> Bool {
        guard let openedAt, !pending.isEmpty else { return false }
        return pending.count >= batchSize || bytes >= EventSourceMapping.maximumBatchBytes || now >= openedAt + window
    }

    /// Takes the next batch (at most `batchSize` messages and 6 MB; at least one message);
    /// what is left opens the next window at `now`.
    mutating func take(now: Int64) -> [ConsumedMessage] {
        var count = 0
        var size = 0
        while count < pending.count && count < batchSize {
            let next = Self.size(of: pending[count])
            if count > 0 && size + next > EventSourceMapping.maximumBatchBytes { break }
            size += next
            count += 1
        }
        let batch = Array(pending.prefix(count))
        pending.removeFirst(count)
        bytes -= size
        openedAt = pending.isEmpty ? nil : now
        return batch
    }

    /// What a message adds to the event: its body and attributes plus the record's fixed fields.
    static func size(of message: ConsumedMessage) -> Int {
        let attributes = message.messageAttributes.reduce(0) { total, entry in
            total + entry.key.utf8.count + (entry.value.stringValue?.utf8.count ?? 0)
                + (entry.value.binaryValue?.utf8.count ?? 0) + 96
        }
        return message.body.utf8.count + message.receiptHandle.utf8.count + attributes + 512
    }
}
