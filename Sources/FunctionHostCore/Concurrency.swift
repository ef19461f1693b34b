/// Why a synchronous invocation was throttled: the `Reason` of a 429 `TooManyRequestsException`,
/// spelled as AWS sends it.
public enum ThrottleReason: String, Sendable, Hashable {
    /// The function's reserved concurrency is in use (or is 0).
    case reservedFunctionLimit = "ReservedFunctionConcurrentInvocationLimitExceeded"
    /// The account's unreserved pool is in use.
    case accountLimit = "ConcurrentInvocationLimitExceeded"
}

/// What an ``Invoker`` does with an invocation that finds no free concurrency.
public enum InvocationAdmission: Sendable, Hashable {
    /// Fail at once with ``InvokeError/Code/throttled(_:)`` (synchronous `RequestResponse` invokes).
    case rejectWhenFull
    /// Wait until capacity frees up (async `Event` and event-source work: never dropped, never failed).
    /// An invocation admitted after `startBy` (host-clock epoch seconds) is not run: it throws
    /// ``InvokeError/Code/expiredWhileWaiting`` (an event that outlived its maximum age waiting).
    case waitForCapacity(startBy: Double?)
}

/// Provisioned concurrency of one function as `GetProvisionedConcurrencyConfig` reports it.
public struct ProvisionedConcurrencyStatus: Sendable, Hashable {
    /// The qualifier the configuration was put on (the template's alias, or what the caller gave).
    public var qualifier: String
    public var requested: Int
    /// Workers started, initialised and not (yet) lost.
    public var allocated: Int
    /// `LastModified` as an ISO-8601 string (`YYYY-MM-DDThh:mm:ss.sss+0000`).
    public var lastModified: String
    /// Why the requested workers could not be started after a few tries (`FAILED` with `StatusReason`).
    public var failureReason: String?

    public init(qualifier: String, requested: Int, allocated: Int, lastModified: String) {
        self.qualifier = qualifier
        self.requested = requested
        self.allocated = allocated
        self.lastModified = lastModified
    }

    /// `READY` once every requested worker is allocated, `FAILED` when starting them gave up, else `IN_PROGRESS`.
    public var status: String {
        if allocated >= requested { return "READY" }
        return failureReason == nil ? "IN_PROGRESS" : "FAILED"
    }
}

/// A concurrency setting the account cannot take (the control plane answers it as
/// `InvalidParameterValueException` with this message).
public struct ConcurrencyConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The run-time side of the concurrency settings: what `Put/Get/DeleteFunctionConcurrency`,
/// `Put/Get/DeleteProvisionedConcurrencyConfig` and `GetAccountSettings` read and change.
///
/// Functions are named by their function name; callers have resolved the name already.
public protocol ConcurrencyControl: Sendable {
    /// The account-wide limit on concurrent executions (`--max-concurrency`).
    var accountLimit: Int { get }
    /// The account limit minus every function's reserved concurrency.
    func unreservedConcurrency() -> Int
    /// The function's reserved concurrency, or `nil` when it draws from the unreserved pool.
    func reservedConcurrency(of functionName: String) -> Int?
    /// Invocations of the function waiting for capacity (``InvocationAdmission/waitForCapacity(startBy:)``).
    func invocationsWaitingForCapacity(of functionName: String) -> Int
    /// Sets (or with `nil` removes) the reserved concurrency. Throws when the unreserved pool
    /// would fall below its minimum.
    func setReservedConcurrency(_ value: Int?, of functionName: String) throws(ConcurrencyConfigurationError)
    /// The provisioned concurrency configuration, or `nil` when none is set.
    func provisionedConcurrency(of functionName: String) async -> ProvisionedConcurrencyStatus?
    /// Sets (or with `nil` removes) provisioned concurrency; workers start in the background.
    func setProvisionedConcurrency(_ value: Int?, qualifier: String, of functionName: String) async throws(
        ConcurrencyConfigurationError
    ) -> ProvisionedConcurrencyStatus?
}

extension InvokeError {
    /// The throttle reason when this error is a throttle.
    public var throttleReason: ThrottleReason? {
        if case .throttled(let reason) = code { return reason }
        return nil
    }
}
