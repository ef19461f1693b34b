import FunctionHostCore
import Foundation
import NIOCore

/// The Runtime API state of one execution environment: hands one invocation at a time to the
/// function process and collects its answer.
///
/// The host side calls ``waitUntilReady()``, ``invoke(_:timeout:)`` and ``close()``; the
/// per-worker listener calls the `runtime…` methods. Every continuation is resumed exactly
/// once, and a runtime that breaks the protocol gets a ``RuntimeAPIError`` (a 4xx), never a
/// crash. Deadlines start when the event is delivered to `/next`, as on Lambda.
public actor RuntimeMailbox {
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
        /// Answered; waiting for `/next` (`RuntimeResponseSent`).
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
        public enum Kind: Sendable {
            case response(payload: ByteBuffer, contentType: String)
            case error(payload: ByteBuffer, errorType: String?)
            case responseTooLarge
            case timedOut
            /// The environment closed (the process exited) while it held the invocation.
            case closed
        }

        public var kind: Kind
        public var deliveredAt: ContinuousClock.Instant?
        public var finishedAt: ContinuousClock.Instant
    }

    /// Largest `/response` body accepted: 6 MiB + 100 bytes, as RAPID enforces.
    public static let maximumResponseSize = 6 * 1024 * 1024 + 100

    private var state: State = .started
    private var parkedNext: CheckedContinuation<Delivery?, Never>?
    private var readinessWaiter: CheckedContinuation<Readiness, Never>?
    private var readiness: Readiness?
    private var pending: (request: InvocationRequest, timeout: Duration)?
    private var resultWaiter: CheckedContinuation<Outcome, Never>?
    private var deliveredAt: ContinuousClock.Instant?
    private var deadlineTask: Task<Void, Never>?
    private let clock = ContinuousClock()

    public init() {}

    // MARK: Host side

    /// Waits for the runtime's first `/next` (or its init failure, or its exit).
    public func waitUntilReady() async -> Readiness {
        if let readiness { return readiness }
        return await withCheckedContinuation { readinessWaiter = $0 }
    }

    /// Runs one invocation; the caller must have seen ``Readiness/ready`` and must not overlap calls.
    public func invoke(_ request: InvocationRequest, timeout: Duration) async -> Outcome {
        switch state {
        case .ready, .responded: break
        default: return Outcome(kind: .closed, deliveredAt: nil, finishedAt: clock.now)
        }
        pending = (request, timeout)
        state = .assigned
        if let parked = parkedNext {
            parkedNext = nil
            parked.resume(returning: deliver())
        }
        return await withCheckedContinuation { resultWaiter = $0 }
    }

    /// The environment is gone: every waiter is answered and further runtime calls are refused.
    public func close() {
        guard state != .closed else { return }
        state = .closed
        finish(.closed)
        settleReadiness(.closed)
        parkedNext?.resume(returning: nil)
        parkedNext = nil
    }

    // MARK: Runtime side

    /// `GET /next`: returns the next event, parking until there is one; `nil` when closed.
    func runtimeNext() async throws(RuntimeAPIError) -> Delivery? {
        switch state {
        case .started:
            state = .ready
            settleReadiness(.ready)
        case .responded:
            state = .ready
        case .assigned:
            return deliver()
        case .ready, .running:
            break
        case .initFailed:
            throw .invalidTransition(from: state.rapidName, to: "Ready")
        case .closed:
            return nil
        }
        guard parkedNext == nil else { throw .invalidTransition(from: "Ready", to: "Ready") }
        return await withCheckedContinuation { parkedNext = $0 }
    }

    /// `POST /invocation/{id}/response`.
    func runtimeResponse(requestID: String, payload: ByteBuffer?, contentType: String) throws(RuntimeAPIError) {
        try acceptAnswer(for: requestID, target: "InvocationResponse")
        if let payload {
            finish(.response(payload: payload, contentType: contentType))
        } else {
            finish(.responseTooLarge)
            throw .tooLarge
        }
    }

    /// `POST /invocation/{id}/error`.
    func runtimeError(requestID: String, payload: ByteBuffer, errorType: String?) throws(RuntimeAPIError) {
        try acceptAnswer(for: requestID, target: "InvocationErrorResponse")
        finish(.error(payload: payload, errorType: errorType))
    }

    /// `POST /init/error`: accepted only before the first `/next`.
    func runtimeInitError(payload: ByteBuffer, errorType: String?) throws(RuntimeAPIError) {
        guard state == .started else { throw .invalidTransition(from: state.rapidName, to: "InitError") }
        state = .initFailed
        settleReadiness(.initError(payload: payload, errorType: errorType))
    }

    // MARK: Internals

    private func acceptAnswer(for requestID: String, target: String) throws(RuntimeAPIError) {
        switch state {
        case .running(let current) where current == requestID:
            state = .responded(requestID: requestID)
        case .responded(let current) where current == requestID:
            throw .invalidTransition(from: state.rapidName, to: target)
        default:
            throw .invalidRequestID
        }
    }

    private func deliver() -> Delivery? {
        guard let (request, timeout) = pending else { return nil }
        pending = nil
        let now = clock.now
        deliveredAt = now
        state = .running(requestID: request.requestID)
        let epochNow = Int64(Date().timeIntervalSince1970 * 1000)
        let components = timeout.components
        let timeoutMilliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        let requestID = request.requestID
        deadlineTask = Task { [clock] in
            try? await clock.sleep(until: now.advanced(by: timeout))
            self.deadlineExpired(requestID: requestID)
        }
        return Delivery(request: request, deadlineEpochMilliseconds: epochNow + timeoutMilliseconds)
    }

    private func deadlineExpired(requestID: String) {
        guard !Task.isCancelled, state == .running(requestID: requestID) else { return }
        state = .responded(requestID: requestID)
        finish(.timedOut)
    }

    private func finish(_ kind: Outcome.Kind) {
        deadlineTask?.cancel()
        deadlineTask = nil
        pending = nil
        guard let waiter = resultWaiter else { return }
        resultWaiter = nil
        waiter.resume(returning: Outcome(kind: kind, deliveredAt: deliveredAt, finishedAt: clock.now))
        deliveredAt = nil
    }

    private func settleReadiness(_ value: Readiness) {
        guard readiness == nil else { return }
        readiness = value
        readinessWaiter?.resume(returning: value)
        readinessWaiter = nil
    }
}
