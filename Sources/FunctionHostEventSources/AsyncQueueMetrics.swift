import CoreMetrics
import Metrics

/// The async queue's metrics per function, made once with bounded dimensions (function name,
/// failure condition, destination kind, outcome; never a request id).
struct AsyncQueueMetrics: Sendable {
    enum Name {
        static let depth = "fnhost_async_queue_depth"
        static let oldestAge = "fnhost_async_oldest_event_age_seconds"
        static let retries = "fnhost_async_retries_total"
        static let failures = "fnhost_async_failures_total"
        static let deadLetters = "fnhost_async_dead_letter_messages_total"
        static let deliveries = "fnhost_async_destination_deliveries_total"
    }

    /// Events accepted and not finished (queued, waiting for a retry, or running).
    let depth: Meter
    /// Age in seconds of the oldest unfinished event (0 when none).
    let oldestAge: Meter
    let retries: Counter
    /// Events given up, by condition.
    let failures: [AsyncRetryPolicy.FailureCondition: Counter]
    let deadLettersSent: Counter
    let deadLettersFailed: Counter
    private let deliveries: [String: Counter]

    init(functionName: String, factory: any MetricsFactory) {
        let function = [("function_name", functionName)]
        depth = Meter(label: Name.depth, dimensions: function, factory: factory)
        oldestAge = Meter(label: Name.oldestAge, dimensions: function, factory: factory)
        retries = Counter(label: Name.retries, dimensions: function, factory: factory)
        failures = Dictionary(
            uniqueKeysWithValues: AsyncRetryPolicy.FailureCondition.allCases.map { condition in
                (condition, Counter(label: Name.failures, dimensions: function + [("condition", condition.rawValue)], factory: factory))
            })
        deadLettersSent = Counter(label: Name.deadLetters, dimensions: function + [("outcome", "sent")], factory: factory)
        deadLettersFailed = Counter(
            label: Name.deadLetters, dimensions: function + [("outcome", "failed")], factory: factory)
        var deliveries: [String: Counter] = [:]
        for destination in ["on_success", "on_failure"] {
            for outcome in ["delivered", "failed"] {
                deliveries["\(destination)/\(outcome)"] = Counter(
                    label: Name.deliveries,
                    dimensions: function + [("destination", destination), ("outcome", outcome)], factory: factory)
            }
        }
        self.deliveries = deliveries
        depth.set(0)
        oldestAge.set(0)
    }

    func failed(_ condition: AsyncRetryPolicy.FailureCondition) {
        failures[condition]?.increment()
    }

    func delivery(onSuccess: Bool, delivered: Bool) {
        deliveries["\(onSuccess ? "on_success" : "on_failure")/\(delivered ? "delivered" : "failed")"]?.increment()
    }
}
