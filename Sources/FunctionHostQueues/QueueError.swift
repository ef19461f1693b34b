/// Every failure of the embedded queue: an SQS error code and a message.
///
/// The SQS endpoint turns it into the JSON error shape (`__type`, `x-amzn-query-error`, status);
/// ``QueueSender`` callers see it as a plain error.
public struct QueueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The SQS error codes the engine raises.
    public enum Code: String, Sendable, Hashable {
        case queueDoesNotExist = "QueueDoesNotExist"
        case queueNameExists = "QueueNameExists"
        case invalidParameterValue = "InvalidParameterValueException"
        case missingParameter = "MissingRequiredParameterException"
        case invalidAttributeName = "InvalidAttributeName"
        case invalidAttributeValue = "InvalidAttributeValue"
        case invalidMessageContents = "InvalidMessageContents"
        case receiptHandleIsInvalid = "ReceiptHandleIsInvalid"
        case messageNotInflight = "MessageNotInflight"
        case purgeQueueInProgress = "PurgeQueueInProgress"
        case emptyBatchRequest = "EmptyBatchRequest"
        case tooManyEntriesInBatchRequest = "TooManyEntriesInBatchRequest"
        case batchEntryIdsNotDistinct = "BatchEntryIdsNotDistinct"
        case batchRequestTooLong = "BatchRequestTooLong"
        case invalidBatchEntryId = "InvalidBatchEntryId"
        case unsupportedOperation = "UnsupportedOperation"
        case invalidAddress = "InvalidAddress"
        case internalError = "InternalError"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static let noQueue = QueueError(.queueDoesNotExist, "The specified queue does not exist.")

    static func invalidValue(_ value: Any, _ parameter: String, _ reason: String) -> QueueError {
        QueueError(.invalidParameterValue, "Value \(value) for parameter \(parameter) is invalid. Reason: \(reason)")
    }

    static func missing(_ parameter: String) -> QueueError {
        QueueError(.missingParameter, "The request must contain the parameter \(parameter).")
    }
}
