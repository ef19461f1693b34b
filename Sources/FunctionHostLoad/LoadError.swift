/// The one error type of the load generator: a code, a message, and the underlying cause.
public struct LoadError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case usage
        case functionNotFound
        case unreachable
        case io
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
