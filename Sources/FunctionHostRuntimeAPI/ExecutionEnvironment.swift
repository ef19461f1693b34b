import FunctionHostCore
import NIOCore

/// The Runtime API lifecycle of one execution environment, as a pure state machine: started →
/// ready → (assigned →) running → responded → ready …, or init failed, or closed.
///
/// Each event — the host's invoke and close, the runtime's `/next`, answers, init error, a
/// withdrawn or undelivered `/next`, an expired deadline — returns the ``Effect``s its owner,
/// ``RuntimeMailbox``, carries out (answer a `/next`, start or cancel a deadline, settle the
/// readiness, finish the invocation) or the ``RuntimeAPIError`` the runtime gets (a 4xx). Times,
/// timers and continuations belong to the owner. Not thread-safe: the owner serialises calls.
struct ExecutionEnvironment: Sendable {
    /// States named as RAPID names them, for `InvalidStateTransition` messages.
    enum State: Sendable, Equatable {
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

    /// An invocation given to the environment, with its timeout (counted from its delivery).
    struct Assignment: Sendable {
        var request: InvocationRequest
        var timeout: Duration
    }

    /// What the owner does after an event.
    enum Effect: Sendable {
        /// Answer the `/next` being handled with this event and start its deadline.
        case deliver(Assignment)
        /// Answer the parked `/next` with this event and start its deadline.
        case deliverToParked(Assignment)
        /// Answer the `/next` being handled with this error.
        case refuse(RuntimeAPIError)
        /// Answer the parked `/next` with this error.
        case refuseParked(RuntimeAPIError)
        /// Keep the `/next` being handled until there is an event, under this ticket.
        case park(RuntimeMailbox.NextTicket)
        /// The runtime asked for its first event, failed its init, or is gone (settled once).
        case settle(RuntimeMailbox.Readiness)
        /// The invocation ended: cancel its deadline, answer the host.
        case finish(RuntimeMailbox.Outcome.Kind)
        /// The delivered event goes back to waiting: cancel its deadline, it was never delivered.
        case cancelDeadline
    }

    private(set) var state = State.started
    /// The `/next` waiting for an event.
    private(set) var parked: RuntimeMailbox.NextTicket?
    private var ticketsIssued: UInt64 = 0
    private var readinessSettled = false
    /// The invocation waiting for a `/next`.
    private var pending: Assignment?
    /// The invocation handed to `/next`, until it is answered: given back if its connection could not take it.
    private var delivered: Assignment?

    // MARK: Host side

    /// The host runs one invocation (it saw the environment ready and does not overlap calls).
    mutating func invoke(_ assignment: Assignment) -> [Effect] {
        switch state {
        case .ready, .responded:
            if parked != nil {
                parked = nil
                return [.deliverToParked(deliver(assignment))]
            }
            pending = assignment
            state = .assigned
            return []
        default:
            return [.finish(.closed)]
        }
    }

    /// The environment is gone: whatever waits is answered, later runtime calls are refused.
    mutating func close() -> [Effect] {
        guard state != .closed else { return [] }
        state = .closed
        var effects = [finish(.closed)] + settle(.closed)
        if parked != nil {
            parked = nil
            effects.append(.refuseParked(.environmentClosed))
        }
        return effects
    }

    // MARK: Runtime side

    /// `GET /next`.
    mutating func next() -> [Effect] {
        var effects: [Effect] = []
        switch state {
        case .started:
            state = .ready
            effects = settle(.ready)
        case .responded:
            state = .ready
        case .assigned:
            if let pending { return [.deliver(deliver(pending))] }
        case .ready, .running:
            break
        case .initFailed:
            return [.refuse(.invalidTransition(from: state.rapidName, to: "Ready"))]
        case .closed:
            return [.refuse(.environmentClosed)]
        }
        guard parked == nil else { return effects + [.refuse(.invalidTransition(from: "Ready", to: "Ready"))] }
        ticketsIssued += 1
        let ticket = RuntimeMailbox.NextTicket(number: ticketsIssued)
        parked = ticket
        return effects + [.park(ticket)]
    }

    /// The connection of a parked `/next` closed: true when it was the parked one (now forgotten).
    mutating func withdraw(_ ticket: RuntimeMailbox.NextTicket) -> Bool {
        guard parked == ticket else { return false }
        parked = nil
        return true
    }

    /// The event given to a `/next` never reached the runtime: it waits for the next `/next`.
    mutating func returnUndelivered(requestID: String) -> [Effect] {
        guard state == .running(requestID: requestID), let delivered else { return [] }
        self.delivered = nil
        pending = delivered
        state = .assigned
        return [.cancelDeadline]
    }

    /// `/response` or `/error` (`target` names it for error messages), or a body cut off.
    mutating func answer(requestID: String, target: String, _ kind: RuntimeMailbox.Outcome.Kind) -> Result<[Effect], RuntimeAPIError> {
        switch state {
        case .running(let current) where current == requestID:
            state = .responded(requestID: requestID)
            return .success([finish(kind)])
        case .responded(let current) where current == requestID:
            return .failure(.invalidTransition(from: state.rapidName, to: target))
        default:
            return .failure(.invalidRequestID)
        }
    }

    /// `POST /init/error`: accepted only before the first `/next`.
    mutating func initError(_ readiness: RuntimeMailbox.Readiness) -> Result<[Effect], RuntimeAPIError> {
        guard state == .started else { return .failure(.invalidTransition(from: state.rapidName, to: "InitError")) }
        state = .initFailed
        return .success(settle(readiness))
    }

    /// The deadline of `requestID` passed.
    mutating func deadlineExpired(requestID: String) -> [Effect] {
        guard state == .running(requestID: requestID) else { return [] }
        state = .responded(requestID: requestID)
        return [finish(.timedOut)]
    }

    // MARK: Helpers

    private mutating func deliver(_ assignment: Assignment) -> Assignment {
        pending = nil
        delivered = assignment
        state = .running(requestID: assignment.request.requestID)
        return assignment
    }

    private mutating func finish(_ kind: RuntimeMailbox.Outcome.Kind) -> Effect {
        pending = nil
        delivered = nil
        return .finish(kind)
    }

    private mutating func settle(_ readiness: RuntimeMailbox.Readiness) -> [Effect] {
        guard !readinessSettled else { return [] }
        readinessSettled = true
        return [.settle(readiness)]
    }
}
