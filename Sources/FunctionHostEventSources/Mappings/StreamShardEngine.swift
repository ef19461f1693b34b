import FunctionHostCore

/// The decisions of one shard of a stream mapping (spec 3.3–3.5): which records form the next
/// batch, and what a batch's outcome means for the checkpoint, retries, bisecting and discarding.
///
/// A pure value: events in, actions out, time passed in. Records of the shard are handled
/// strictly in order; the next batch starts only when the current one succeeded or was discarded.
/// A function error retries the same batch, after ``retryDelay(afterAttempt:)`` on the host clock,
/// until `MaximumRetryAttempts` retries were made or its oldest record passed
/// `MaximumRecordAgeInSeconds` (a batch waiting for its retry is given up as soon as it is too
/// old); with `BisectBatchOnFunctionError` a failed
/// batch of more than one record is split in two halves instead (a split does not use a retry).
/// A partial batch response checkpoints before the lowest failed sequence number and retries
/// from it. Records already past the maximum age are discarded before an invocation.
///
/// With tumbling windows, records are grouped by the window their arrival time falls in
/// (windows aligned to multiples of their length); a batch never spans two windows, the state
/// the function returns is handed to the next batch of the window, and once the window has ended
/// and none of its records wait, one final invocation without records closes it. A function error
/// in a window follows the retry policy like any batch (the state stays what it was); a failed
/// final invocation is retried until it succeeds (Lambda suspends the shard until it does). A
/// state over ``TumblingWindow/maximumStateBytes`` terminates the window early: a final invocation
/// with that state and `isWindowTerminatedEarly` comes next, then the window goes on with `{}`.
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
        /// Lambda's limit on a window's state (1 MB per shard; here 1 MiB of JSON text): a larger
        /// state terminates the window early.
        public static let maximumStateBytes = 1 << 20

        /// Epoch ms; `end` is exclusive.
        public var start: Int64
        public var end: Int64
        /// JSON object text; `{}` when the window opens.
        public var state = "{}"
        /// The window's closing invocation (no records).
        public var isFinal = false

        public init(start: Int64, end: Int64, state: String = "{}", isFinal: Bool = false) {
            self.start = start
            self.end = end
            self.state = state
            self.isFinal = isFinal
        }

        /// The state outgrew ``maximumStateBytes``: the window closes now and goes on with a fresh state.
        public var isTerminatedEarly: Bool { state.utf8.count > Self.maximumStateBytes }
    }

    /// A batch being tried: its records and the invocations it has had.
    public struct Batch: Sendable, Hashable {
        public var records: [StreamReadRecord]
        public var attempts = 0
        /// A tumbling window's final invocation: no records.
        public var closesWindow = false
        /// Host-clock ms before which its next attempt does not start (a retry's backoff).
        public var dueAt: Int64 = 0
    }

    /// The first retry of a failed batch waits this long on the host clock; each further retry
    /// waits twice as long as the one before, up to ``maximumRetryDelayMilliseconds``.
    public static let firstRetryDelayMilliseconds: Int64 = 1_000
    public static let maximumRetryDelayMilliseconds: Int64 = 60_000

    /// How long the batch waits before its next attempt after its `attempts`-th failed one.
    public static func retryDelay(afterAttempt attempts: Int) -> Int64 {
        let doublings = min(max(0, attempts - 1), 16)
        return min(firstRetryDelayMilliseconds << doublings, maximumRetryDelayMilliseconds)
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
        /// A tumbling window closed (its final invocation succeeded) without a checkpoint: store the windows.
        case windowClosed
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
    /// and not yet full closes, the open tumbling window ends, a failed batch's retry is due, or a
    /// batch waiting for its retry becomes too old.
    public func windowDeadline() -> Int64? {
        if let current {
            guard let age = policy.maximumRecordAgeMilliseconds, let first = current.records.first else {
                return current.dueAt
            }
            return min(current.dueAt, first.arrivedAt + age + 1)
        }
        guard halves.isEmpty else { return nil }
        var batching: Int64?
        if !buffer.isEmpty, buffer.count < policy.batchSize, let opened = windowOpenedAt {
            batching = opened + policy.windowMilliseconds
        }
        // The tumbling window of the first waiting record ends: its records go out without waiting for the batching window.
        let ending = buffer.first.flatMap { policy.tumblingWindowMilliseconds > 0 ? tumblingEnd($0) : nil }
        return [batching, window?.end, ending].compactMap { $0 }.min()
    }

    /// The next batch to invoke, with whatever must happen first (discarding records too old);
    /// empty when there is nothing to invoke yet.
    public mutating func next(now: Int64) -> [Action] {
        var actions: [Action] = []
        while true {
            if current == nil {
                if !halves.isEmpty {
                    current = Batch(records: halves.removeFirst())
                } else if let open = window,
                    open.isTerminatedEarly || (now >= open.end && buffer.first.map({ tumblingStart($0) != open.start }) ?? true)
                {
                    // The window is over and none of its records wait (arrival order), or its state outgrew the limit: close it.
                    window?.isFinal = true
                    current = Batch(records: [], closesWindow: true)
                } else if let first = buffer.first,
                    buffer.count >= policy.batchSize || now >= (windowOpenedAt ?? now) + policy.windowMilliseconds
                        || (policy.tumblingWindowMilliseconds > 0 && now >= tumblingEnd(first))
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
            if batch.dueAt > now {
                current = batch
                return actions
            }
            batch.attempts += 1
            current = batch
            actions.append(.invoke(batch.records, attempt: batch.attempts))
            return actions
        }
    }

    /// The state a tumbling window's invocation returned (JSON object text), for the window's next
    /// batch. What the final invocation returns is dropped with the window.
    public mutating func windowStateReturned(_ state: String) {
        guard window?.isFinal == false else { return }
        window?.state = state
    }

    /// A window saved with the checkpoint, restored after a restart (only when none is open yet):
    /// the window goes on with its last state when the next records fall in it.
    public mutating func restoreWindow(_ saved: TumblingWindow) {
        guard window == nil, policy.tumblingWindowMilliseconds > 0 else { return }
        window = TumblingWindow(start: saved.start, end: saved.end, state: saved.state)
    }

    /// The end (exclusive) of the tumbling window a record's arrival time falls in.
    private func tumblingEnd(_ record: StreamReadRecord) -> Int64 {
        tumblingStart(record) + policy.tumblingWindowMilliseconds
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
            // The closing invocation has no records to checkpoint; Lambda suspends the shard until it succeeds.
            guard case .succeeded = outcome else {
                current?.dueAt = now + Self.retryDelay(afterAttempt: batch.attempts)
                return [.retry(count: 0)]
            }
            current = nil
            if let open = window, open.isTerminatedEarly {
                window = TumblingWindow(start: open.start, end: open.end)
            } else {
                window = nil
            }
            return [.windowClosed]
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
        if retriesLeft && young {
            current?.dueAt = now + Self.retryDelay(afterAttempt: batch.attempts)
            return [.retry(count: batch.records.count)]
        }
        current = nil
        return [
            .discard(
                batch.records, young ? .retryAttemptsExhausted : .recordAgeExceeded, invokeCount: batch.attempts,
                functionError: young ? (functionError ?? "Unhandled") : nil),
            .checkpoint(last.sequenceNumber),
        ]
    }
}
