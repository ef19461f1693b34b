import FunctionHostCore

/// The decisions of one shard of a stream mapping (spec 3.3–3.5): which records form the next
/// batch, and what a batch's outcome means for the checkpoint, retries, bisecting and discarding.
///
/// A pure value: events in, actions out, time passed in. Records of the shard are handled
/// strictly in order; the next batch starts only when the current one succeeded or was discarded.
/// A function error retries the same batch until `MaximumRetryAttempts` retries were made or its
/// oldest record passed `MaximumRecordAgeInSeconds`; with `BisectBatchOnFunctionError` a failed
/// batch of more than one record is split in two halves instead (a split does not use a retry).
/// A partial batch response checkpoints before the lowest failed sequence number and retries
/// from it. Records already past the maximum age are discarded before an invocation.
///
/// With tumbling windows, records are grouped by the window their arrival time falls in
/// (windows aligned to multiples of their length); a batch never spans two windows, the state
/// the function returns is handed to the next batch of the window, and once the window has ended
/// and none of its records wait, one final invocation without records closes it.
public struct StreamShardEngine: Sendable, Hashable {
    /// The mapping's settings that decide batches.
    public struct Policy: Sendable, Hashable {
        public var batchSize: Int
        public var windowMilliseconds: Int64
        /// -1: retry until the records expire.
        public var maximumRetryAttempts: Int
        /// `nil`: no age limit.
        public var maximumRecordAgeMilliseconds: Int64?
        public var bisect: Bool
        /// `TumblingWindowInSeconds` in ms; 0: off.
        public var tumblingWindowMilliseconds: Int64

        public init(
            batchSize: Int, windowMilliseconds: Int64 = 0, maximumRetryAttempts: Int = -1,
            maximumRecordAgeMilliseconds: Int64? = nil, bisect: Bool = false, tumblingWindowMilliseconds: Int64 = 0
        ) {
            self.batchSize = batchSize
            self.windowMilliseconds = windowMilliseconds
            self.maximumRetryAttempts = maximumRetryAttempts
            self.maximumRecordAgeMilliseconds = maximumRecordAgeMilliseconds
            self.bisect = bisect
            self.tumblingWindowMilliseconds = tumblingWindowMilliseconds
        }

        public init(_ mapping: EventSourceMapping) {
            let stream = mapping.stream
            self.init(
                batchSize: mapping.batchSize, windowMilliseconds: Int64(mapping.maximumBatchingWindowInSeconds) * 1000,
                maximumRetryAttempts: stream?.maximumRetryAttempts ?? -1,
                maximumRecordAgeMilliseconds: (stream?.maximumRecordAgeInSeconds).flatMap { $0 < 0 ? nil : Int64($0) * 1000 },
                bisect: stream?.bisectBatchOnFunctionError ?? false,
                tumblingWindowMilliseconds: Int64(stream?.tumblingWindowInSeconds ?? 0) * 1000)
        }
    }

    /// The tumbling window the current batch belongs to, with the state the function returned last.
    public struct TumblingWindow: Sendable, Hashable {
        /// Epoch ms; `end` is exclusive.
        public var start: Int64
        public var end: Int64
        /// JSON object text; `{}` when the window opens.
        public var state = "{}"
        /// The window's closing invocation (no records).
        public var isFinal = false
    }

    /// A batch being tried: its records and the invocations it has had.
    public struct Batch: Sendable, Hashable {
        public var records: [StreamReadRecord]
        public var attempts = 0
        /// A tumbling window's final invocation: no records.
        public var closesWindow = false
    }

    /// Why records were given up.
    public enum Condition: String, Sendable, Hashable {
        case retryAttemptsExhausted = "RetryAttemptsExhausted"
        case recordAgeExceeded = "RecordAgeExceeded"
    }

    /// What the runner does next.
    public enum Action: Sendable, Hashable {
        /// Invoke the function with these records (attempt `attempt`, 1-based).
        case invoke([StreamReadRecord], attempt: Int)
        /// Records given up: report them to OnFailure (`functionError` is the last attempt's, if any).
        case discard([StreamReadRecord], Condition, invokeCount: Int, functionError: String?)
        /// Everything up to and including this sequence number is done: commit it.
        case checkpoint(String)
        /// A batch split in two after a function error.
        case bisected
        /// The failed records are tried again.
        case retry(count: Int)
    }

    /// How an invocation ended.
    public enum Outcome: Sendable, Hashable {
        case succeeded
        /// Records from this sequence number on failed (a partial batch response).
        case failedFrom(String)
        case failed(functionError: String)
        /// The batch never reached the function (throttled, or no worker could start): not an attempt.
        case notInvoked
    }

    public var policy: Policy
    /// Records read and not yet in a batch, in shard order.
    public private(set) var buffer: [StreamReadRecord] = []
    /// Bisected halves waiting their turn, before the buffer.
    public private(set) var halves: [[StreamReadRecord]] = []
    /// The batch being tried (in flight or waiting for its retry).
    public private(set) var current: Batch?
    /// When the first buffered record arrived here (the batching window's start).
    private var windowOpenedAt: Int64?
    /// The open tumbling window, when tumbling windows are on.
    public private(set) var window: TumblingWindow?

    public init(policy: Policy) {
        self.policy = policy
    }

    /// Whether the runner should read more records now (the buffer can take more).
    public var wantsRecords: Bool { buffer.count < policy.batchSize }

    /// Records read from the shard, in order.
    public mutating func received(_ records: [StreamReadRecord], now: Int64) {
        guard !records.isEmpty else { return }
        if buffer.isEmpty { windowOpenedAt = now }
        buffer += records
    }

    /// The next time something falls due without new records: a batching window that is open
    /// and not yet full closes, or the open tumbling window ends.
    public func windowDeadline() -> Int64? {
        guard current == nil, halves.isEmpty else { return nil }
        var batching: Int64?
        if !buffer.isEmpty, buffer.count < policy.batchSize, let opened = windowOpenedAt {
            batching = opened + policy.windowMilliseconds
        }
        return [batching, window?.end].compactMap { $0 }.min()
    }

    /// The next batch to invoke, with whatever must happen first (discarding records too old);
    /// empty when there is nothing to invoke yet.
    public mutating func next(now: Int64) -> [Action] {
        var actions: [Action] = []
        while true {
            if current == nil {
                if !halves.isEmpty {
                    current = Batch(records: halves.removeFirst())
                } else if let open = window, now >= open.end,
                    buffer.first.map({ tumblingStart($0) != open.start }) ?? true
                {
                    // The window is over and none of its records wait (arrival order): close it.
                    window?.isFinal = true
                    current = Batch(records: [], closesWindow: true)
                } else if !buffer.isEmpty,
                    buffer.count >= policy.batchSize || now >= (windowOpenedAt ?? now) + policy.windowMilliseconds
                {
                    var count = min(policy.batchSize, buffer.count)
                    if policy.tumblingWindowMilliseconds > 0 {
                        let start = tumblingStart(buffer[0])
                        count = min(count, buffer.prefix { tumblingStart($0) == start }.count)
                        if window?.start != start {
                            window = TumblingWindow(start: start, end: start + policy.tumblingWindowMilliseconds)
                        }
                    }
                    current = Batch(records: Array(buffer.prefix(count)))
                    buffer.removeFirst(count)
                    windowOpenedAt = buffer.isEmpty ? nil : now
                } else {
                    return actions
                }
            }
            guard var batch = current else { return actions }
            // Records past the maximum age are given up before the invocation (they lead: a shard is in arrival order).
            if let age = policy.maximumRecordAgeMilliseconds, !batch.closesWindow {
                let expired = batch.records.prefix { now - $0.arrivedAt > age }
                if !expired.isEmpty {
                    actions.append(
                        .discard(Array(expired), .recordAgeExceeded, invokeCount: batch.attempts, functionError: nil))
                    actions.append(.checkpoint(expired[expired.index(before: expired.endIndex)].sequenceNumber))
                    batch.records.removeFirst(expired.count)
                }
            }
            if batch.records.isEmpty && !batch.closesWindow {
                current = nil
                continue
            }
            batch.attempts += 1
            current = batch
            actions.append(.invoke(batch.records, attempt: batch.attempts))
            return actions
        }
    }

    /// The state a tumbling window's invocation returned (JSON object text), for the window's next batch.
    public mutating func windowStateReturned(_ state: String) {
        window?.state = state
    }

    /// The window start of a record's arrival time.
    private func tumblingStart(_ record: StreamReadRecord) -> Int64 {
        let length = policy.tumblingWindowMilliseconds
        return length > 0 ? record.arrivedAt - ((record.arrivedAt % length) + length) % length : 0
    }

    /// The current batch's invocation ended.
    public mutating func completed(_ outcome: Outcome, now: Int64) -> [Action] {
        if case .notInvoked = outcome {
            current?.attempts -= 1
            return []
        }
        if let batch = current, batch.closesWindow {
            // The closing invocation has no records to checkpoint; a failure is retried within the retry limit.
            if case .succeeded = outcome {
                window = nil
                current = nil
                return []
            }
            if policy.maximumRetryAttempts < 0 || batch.attempts <= policy.maximumRetryAttempts { return [.retry(count: 0)] }
            window = nil
            current = nil
            return []
        }
        guard let batch = current, let last = batch.records.last else { return [] }
        switch outcome {
        case .notInvoked:
            return []
        case .succeeded:
            current = nil
            return [.checkpoint(last.sequenceNumber)]
        case .failedFrom(let sequence):
            guard let index = batch.records.firstIndex(where: { $0.sequenceNumber == sequence }) else {
                return completed(.failed(functionError: "PartialBatchResponse"), now: now)
            }
            var actions: [Action] = []
            if index > 0 { actions.append(.checkpoint(batch.records[index - 1].sequenceNumber)) }
            var remaining = batch
            remaining.records.removeFirst(index)
            current = remaining
            return actions + giveUpOrRetry(functionError: nil, now: now)
        case .failed(let functionError):
            if policy.bisect && batch.records.count > 1 {
                let middle = batch.records.count / 2
                halves.insert(contentsOf: [Array(batch.records[..<middle]), Array(batch.records[middle...])], at: 0)
                current = nil
                return [.bisected]
            }
            return giveUpOrRetry(functionError: functionError, now: now)
        }
    }

    /// After a failed attempt of ``current``: discard it when its retries or age ran out, else keep it for a retry.
    private mutating func giveUpOrRetry(functionError: String?, now: Int64) -> [Action] {
        guard let batch = current, let last = batch.records.last, let first = batch.records.first else { return [] }
        let retriesLeft = policy.maximumRetryAttempts < 0 || batch.attempts <= policy.maximumRetryAttempts
        let young = policy.maximumRecordAgeMilliseconds.map { now - first.arrivedAt <= $0 } ?? true
        if retriesLeft && young { return [.retry(count: batch.records.count)] }
        current = nil
        return [
            .discard(
                batch.records, young ? .retryAttemptsExhausted : .recordAgeExceeded, invokeCount: batch.attempts,
                functionError: young ? (functionError ?? "Unhandled") : nil),
            .checkpoint(last.sequenceNumber),
        ]
    }
}
