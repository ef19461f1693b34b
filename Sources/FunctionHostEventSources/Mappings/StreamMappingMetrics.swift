import Metrics

/// One stream mapping's metrics, labelled by function and mapping UUID (bounded: one set per mapping).
struct StreamMappingMetrics: Sendable {
    let received: Counter
    /// Records in batches the function accepted (checkpointed past).
    let delivered: Counter
    let batches: Counter
    let failedBatches: Counter
    let retried: Counter
    let bisected: Counter
    let discarded: Counter
    /// Records no `FilterCriteria` pattern matched (checkpointed past, never delivered).
    let filtered: Counter
    /// `IteratorAge`: the age (host clock, ms) of the last record of the latest invoked batch when it was invoked.
    let iteratorAge: Gauge

    init(functionName: String, uuid: String, factory: any MetricsFactory) {
        let dimensions = [("function_name", functionName), ("mapping_uuid", uuid)]
        func counter(_ label: String) -> Counter { Counter(label: label, dimensions: dimensions, factory: factory) }
        received = counter("fnhost_esm_records_received_total")
        delivered = counter("fnhost_esm_records_delivered_total")
        batches = counter("fnhost_esm_stream_batches_invoked_total")
        failedBatches = counter("fnhost_esm_stream_batches_failed_total")
        retried = counter("fnhost_esm_stream_batches_retried_total")
        bisected = counter("fnhost_esm_stream_batches_bisected_total")
        discarded = counter("fnhost_esm_records_discarded_total")
        filtered = counter("fnhost_esm_records_filtered_total")
        iteratorAge = Gauge(label: "fnhost_esm_iterator_age_milliseconds", dimensions: dimensions, factory: factory)
    }
}
