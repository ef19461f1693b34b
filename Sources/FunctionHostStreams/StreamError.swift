/// Every failure of the embedded stream: a Kinesis error code and a message.
///
/// The Kinesis endpoint turns it into the JSON error shape (`__type`, `message`, status 400, or
/// 500 for `InternalFailure`); other callers see it as a plain error.
public struct StreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The Kinesis error codes the engine and endpoint raise.
    public enum Code: String, Sendable, Hashable {
        case resourceNotFound = "ResourceNotFoundException"
        case resourceInUse = "ResourceInUseException"
        case invalidArgument = "InvalidArgumentException"
        case limitExceeded = "LimitExceededException"
        case expiredIterator = "ExpiredIteratorException"
        case expiredNextToken = "ExpiredNextTokenException"
        case provisionedThroughputExceeded = "ProvisionedThroughputExceededException"
        case validation = "ValidationException"
        case serialization = "SerializationException"
        case unknownOperation = "UnknownOperationException"
        case internalFailure = "InternalFailure"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static func streamNotFound(_ name: String, account: String) -> StreamError {
        StreamError(.resourceNotFound, "Stream \(name) under account \(account) not found.")
    }

    static func shardNotFound(_ shardID: String, stream: String, account: String) -> StreamError {
        StreamError(.resourceNotFound, "Shard \(shardID) in stream \(stream) under account \(account) does not exist")
    }

    /// The wording of Kinesis's model validation ("1 validation error detected: ...").
    static func constraint(_ value: Any, _ member: String, _ rule: String) -> StreamError {
        StreamError(
            .validation,
            "1 validation error detected: Value '\(value)' at '\(member)' failed to satisfy constraint: Member must \(rule)")
    }

    static func missing(_ member: String) -> StreamError {
        StreamError(
            .validation,
            "1 validation error detected: Value null at '\(member)' failed to satisfy constraint: Member must not be null")
    }
}
