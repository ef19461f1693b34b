/// The one error type of the load generator: a code, a message, and the underlying cause.
public struct LoadError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// A flag, file or condition the run cannot use.
        case usage
        /// The endpoint answered the pre-flight with ResourceNotFoundException.
        case functionNotFound
        /// No HTTP answer from the endpoint at all.
        case unreachable
    }

    public let code: Code
    public let message: String
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}
