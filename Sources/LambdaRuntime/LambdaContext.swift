import Foundation

/// What a handler knows about the invocation it is serving and the function it runs in.
///
/// A value type, safe to pass to child tasks; `remainingTime` reads the wall clock each time.
public struct LambdaContext: Sendable {
    /// `Lambda-Runtime-Aws-Request-Id` of this invocation.
    public let requestID: String
    /// When the host gives up on this invocation.
    public let deadline: Date
    /// The ARN the caller used, with its `:alias` or `:version` suffix if it had one.
    public let invokedFunctionARN: String
    /// The X-Ray trace header, when the host sent one.
    public let traceID: String?
    /// The caller's client context as JSON text, when it sent one.
    public let clientContext: String?
    /// The per-attempt id, when the host sent one.
    public let invocationID: String?
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    public let functionName: String
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    public let functionVersion: String
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    public let memoryLimitInMB: Int

    init(_ invocation: Invocation, environment: LambdaEnvironment) {
        self.requestID = invocation.requestID
        self.deadline = Date(timeIntervalSince1970: Double(invocation.deadlineMilliseconds) / 1000)
        self.invokedFunctionARN = invocation.invokedFunctionARN
        self.traceID = invocation.traceID
        self.clientContext = invocation.clientContext
        self.invocationID = invocation.invocationID
        self.functionName = environment.functionName
        self.functionVersion = environment.functionVersion
        self.memoryLimitInMB = environment.memoryLimitInMB
    }

    /// Time left until ``deadline``; zero once it has passed.
    public var remainingTime: Duration {
        .seconds(max(0, deadline.timeIntervalSinceNow))
    }

    /// Writes one line to stdout in the managed runtimes' format: `<ISO8601 time>\t<request id>\tINFO\t<message>`.
    public func log(_ message: String) {
        let time = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date.now)
        print("\(time)\t\(requestID)\tINFO\t\(message)")
    }
}
