import NIOCore

/// One invocation as the supervisor runs it: payload plus what the Runtime API hands the function.
public struct InvocationRequest: Sendable {
    /// The `AwsRequestId`, also returned to the caller as `x-amzn-RequestId`.
    public var requestID: String
    /// JSON payload bytes; an empty Invoke body has already become `{}`.
    public var payload: ByteBuffer
    /// The ARN the caller used, qualified if the caller qualified it.
    public var invokedFunctionARN: String
    /// Decoded JSON of the caller's `X-Amz-Client-Context`.
    public var clientContext: String?
    /// The X-Ray header value handed to the runtime as `Lambda-Runtime-Trace-Id`.
    public var traceID: String
    public var tenantID: String?
    /// Collect this invocation's log lines for `X-Amz-Log-Result`.
    public var wantsLogTail: Bool

    public init(
        requestID: String, payload: ByteBuffer, invokedFunctionARN: String, clientContext: String? = nil,
        traceID: String, tenantID: String? = nil, wantsLogTail: Bool = false
    ) {
        self.requestID = requestID
        self.payload = payload
        self.invokedFunctionARN = invokedFunctionARN
        self.clientContext = clientContext
        self.traceID = traceID
        self.tenantID = tenantID
        self.wantsLogTail = wantsLogTail
    }
}

/// What a synchronous invocation returns to its caller.
public struct InvocationResult: Sendable {
    /// The function's response, or the error JSON when `functionError` is set.
    public var payload: ByteBuffer
    public var contentType: String
    /// `Unhandled` when the function or its runtime failed (the HTTP status stays 200).
    public var functionError: String?
    /// The last 4 KB of this invocation's log when the request asked for it.
    public var logTail: String?
    public var executedVersion: String

    public init(
        payload: ByteBuffer, contentType: String = "application/json", functionError: String? = nil,
        logTail: String? = nil, executedVersion: String = "$LATEST"
    ) {
        self.payload = payload
        self.contentType = contentType
        self.functionError = functionError
        self.logTail = logTail
        self.executedVersion = executedVersion
    }
}

/// The seam between the Invoke API (and async dispatch) and whatever runs functions.
public protocol Invoker: Sendable {
    /// Runs one invocation to completion. Function failures are results, not throws;
    /// throws ``InvokeError`` only when the host could not run the function at all.
    func invoke(_ function: FunctionConfiguration, _ request: InvocationRequest) async throws -> InvocationResult

    /// As ``invoke(_:_:)``, choosing what happens when no concurrency is free: throw
    /// ``InvokeError/Code/throttled(_:)`` at once, or wait for capacity.
    func invoke(_ function: FunctionConfiguration, _ request: InvocationRequest, admission: InvocationAdmission)
        async throws -> InvocationResult

    /// The fast path of a synchronous invocation, for callers on an event loop: when it can start
    /// at once on a warm worker within the concurrency limits, starts it and returns true, and
    /// `completion` gets the result (on any thread); otherwise returns false, calls nothing, and
    /// the caller takes ``invoke(_:_:)``.
    func invokeIfWarm(
        _ function: FunctionConfiguration, _ request: InvocationRequest,
        completion: @escaping @Sendable (InvocationResult) -> Void
    ) -> Bool
}

extension Invoker {
    /// Invokers without warm workers never take the fast path.
    public func invokeIfWarm(
        _ function: FunctionConfiguration, _ request: InvocationRequest,
        completion: @escaping @Sendable (InvocationResult) -> Void
    ) -> Bool {
        false
    }

    /// Invokers without a concurrency limit admit everything.
    public func invoke(_ function: FunctionConfiguration, _ request: InvocationRequest, admission: InvocationAdmission)
        async throws -> InvocationResult
    {
        try await invoke(function, request)
    }
}

/// Why the host could not run an invocation (function failures are never this).
public struct InvokeError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The host is stopping and accepts no new work.
        case shuttingDown
        /// A worker process could not be started.
        case spawnFailed
        /// No concurrency was free for a synchronous invocation (a 429 at the HTTP edge).
        case throttled(ThrottleReason)
        /// Admitted only after the `startBy` of ``InvocationAdmission/waitForCapacity(startBy:)``: not run.
        case expiredWhileWaiting
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
