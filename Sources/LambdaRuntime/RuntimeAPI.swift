import NIOCore

/// Wire constants of the Lambda Runtime API (version `2018-06-01`): paths and header names.
enum RuntimeAPI {
    /// Paths, relative to `http://${AWS_LAMBDA_RUNTIME_API}`.
    enum Path {
        static let prefix = "/2018-06-01/runtime"
        static let next = "\(prefix)/invocation/next"
        static let initError = "\(prefix)/init/error"

        static func response(requestID: String) -> String {
            "\(prefix)/invocation/\(requestID)/response"
        }

        static func error(requestID: String) -> String {
            "\(prefix)/invocation/\(requestID)/error"
        }
    }

    /// Header names, as the Runtime API spells them.
    enum Header {
        static let requestID = "Lambda-Runtime-Aws-Request-Id"
        static let deadline = "Lambda-Runtime-Deadline-Ms"
        static let invokedFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
        static let traceID = "Lambda-Runtime-Trace-Id"
        static let clientContext = "Lambda-Runtime-Client-Context"
        static let invocationID = "Lambda-Runtime-Invocation-Id"
        static let functionErrorType = "Lambda-Runtime-Function-Error-Type"
    }

    /// Environment variables the runtime reads once at start-up.
    enum Environment {
        static let runtimeAPI = "AWS_LAMBDA_RUNTIME_API"
        static let functionName = "AWS_LAMBDA_FUNCTION_NAME"
        static let functionVersion = "AWS_LAMBDA_FUNCTION_VERSION"
        static let memorySize = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
    }
}

/// What the runtime posts back to the Runtime API; `/next` is a call of its own because it returns an ``Invocation``.
enum RuntimeAPIReport: Sendable {
    /// The handler's result for an invocation.
    case response(Invocation, body: ByteBuffer, contentType: String?)
    /// The handler (or the runtime on its behalf) failed an invocation.
    case error(Invocation, ErrorResponse)
    /// The runtime failed before its first `/next`.
    case initError(ErrorResponse)
}
