import FunctionHostCore
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The Runtime API state of one execution environment: hands one invocation at a time to the
/// function process and collects its answer.
///
/// The host side calls ``waitUntilReady()``, ``invoke(_:timeout:)`` and ``close()``; the
/// per-worker listener calls the `runtime…` methods. Every continuation and reply is resumed
/// exactly once, always outside the lock, and a runtime that breaks the protocol gets a
/// ``RuntimeAPIError`` (a 4xx), never a crash. Deadlines start when the event is delivered to
/// `/next`, as on Lambda. A lock rather than an actor: this is on every invoke's path, and the
/// hops an actor adds were measurable there.
///
/// A connection that goes away loses nothing: a parked `/next` whose connection closed is
/// withdrawn (``withdrawNext(_:)``), an event its connection could not take is handed to the next
/// `/next` (``returnUndelivered(requestID:)``), and a response cut off mid-body fails the
/// invocation (``runtimeAnswerTruncated(requestID:)``) instead of returning what arrived.
public final class RuntimeMailbox: Sendable {
    /// States named as RAPID names them, for `InvalidStateTransition` messages.
    enum State: Equatable {
        /// Spawned; `/next` not called yet (`Started`).
        case started
        /// Waiting for work (`Ready`).
        case ready
        /// An invocation waits for the runtime's next `/next`.
        case assigned
        /// The event was delivered; waiting for `/response` or `/error` (`Running`).
        case running(requestID: String)
        /// Answered; waiting for `/next` (`RuntimeResponseSentState`).
        case responded(requestID: String)
        /// `/init/error` was posted (`InitError`).
        case initFailed
        case closed

        var rapidName: String {
            switch self {
            case .started: "Started"
            case .ready, .assigned: "Ready"
            case .running: "Running"
            case .responded: "RuntimeResponseSentState"
            case .initFailed: "InitError"
            case .closed: "Closed"
            }
        }
    }

    /// An event handed to `/next`, with its absolute deadline.
    public struct Delivery: Sendable {
        public var request: InvocationRequest
        public var deadlineEpochMilliseconds: Int64
    }

    /// How the runtime ended its initialisation.
    public enum Readiness: Sendable {
        case ready
        case initError(payload: ByteBuffer, errorType: String?)
        case closed
    }

    /// How an invocation ended, with the instant the event was delivered (`nil` if it never was).
    public struct Outcome: Sendable {
        /// What ended the invocation.
        public enum Kind: Sendable {
            case response(payload: ByteBuffer, contentType: String)
            case error(payload: ByteBuffer, errorType: String?)
            case responseTooLarge
            case timedOut
            /// The environment closed (the process exited) while it held the invocation.
            case closed
            /// The runtime's connection closed in the middle of its `/response` or `/error` body.
            case truncated
        }

        public var kind: Kind
        public var deliveredAt: ContinuousClock.Instant?
        public var finishedAt: ContinuousClock.Instant
    }

    /// Largest `/response` body accepted: 6 MiB + 100 bytes, as RAPID enforces.
    public static let maximumResponseSize = 6 * 1024 * 1024 + 100

    /// Answers one `GET /next`: with an event, or with the error the runtime gets instead.
    public typealias NextReply = @Sendable (Result<Delivery, RuntimeAPIError>) -> Void

    /// Names a parked `/next`, so the connection that parked it can withdraw it.
    public struct NextTicket: Hashable, Sendable {
        let number: UInt64
    }

    private struct Storage: ~Copyable {
        var state: State = .started
        var parkedNext: (ticket: NextTicket, reply: NextReply)?
        var nextTicket: UInt64 = 0
        var readinessWaiter: CheckedContinuation<Readiness, Never>?
        var readiness: Readiness?
        var pending: (request: InvocationRequest, timeout: Duration)?
        /// The invocation handed to `/next`, until it is answered: given back if its connection could not take it.
        var delivered: (request: InvocationRequest, timeout: Duration)?
        var resultWaiter: CheckedContinuation<Outcome, Never>?
        var deliveredAt: ContinuousClock.Instant?
        var deadline: Scheduled<Void>?
    }

    /// Continuations and replies to resume once the lock is released.
    private struct Wakeups: ~Copyable {
        var next: (NextReply, Result<Delivery, RuntimeAPIError>)?
        var readiness: (CheckedContinuation<Readiness, Never>, Readiness)?
        var result: (CheckedContinuation<Outcome, Never>, Outcome)?

        consuming func resume() {
            if let (reply, value) = next { reply(value) }
            if let (waiter, value) = readiness { waiter.resume(returning: value) }
            if let (waiter, value) = result { waiter.resume(returning: value) }
        }
    }

    private let storage = Mutex(Storage())
    /// Where deadlines are scheduled: a NIO timer is far cheaper than a sleeping task per invoke.
    private let timers: any EventLoop

    public init(timers: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        self.timers = timers
    }

    // MARK: Host side

    /// Waits for the runtime's first `/next` (or its init failure, or its exit).
    public func waitUntilReady() async -> Readiness {
        await withCheckedContinuation { waiter in
            let settled: Readiness? = storage.withLock { storage in
                if let readiness = storage.readiness { return readiness }
                storage.readinessWaiter = waiter
                return nil
            }
            if let settled { waiter.resume(returning: settled) }
        }
    }

    /// Runs one invocation; the caller must have seen ``Readiness/ready`` and must not overlap calls.
    public func invoke(_ request: InvocationRequest, timeout: Duration) async -> Outcome {
        await withCheckedContinuation { waiter in
            let wakeups = storage.withLock { storage -> Wakeups in
                var wakeups = Wakeups()
                switch storage.state {
                case .ready, .responded:
                    storage.resultWaiter = waiter
                    if let parked = storage.parkedNext {
                        storage.parkedNext = nil
                        wakeups.next = (parked.reply, .success(deliver(&storage, request, timeout)))
                    } else {
                        storage.pending = (request, timeout)
                        storage.state = .assigned
                    }
                default:
                    wakeups.result = (waiter, Outcome(kind: .closed, deliveredAt: nil, finishedAt: .now))
                }
                return wakeups
            }
            wakeups.resume()
        }
    }

    /// The environment is gone: every waiter is answered and further runtime calls are refused.
    public func close() {
        let wakeups = storage.withLock { storage -> Wakeups in
            var wakeups = Wakeups()
            guard storage.state != .closed else { return wakeups }
            storage.state = .closed
            wakeups.result = finish(&storage, .closed)
            wakeups.readiness = settleReadiness(&storage, .closed)
            if let parked = storage.parkedNext {
                storage.parkedNext = nil
                wakeups.next = (parked.reply, .failure(.environmentClosed))
            }
            return wakeups
        }
        wakeups.resume()
    }

    // MARK: Runtime side

    /// `GET /next`: `reply` gets the next event, at once or when there is one (the call is then
    /// parked, and the returned ticket names it), or the error to answer with.
    func runtimeNext(reply: @escaping NextReply) -> NextTicket? {
        var ticket: NextTicket?
        let wakeups = storage.withLock { storage -> Wakeups in
            var wakeups = Wakeups()
            switch storage.state {
            case .started:
                storage.state = .ready
                wakeups.readiness = settleReadiness(&storage, .ready)
            case .responded:
                storage.state = .ready
            case .assigned:
                if let (request, timeout) = storage.pending {
                    wakeups.next = (reply, .success(deliver(&storage, request, timeout)))
                    return wakeups
                }
            case .ready, .running:
                break
            case .initFailed:
                wakeups.next = (reply, .failure(.invalidTransition(from: storage.state.rapidName, to: "Ready")))
                return wakeups
            case .closed:
                wakeups.next = (reply, .failure(.environmentClosed))
                return wakeups
            }
            if storage.parkedNext != nil {
                wakeups.next = (reply, .failure(.invalidTransition(from: "Ready", to: "Ready")))
            } else {
                storage.nextTicket += 1
                ticket = NextTicket(number: storage.nextTicket)
                storage.parkedNext = (ticket!, reply)
            }
            return wakeups
        }
        wakeups.resume()
        return ticket
    }

    /// The connection of a parked `/next` closed: the runtime may call `/next` again.
    func withdrawNext(_ ticket: NextTicket) {
        storage.withLock { storage in
            if storage.parkedNext?.ticket == ticket { storage.parkedNext = nil }
        }
    }

    /// True while a `/next` waits for an event.
    var isNextParked: Bool { storage.withLock { $0.parkedNext != nil } }

    /// The event given to a `/next` never reached the runtime (its connection had closed): the
    /// invocation waits for the next `/next`, its deadline not started.
    func returnUndelivered(requestID: String) {
        storage.withLock { storage in
            guard storage.state == .running(requestID: requestID), let delivered = storage.delivered else { return }
            storage.deadline?.cancel()
            storage.deadline = nil
            storage.deliveredAt = nil
            storage.delivered = nil
            storage.pending = delivered
            storage.state = .assigned
        }
    }

    /// `POST /invocation/{id}/response`; a `nil` payload means the body was over the limit.
    func runtimeResponse(requestID: String, payload: ByteBuffer?, contentType: String) throws(RuntimeAPIError) {
        let kind: Outcome.Kind = payload.map { .response(payload: $0, contentType: contentType) } ?? .responseTooLarge
        try answer(requestID: requestID, target: "InvocationResponse", kind)
        if payload == nil { throw .tooLarge }
    }

    /// `POST /invocation/{id}/error`.
    func runtimeError(requestID: String, payload: ByteBuffer, errorType: String?) throws(RuntimeAPIError) {
        try answer(requestID: requestID, target: "InvocationErrorResponse", .error(payload: payload, errorType: errorType))
    }

    /// The connection carrying the answer to `requestID` closed before its body was complete.
    func runtimeAnswerTruncated(requestID: String) {
        try? answer(requestID: requestID, target: "InvocationResponse", .truncated)
    }

    /// `POST /init/error`: accepted only before the first `/next`.
    func runtimeInitError(payload: ByteBuffer, errorType: String?) throws(RuntimeAPIError) {
        let result = storage.withLock { storage -> Result<Wakeups, RuntimeAPIError> in
            guard storage.state == .started else {
                return .failure(.invalidTransition(from: storage.state.rapidName, to: "InitError"))
            }
            storage.state = .initFailed
            var wakeups = Wakeups()
            wakeups.readiness = settleReadiness(&storage, .initError(payload: payload, errorType: errorType))
            return .success(wakeups)
        }
        try result.get().resume()
    }

    // MARK: Internals (called with the lock held)

    private func answer(requestID: String, target: String, _ kind: Outcome.Kind) throws(RuntimeAPIError) {
        let result = storage.withLock { storage -> Result<Wakeups, RuntimeAPIError> in
            switch storage.state {
            case .running(let current) where current == requestID:
                storage.state = .responded(requestID: requestID)
                var wakeups = Wakeups()
                wakeups.result = finish(&storage, kind)
                return .success(wakeups)
            case .responded(let current) where current == requestID:
                return .failure(.invalidTransition(from: storage.state.rapidName, to: target))
            default:
                return .failure(.invalidRequestID)
            }
        }
        try result.get().resume()
    }

    private func deliver(_ storage: inout Storage, _ request: InvocationRequest, _ timeout: Duration) -> Delivery {
        storage.pending = nil
        storage.delivered = (request, timeout)
        storage.deliveredAt = .now
        storage.state = .running(requestID: request.requestID)
        let components = timeout.components
        let nanoseconds = components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
        let requestID = request.requestID
        storage.deadline = timers.scheduleTask(in: .nanoseconds(nanoseconds)) { [self] in
            deadlineExpired(requestID: requestID)
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let epochMilliseconds = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
        return Delivery(request: request, deadlineEpochMilliseconds: epochMilliseconds + nanoseconds / 1_000_000)
    }

    private func deadlineExpired(requestID: String) {
        let wakeups = storage.withLock { storage -> Wakeups in
            var wakeups = Wakeups()
            guard storage.state == .running(requestID: requestID) else { return wakeups }
            storage.state = .responded(requestID: requestID)
            wakeups.result = finish(&storage, .timedOut)
            return wakeups
        }
        wakeups.resume()
    }

    private func finish(_ storage: inout Storage, _ kind: Outcome.Kind) -> (CheckedContinuation<Outcome, Never>, Outcome)? {
        storage.deadline?.cancel()
        storage.deadline = nil
        storage.pending = nil
        storage.delivered = nil
        guard let waiter = storage.resultWaiter else { return nil }
        storage.resultWaiter = nil
        let outcome = Outcome(kind: kind, deliveredAt: storage.deliveredAt, finishedAt: .now)
        storage.deliveredAt = nil
        return (waiter, outcome)
    }

    private func settleReadiness(_ storage: inout Storage, _ value: Readiness) -> (CheckedContinuation<Readiness, Never>, Readiness)? {
        guard storage.readiness == nil else { return nil }
        storage.readiness = value
        defer { storage.readinessWaiter = nil }
        return storage.readinessWaiter.map { ($0, value) }
    }
}
