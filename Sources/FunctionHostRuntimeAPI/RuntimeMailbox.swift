import FunctionHostCore
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The Runtime API of one execution environment, carried out: hands one invocation at a time to
/// the function process and collects its answer. Every decision is ``ExecutionEnvironment``'s;
/// this class holds what carries them out (the parked `/next` reply, continuations, the deadline
/// and its timer, the delivery time).
///
/// The host side calls ``whenReady(_:)``, ``invoke(_:timeout:completion:)`` (or their async
/// forms) and ``close()``; the per-worker listener calls the `runtime…` methods. Every callback
/// and reply is called exactly once, always outside the lock, and a runtime that breaks the protocol gets a
/// ``RuntimeAPIError`` (a 4xx), never a crash. Deadlines start when the event is delivered to
/// `/next`, as on Lambda. A lock rather than an actor: this is on every invoke's path, and the
/// hops an actor adds were measurable there.
///
/// A connection that goes away loses nothing: a parked `/next` whose connection closed is
/// withdrawn (``withdrawNext(_:)``), an event its connection could not take is handed to the next
/// `/next` (``returnUndelivered(requestID:)``), and a response cut off mid-body fails the
/// invocation (``runtimeAnswerTruncated(requestID:)``) instead of returning what arrived.
public final class RuntimeMailbox: Sendable {
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

    /// Told how initialisation ended.
    public typealias ReadinessCallback = @Sendable (Readiness) -> Void
    /// Told how an invocation ended, on the thread that ended it (usually the worker's event loop).
    public typealias Completion = @Sendable (Outcome) -> Void

    private struct Storage: ~Copyable {
        /// Every decision; the rest is what carries them out.
        var environment = ExecutionEnvironment()
        var parkedReply: NextReply?
        var readinessWaiter: ReadinessCallback?
        var readiness: Readiness?
        var resultWaiter: Completion?
        var deliveredAt: ContinuousClock.Instant?
        /// The delivered event's deadline.
        var deadline: (requestID: String, at: NIODeadline)?
        /// The one timer that watches ``deadline``, due no later than it. It outlives the
        /// invocations that end first (most do, long before their deadline) and, when it comes
        /// due early, is set again for the deadline then current: no timer per invoke.
        var timer: DeadlineTimer?
        /// Timers set so far: each is numbered, so one cancelled too late finds it is not current.
        var timersSet: UInt64 = 0
    }

    private struct DeadlineTimer {
        var scheduled: Scheduled<Void>
        var due: NIODeadline
        var number: UInt64
    }

    /// Callbacks and replies to call once the lock is released.
    private struct Wakeups: ~Copyable {
        var next: (NextReply, Result<Delivery, RuntimeAPIError>)?
        var readiness: (ReadinessCallback, Readiness)?
        var result: (Completion, Outcome)?

        consuming func resume() {
            if let (reply, value) = next { reply(value) }
            if let (waiter, value) = readiness { waiter(value) }
            if let (waiter, value) = result { waiter(value) }
        }
    }

    private let storage = Mutex(Storage())
    /// Where the deadline timer runs, and the clock deadlines are read on: a NIO timer is far
    /// cheaper than a sleeping task.
    private let timers: any EventLoop

    public init(timers: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        self.timers = timers
    }

    // MARK: Host side

    /// Calls `callback` once the runtime asked for its first event (or failed its init, or exited);
    /// at once if that already happened.
    public func whenReady(_ callback: @escaping ReadinessCallback) {
        let settled: Readiness? = storage.withLock { storage in
            if let readiness = storage.readiness { return readiness }
            storage.readinessWaiter = callback
            return nil
        }
        if let settled { callback(settled) }
    }

    /// Waits for the runtime's first `/next` (or its init failure, or its exit).
    public func waitUntilReady() async -> Readiness {
        await withCheckedContinuation { waiter in whenReady { waiter.resume(returning: $0) } }
    }

    /// Runs one invocation and calls `completion` once with how it ended; the caller must have
    /// seen ``Readiness/ready`` and must not overlap calls. No thread hop of its own: the event is
    /// written from the caller's thread, the answer reported from the worker's event loop.
    public func invoke(_ request: InvocationRequest, timeout: Duration, completion: @escaping Completion) {
        storage.withLock { storage -> Wakeups in
            storage.resultWaiter = completion
            let effects = storage.environment.invoke(ExecutionEnvironment.Assignment(request: request, timeout: timeout))
            return carryOut(effects, &storage)
        }.resume()
    }

    /// Runs one invocation (see ``invoke(_:timeout:completion:)``).
    public func invoke(_ request: InvocationRequest, timeout: Duration) async -> Outcome {
        await withCheckedContinuation { waiter in invoke(request, timeout: timeout) { waiter.resume(returning: $0) } }
    }

    /// The environment is gone: every waiter is answered and further runtime calls are refused.
    public func close() {
        storage.withLock { storage in
            storage.timer.take()?.scheduled.cancel()
            return carryOut(storage.environment.close(), &storage)
        }.resume()
    }

    // MARK: Runtime side

    /// `GET /next`: `reply` gets the next event, at once or when there is one (the call is then
    /// parked, and the returned ticket names it), or the error to answer with.
    func runtimeNext(reply: @escaping NextReply) -> NextTicket? {
        var ticket: NextTicket?
        storage.withLock { storage -> Wakeups in
            let effects = storage.environment.next()
            for case .park(let parked) in effects { ticket = parked }
            return carryOut(effects, &storage, reply: reply)
        }.resume()
        return ticket
    }

    /// The connection of a parked `/next` closed: the runtime may call `/next` again.
    func withdrawNext(_ ticket: NextTicket) {
        storage.withLock { storage in
            if storage.environment.withdraw(ticket) { storage.parkedReply = nil }
        }
    }

    /// True while a `/next` waits for an event.
    var isNextParked: Bool { storage.withLock { $0.environment.parked != nil } }

    /// The event given to a `/next` never reached the runtime (its connection had closed): the
    /// invocation waits for the next `/next`, its deadline not started.
    func returnUndelivered(requestID: String) {
        storage.withLock { storage in
            carryOut(storage.environment.returnUndelivered(requestID: requestID), &storage)
        }.resume()
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
        let result = storage.withLock { storage in
            storage.environment.initError(.initError(payload: payload, errorType: errorType)).map { carryOut($0, &storage) }
        }
        try result.get().resume()
    }

    // MARK: Carrying out decisions (with the lock held; wake-ups are resumed after it)

    private func answer(requestID: String, target: String, _ kind: Outcome.Kind) throws(RuntimeAPIError) {
        let result = storage.withLock { storage in
            storage.environment.answer(requestID: requestID, target: target, kind).map { carryOut($0, &storage) }
        }
        try result.get().resume()
    }

    /// The timer numbered `number` came due: the deadline has passed, or it is set again for it.
    private func timerDue(_ number: UInt64) {
        storage.withLock { storage -> Wakeups in
            guard storage.timer?.number == number else { return Wakeups() }
            storage.timer = nil
            guard let deadline = storage.deadline else { return Wakeups() }
            guard deadline.at <= timers.now else {
                setTimer(&storage, due: deadline.at)
                return Wakeups()
            }
            return carryOut(storage.environment.deadlineExpired(requestID: deadline.requestID), &storage)
        }.resume()
    }

    private func setTimer(_ storage: inout Storage, due: NIODeadline) {
        storage.timer?.scheduled.cancel()
        storage.timersSet += 1
        let number = storage.timersSet
        let scheduled = timers.scheduleTask(deadline: due) { [self] in timerDue(number) }
        storage.timer = DeadlineTimer(scheduled: scheduled, due: due, number: number)
    }

    /// `reply` is the `/next` being handled, if the event is one.
    private func carryOut(_ effects: [ExecutionEnvironment.Effect], _ storage: inout Storage, reply: NextReply? = nil) -> Wakeups {
        var wakeups = Wakeups()
        for effect in effects {
            switch effect {
            case .deliver(let assignment):
                if let reply { wakeups.next = (reply, .success(startDeadline(&storage, assignment))) }
            case .deliverToParked(let assignment):
                if let parked = storage.parkedReply.take() {
                    wakeups.next = (parked, .success(startDeadline(&storage, assignment)))
                }
            case .refuse(let error):
                if let reply { wakeups.next = (reply, .failure(error)) }
            case .refuseParked(let error):
                if let parked = storage.parkedReply.take() { wakeups.next = (parked, .failure(error)) }
            case .park:
                storage.parkedReply = reply
            case .settle(let readiness):
                storage.readiness = readiness
                if let waiter = storage.readinessWaiter.take() { wakeups.readiness = (waiter, readiness) }
            case .finish(let kind):
                storage.deadline = nil
                if let waiter = storage.resultWaiter.take() {
                    wakeups.result = (waiter, Outcome(kind: kind, deliveredAt: storage.deliveredAt, finishedAt: .now))
                }
                storage.deliveredAt = nil
            case .cancelDeadline:
                storage.deadline = nil
                storage.deliveredAt = nil
            }
        }
        return wakeups
    }

    /// The event leaves now: its deadline starts, and the runtime is told when it falls.
    private func startDeadline(_ storage: inout Storage, _ assignment: ExecutionEnvironment.Assignment) -> Delivery {
        storage.deliveredAt = .now
        let components = assignment.timeout.components
        let nanoseconds = components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
        let due = timers.now + .nanoseconds(nanoseconds)
        storage.deadline = (assignment.request.requestID, due)
        // A timer already set that comes due first looks at this deadline then.
        if storage.timer.map({ $0.due > due }) ?? true { setTimer(&storage, due: due) }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let epochMilliseconds = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
        return Delivery(request: assignment.request, deadlineEpochMilliseconds: epochMilliseconds + nanoseconds / 1_000_000)
    }
}
