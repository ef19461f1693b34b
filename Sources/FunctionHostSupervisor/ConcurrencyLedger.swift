import FunctionHostCore

/// Lambda's concurrency accounting for one account, as a pure state machine.
///
/// A function with reserved concurrency `R` runs at most `R` invocations at once and never
/// draws from the shared pool; every other function shares the unreserved pool, which is the
/// account limit minus all reservations. Reservations must leave ``minimumUnreserved`` in the
/// pool (Lambda keeps 100; a local limit below 100 keeps all of it, as a new AWS account with
/// a limit of 10 cannot reserve anything either).
///
/// Work that must not be throttled (async, event sources) waits in a FIFO; a waiter whose
/// function has no room does not hold up waiters of other functions. Methods return the
/// waiters they admitted; the owner resumes them. Not thread-safe: the owner serialises calls.
struct ConcurrencyLedger: Sendable {
    /// Identifies one waiting invocation.
    typealias WaiterID = UInt64

    /// What ``acquireOrWait(_:)`` decided.
    enum WaitDecision: Sendable, Hashable {
        case admitted
        case wait(WaiterID)
    }

    let accountLimit: Int
    private(set) var reserved: [String: Int] = [:]
    private(set) var inFlight: [String: Int] = [:]
    private(set) var totalInFlight = 0
    private var waiters: [(id: WaiterID, function: String)] = []
    private var nextWaiterID: WaiterID = 0

    /// What must stay unreserved: Lambda's 100, or the whole limit when it is smaller.
    var minimumUnreserved: Int { min(100, accountLimit) }

    /// - Throws: when `reserved` leaves less than ``minimumUnreserved`` unreserved.
    init(accountLimit: Int, reserved: [String: Int] = [:]) throws(ConcurrencyConfigurationError) {
        self.accountLimit = accountLimit
        for (function, value) in reserved.sorted(by: { $0.key < $1.key }) {
            _ = try setReserved(value, for: function)
        }
    }

    /// The size of the pool shared by functions without a reservation.
    var unreservedLimit: Int { accountLimit - reserved.values.reduce(0, +) }

    var unreservedInFlight: Int {
        totalInFlight - reserved.keys.reduce(0) { $0 + (inFlight[$1] ?? 0) }
    }

    var waiting: Int { waiters.count }

    /// Invocations of `function` waiting for capacity.
    func waiting(for function: String) -> Int { waiters.reduce(0) { $0 + ($1.function == function ? 1 : 0) } }

    /// `nil` if one more invocation of `function` fits now, else why not.
    func check(_ function: String) -> ThrottleReason? {
        if let limit = reserved[function] {
            return (inFlight[function] ?? 0) < limit ? nil : .reservedFunctionLimit
        }
        return unreservedInFlight < unreservedLimit ? nil : .accountLimit
    }

    /// Counts one invocation in if it fits; otherwise returns why not and counts nothing.
    mutating func acquire(_ function: String) -> ThrottleReason? {
        if let reason = check(function) { return reason }
        inFlight[function, default: 0] += 1
        totalInFlight += 1
        return nil
    }

    /// Counts one invocation in if it fits; otherwise queues it (it is counted in when admitted).
    mutating func acquireOrWait(_ function: String) -> WaitDecision {
        if acquire(function) == nil { return .admitted }
        nextWaiterID += 1
        waiters.append((nextWaiterID, function))
        return .wait(nextWaiterID)
    }

    /// Counts one finished invocation out; returns the waiters that now fit (already counted in).
    mutating func release(_ function: String) -> [WaiterID] {
        precondition((inFlight[function] ?? 0) > 0, "release without acquire for \(function)")
        inFlight[function]! -= 1
        if inFlight[function] == 0 { inFlight[function] = nil }
        totalInFlight -= 1
        return admitWaiters()
    }

    /// Removes a waiter; `false` when it is no longer waiting (it was admitted and must be released).
    mutating func cancelWait(_ id: WaiterID) -> Bool {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return false }
        waiters.remove(at: index)
        return true
    }

    /// Sets or removes a reservation; returns the waiters it admitted.
    /// - Throws: when the unreserved pool would fall below ``minimumUnreserved``; nothing changes then.
    mutating func setReserved(_ value: Int?, for function: String) throws(ConcurrencyConfigurationError)
        -> [WaiterID]
    {
        if let value {
            guard value >= 0 else { throw ConcurrencyConfigurationError("ReservedConcurrentExecutions must be at least 0") }
            let others = reserved.filter { $0.key != function }.values.reduce(0, +)
            guard accountLimit - others - value >= minimumUnreserved else {
                throw ConcurrencyConfigurationError(
                    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [\(minimumUnreserved)]."
                )
            }
        }
        reserved[function] = value
        return admitWaiters()
    }

    private mutating func admitWaiters() -> [WaiterID] {
        var admitted: [WaiterID] = []
        var index = 0
        while index < waiters.count {
            if acquire(waiters[index].function) == nil {
                admitted.append(waiters[index].id)
                waiters.remove(at: index)
            } else {
                index += 1
            }
        }
        return admitted
    }
}
