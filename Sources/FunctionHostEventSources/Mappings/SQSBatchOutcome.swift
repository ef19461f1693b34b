import Foundation
import FunctionHostCore

/// What an SQS mapping does with a batch once the function answered (spec 2.4, 2.5): delete it
/// all, keep some messages for another try, or keep it all.
///
/// Pure. A function error keeps the whole batch. Without `ReportBatchItemFailures` the response is
/// ignored and success deletes everything. With it: `{"batchItemFailures": [...]}` lists the
/// message ids to keep; an empty or null list, `{}`, `null` or an empty body mean all succeeded;
/// anything else (not JSON, a non-object, an item without a non-empty string `itemIdentifier`,
/// an id not in the batch) fails the whole batch, as on Lambda.
public enum SQSBatchOutcome: Sendable, Hashable {
    case succeeded
    /// These message ids stay on the queue; the rest are deleted.
    case partiallyFailed(Set<String>)
    /// Nothing is deleted; `reason` is logged.
    case failed(reason: String)

    public static func decide(
        functionError: String?, payload: Data, messageIDs: [String], reportBatchItemFailures: Bool
    ) -> Self {
        if let functionError { return .failed(reason: "the function failed (\(functionError))") }
        guard reportBatchItemFailures else { return .succeeded }
        if payload.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .succeeded }
        guard let response = JSONValue(parsing: payload) else {
            return .failed(reason: "the partial batch response is not JSON")
        }
        let failures: [JSONValue]
        switch response {
        case .null: return .succeeded
        case .object(let members):
            switch members["batchItemFailures"] {
            case nil, .null?: return .succeeded
            case .array(let items)?: failures = items
            default: return .failed(reason: "batchItemFailures is not a list")
            }
        default: return .failed(reason: "the partial batch response is not a JSON object")
        }
        let known = Set(messageIDs)
        var failed: Set<String> = []
        for item in failures {
            guard case .string(let id)? = item["itemIdentifier"], !id.isEmpty else {
                return .failed(reason: "a batchItemFailures entry has no itemIdentifier")
            }
            guard known.contains(id) else {
                return .failed(reason: "itemIdentifier \(id) is not a message of the batch")
            }
            failed.insert(id)
        }
        return failed.isEmpty ? .succeeded : .partiallyFailed(failed)
    }
}
