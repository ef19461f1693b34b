import Metrics

/// One SQS mapping's metrics, labelled by function and mapping UUID (bounded: one set per mapping).
struct SQSMappingMetrics: Sendable {
    let received: Counter
    let filtered: Counter
    let batches: Counter
    let failedBatches: Counter
    let retried: Counter
    let redriveBound: Counter
    let throttled: Counter
    let backlog: Gauge
    let pollers: Meter

    init(functionName: String, uuid: String, factory: any MetricsFactory) {
        let dimensions = [("function_name", functionName), ("mapping_uuid", uuid)]
        func counter(_ label: String) -> Counter { Counter(label: label, dimensions: dimensions, factory: factory) }
        received = counter("fnhost_esm_messages_received_total")
        filtered = counter("fnhost_esm_messages_filtered_total")
        batches = counter("fnhost_esm_batches_invoked_total")
        failedBatches = counter("fnhost_esm_batches_failed_total")
        retried = counter("fnhost_esm_messages_retried_total")
        redriveBound = counter("fnhost_esm_messages_redriven_total")
        throttled = counter("fnhost_esm_batches_throttled_total")
        backlog = Gauge(label: "fnhost_esm_queue_backlog", dimensions: dimensions, factory: factory)
        pollers = Meter(label: "fnhost_esm_pollers", dimensions: dimensions, factory: factory)
    }
}
