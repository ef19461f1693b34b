/// The one error type of the runtime client: a bad environment, a broken Runtime API exchange, or an event or
/// result the JSON layer could not convert.
///
/// `message` is what goes out as `errorMessage`; `code.errorType` is the `errorType` when the error is reported.
public struct LambdaRuntimeError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in a form callers can compare against (`error.code == .unmarshal`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case missingRuntimeAPIAddress
            case invalidEnvironment
            case invalidInvocation
            case unexpectedStatus
            case connectionFailed
            case unmarshal
            case marshal
        }

        private let base: Base

        /// `AWS_LAMBDA_RUNTIME_API` is not set, so there is nobody to report to.
        public static let missingRuntimeAPIAddress = Self(base: .missingRuntimeAPIAddress)
        /// An `AWS_LAMBDA_*` variable is present but unusable.
        public static let invalidEnvironment = Self(base: .invalidEnvironment)
        /// `/next` answered without a header the runtime needs (the message names it).
        public static let invalidInvocation = Self(base: .invalidInvocation)
        /// The Runtime API answered with a status the runtime did not expect.
        public static let unexpectedStatus = Self(base: .unexpectedStatus)
        /// The HTTP exchange with the Runtime API failed.
        public static let connectionFailed = Self(base: .connectionFailed)
        /// The event is not JSON of the handler's event type.
        public static let unmarshal = Self(base: .unmarshal)
        /// The handler's result could not be encoded as JSON.
        public static let marshal = Self(base: .marshal)

        /// The AWS `errorType` this code is reported as.
        public var errorType: String {
            switch base {
            case .unmarshal: "Runtime.UnmarshalError"
            case .marshal: "Runtime.MarshalError"
            case .invalidEnvironment, .missingRuntimeAPIAddress: "Runtime.InvalidEnvironment"
            case .invalidInvocation, .unexpectedStatus, .connectionFailed: "Runtime.Unknown"
            }
        }

        public var description: String { "\(base)" }
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { "\(code): \(message) (\(underlying))" } else { "\(code): \(message)" }
    }
}
